"""How a harvester kind declares its options: one pydantic model per kind, checked twice.

Each kind module declares `class Options(KindOptions)`: every option's name, its type,
and the checks that need no other option (ranges, fixed choices, non-empty strings).
The one declaration is used

- when the config loads (`option_problems(..., defer_secrets=True)`): a secret written
  `{ env = "NAME" }` is accepted wherever a string is, since it is resolved only later;
- when the source runs (`declared(...)`): the harvester gets the typed model back.

What depends on several options or on the place (a path or a URL, the format from the
file's extension, regexes, selectors, JSONPath) stays in the kind's `parse_options`,
which reads the typed model instead of the raw table.

Problems are `(key, problem)` pairs, e.g. `("options.delimter", "is not an option of
kind `files`; did you mean `delimiter`? known options: ...")`: the config reports it as
`sources.X.options.delimter: ...`, a harvest error as `options.delimter is not ...`.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from hub.errors import HarvestError

__all__ = [
    "AcceptsSecret",
    "Allowed",
    "KindOptions",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "Seconds",
    "Text",
    "TextList",
    "declared",
    "is_secret_ref",
    "option_problems",
]

DEFER_SECRETS = "defer_secrets"
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Allowed:
    """What a type allows, in words, for messages: `Annotated[int, Allowed("...")]`."""

    text: str


def is_secret_ref(value: Any) -> bool:
    """Whether `value` is a secret written as `{ env = "NAME" }`."""
    return isinstance(value, Mapping) and set(value) == {"env"} and isinstance(value["env"], str)


def _secret_or(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    # At config load a `{ env = "NAME" }` stands for a string not known yet: accept it as
    # is. When the source runs, secrets are resolved and this is a plain string check.
    if is_secret_ref(value) and info.context and info.context.get(DEFER_SECRETS):
        return value
    return handler(value)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "blank string")
    return value


AcceptsSecret = WrapValidator(_secret_or)
"""Put last in an `Annotated[str, ...]`: a `{ env = "NAME" }` passes at config load."""
Text = Annotated[str, AfterValidator(_not_blank), AcceptsSecret, Allowed("a non-empty string")]
"""A non-empty string; a `{ env = "NAME" }` secret is accepted for it at config load."""
TextList = Annotated[list[Text] | Text, Allowed("a non-empty string or a list of them")]
PositiveInt = Annotated[int, Field(gt=0), Allowed("a positive whole number")]
NonNegativeInt = Annotated[int, Field(ge=0), Allowed("a whole number >= 0")]
PositiveFloat = Annotated[float, Field(gt=0), Allowed("a positive number")]
NonNegativeFloat = Annotated[float, Field(ge=0), Allowed("a number >= 0")]
Seconds = Annotated[float, Field(gt=0), Allowed("a positive number of seconds")]


class KindOptions(BaseModel):
    """Base of every kind's option declaration: unknown names refused, types strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- turning pydantic's errors into the hub's messages ----------------------------------


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any, meta: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """Strip Annotated (keeping its metadata) and `| None`."""
    while True:
        if get_origin(tp) is Annotated:
            args = get_args(tp)
            tp, meta = args[0], (*meta, *args[1:])
        elif get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, meta
            tp = members[0]
        else:
            return tp, meta


def _members(tp: Any) -> list[Any]:
    """The models of a union of models (a discriminated union), else []."""
    if get_origin(tp) not in (Union, types.UnionType):
        return []
    found = [_unwrap(a, ())[0] for a in get_args(tp) if a is not type(None)]
    return found if all(_is_model(m) for m in found) else []


def _tag_of(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    return get_args(field.annotation)[0]


def allowed(tp: Any, meta: tuple[Any, ...] = ()) -> str:
    """What the type `tp` allows, in words ("a positive whole number", "true or false")."""
    for item in meta:
        if isinstance(item, Allowed):
            return item.text
    if get_origin(tp) is Annotated:
        args = get_args(tp)
        return allowed(args[0], (*meta, *args[1:]))
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        words = [allowed(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join(dict.fromkeys(words))
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(tp))
    if origin is list:
        return f"a list, each {allowed(get_args(tp)[0])}"
    if origin in (dict, Mapping):
        return f"a table, each value {allowed(get_args(tp)[1])}"
    if _is_model(tp):
        return f"a table with keys {', '.join(tp.model_fields)}"
    names = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}
    return names.get(tp, "any value") if isinstance(tp, type) else "a value"


@dataclass
class _Spot:
    """Where an error's loc lands: the user's keys, the value there, and its type."""

    keys: list[str]
    value: Any
    tp: Any
    meta: tuple[Any, ...] = ()
    hint: str | None = None
    tag: Any = None


def _locate(model: type[BaseModel], data: Any, loc: tuple[Any, ...]) -> _Spot:
    spot = _Spot([], data, model)
    for part in loc:
        tp, meta = _unwrap(spot.tp, spot.meta)
        value = spot.value
        has_key = isinstance(value, Mapping) and isinstance(part, str) and part in value
        if _is_model(tp) and has_key and part in tp.model_fields:
            field = tp.model_fields[part]
            spot = _Spot(
                [*spot.keys, part],
                value[part],
                field.annotation,
                tuple(field.metadata),
                field.description,
            )
            continue
        members = _members(tp)
        chosen = [m for m in members if _tag_of(m) == part]
        if chosen:
            spot = _Spot(spot.keys, value, chosen[0], (), spot.hint, part)
            continue
        if get_origin(tp) in (dict, Mapping) and has_key:
            spot = _Spot([*spot.keys, part], value[part], get_args(tp)[1])
            continue
        break  # a list index or a union member's name: report the whole value
    return spot


def _where(kind: str, spot: _Spot) -> str:
    if not spot.keys:
        return f"kind `{kind}`"
    if spot.tag is not None:
        return f"{spot.keys[-1]} type `{spot.tag}`"
    return f"`options.{'.'.join(spot.keys)}`"


def _problem(kind: str, model: type[BaseModel], data: Any, err: Any) -> tuple[str, str]:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        spot = _locate(model, data, loc[:-1])
        name = str(loc[-1])
        tp, _ = _unwrap(spot.tp, spot.meta)
        known = sorted(tp.model_fields) if _is_model(tp) else []
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return ".".join([*spot.keys, name]), (
            f"is not an option of {_where(kind, spot)}; {hint}known options: {', '.join(known)}"
        )
    spot = _locate(model, data, loc)
    key = ".".join(spot.keys)
    what = allowed(spot.tp, spot.meta)
    if spot.hint:
        what = f"{what} ({spot.hint})"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found") and isinstance(
        spot.value, Mapping
    ):
        name = "type"  # every union of tables here is told apart by its `type`
        tags = ", ".join(f"`{_tag_of(m)}`" for m in _members(_unwrap(spot.tp, spot.meta)[0]))
        got = spot.value.get(name)
        problem = "is required" if got is None else f"must be one of {tags}, not {got!r}"
        if got is None:
            problem += f": one of {tags}"
        return f"{key}.{name}" if key else name, problem
    if err["type"] == "missing":
        name = str(loc[-1])
        inner = _locate(model, data, loc[:-1])
        tp, _ = _unwrap(inner.tp, inner.meta)
        if _is_model(tp) and name in tp.model_fields:
            field = tp.model_fields[name]
            what = allowed(field.annotation, tuple(field.metadata))
            if field.description:
                what = f"{what} ({field.description})"
        return ".".join([*inner.keys, name]), f"is required: give {what}"
    if err["type"] == "value_error":  # a validator's own words
        return key, str(err["msg"]).removeprefix("Value error, ")
    return key, f"must be {what}, not {spot.value!r}"


def option_problems(
    kind: str,
    model: type[BaseModel],
    options: Mapping[str, Any],
    *,
    defer_secrets: bool = False,
) -> list[tuple[str, str]]:
    """The problems of `options` against the kind's declaration: (`options.<key>`, problem)."""
    try:
        model.model_validate(dict(options), context={DEFER_SECRETS: defer_secrets})
    except ValidationError as exc:
        found: dict[str, str] = {}
        # a misspelt name first: it is why the right one seems missing
        errors = sorted(exc.errors(), key=lambda err: err["type"] != "extra_forbidden")
        for err in errors:
            key, problem = _problem(kind, model, options, err)
            # a union gives one error per member: keep the first
            found.setdefault(".".join(filter(None, ("options", key))), problem)
        return list(found.items())
    return []


def declared(source_id: str, kind: str, model: type[Model], options: Mapping[str, Any]) -> Model:
    """The options as the kind's typed model, or a HarvestError naming every bad one."""
    try:
        return model.model_validate(dict(options))
    except ValidationError:
        problems = option_problems(kind, model, options)
    raise HarvestError(source_id, "; ".join(f"{key} {problem}" for key, problem in problems))
