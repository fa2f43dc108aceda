"""Read a YARRRML mapping file (the hub's subset) and compile it, or say file and line why not.

The subset (docs/mappings.md): `prefixes`, `base`, `external`, `authors`; `sources` at
the top level and per mapping (`[file.csv~csv]`, `[data.json~jsonpath, $.items[*]]`,
or access / referenceFormulation / iterator), which say how the harvested records are
iterated; `mappings` with `s` (IRI templates or a function), `condition`, and `po`
entries in short or long form: literals with a datatype or language (constant or from
the data), IRIs, functions (GREL, IDLab, the hub's), conditions, and references to other
mappings with join conditions. Anything else is refused here, before a run.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from hub.errors import MappingError
from hub.iris import PREFIXES, RDF, SCHEMA, SCHEMA_OTHER_SPELLING, Iris
from hub.mapping.functions import (
    BARE_NAMES,
    FUNCTION_PREFIXES,
    FUNCTIONS,
    IDLAB_OLD,
    Function,
    make_select,
)
from hub.mapping.model import (
    FunctionCall,
    JoinCondition,
    LogicalSource,
    Mapping,
    Part,
    PredicateObjectMap,
    Reference,
    RefObjectMap,
    TermMap,
    TriplesMap,
)
from hub.mapping.terms import (
    LANGUAGE_TAG,
    coerce_lexical,
    datatype_problem,
    is_absolute_iri,
)
from hub.mapping.values import part_values
from hub.mapping.yamlines import LineDict, LineList, line_of, load_with_lines
from hub.util.jsonpath import compile_path

_ALIASES = {
    "mappings": ("mappings", "mapping", "m"),
    "sources": ("sources", "source"),
    "subject": ("s", "subjects", "subject"),
    "po": ("po", "predicateobjects", "predicateobject"),
    "p": ("p", "predicates", "predicate"),
    "o": ("o", "objects", "object"),
    "value": ("value", "v"),
    "function": ("function", "fn", "f"),
    "parameters": ("parameters", "pms"),
    "parameter": ("parameter", "pm"),
    "condition": ("condition",),
    "authors": ("authors", "author", "a"),
}
_MAPPING_KEYS = {k for n in ("sources", "subject", "po", "condition") for k in _ALIASES[n]}
_TOP_KEYS = {"prefixes", "base", "external", "sources", "source"} | set(_ALIASES["mappings"])
_TOP_KEYS |= set(_ALIASES["authors"])
_OBJECT_KEYS = {"value", "v", "datatype", "language", "type", "condition", "mapping"}
_OBJECT_KEYS |= set(_ALIASES["function"]) | set(_ALIASES["parameters"])
_PO_KEYS = set(_ALIASES["p"]) | set(_ALIASES["o"]) | {"datatype", "language", "type", "condition"}

_GRAPH_KEYS = ("graphs", "graph", "g")
_INVERSE_KEYS = ("inversepredicates", "inversepredicate", "i")
_REFUSED = {
    **{
        key: "named graphs are not supported: the hub publishes each source to its own named "
        "graph (BASE/graph/<source>), so a mapping does not choose one; remove `{key}:` (to "
        "keep data apart, make it a separate source in hub.toml)"
        for key in _GRAPH_KEYS
    },
    **{
        key: "inverse predicates are not supported; write the triple the other way round in "
        "the mapping of the object (e.g. `[schema:subjectOf, id:$(id)~iri]`)"
        for key in _INVERSE_KEYS
    },
    "targets": "`targets:` is not supported: the hub writes every triple to the source's "
    "graph in its store; remove it",
}
_SOURCE_KEYS = {"access", "referenceFormulation", "iterator"}
_SOURCE_REFUSED = {
    **{
        key: "the hub reads a source through its harvester: put the query, the connection "
        "and the credentials in hub.toml ([sources.<id>] kind and options), not in the mapping"
        for key in ("query", "queryFormulation", "type", "credentials", "table", "security")
    },
    **{
        key: f"set `options.{key}` of the source in hub.toml; the harvester reads the file"
        for key in ("delimiter", "encoding")
    },
    **{
        key: "the hub reads a source through its harvester (hub.toml); remove it"
        for key in ("contentType", "operationType")
    },
}
_FORMULATIONS = {"csv": "csv", "jsonpath": "jsonpath"}
_INLINE_CALL = re.compile(r"^\s*([A-Za-z][\w.-]*(?::[\w.~-]+)?)\s*\((.*)\)\s*$", re.DOTALL)


def _pick(container: LineDict, name: str) -> tuple[str | None, Any]:
    for alias in _ALIASES[name]:
        if alias in container:
            return alias, container[alias]
    return None, None


def _merge_text(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out


def _split_top(text: str, separator: str) -> list[str]:
    """Split at `separator` outside quotes and brackets (for one-line function calls)."""
    pieces, depth, quote, start = [], 0, "", 0
    for pos, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append(text[start:pos])
            start = pos + 1
    pieces.append(text[start:])
    return pieces


class _Compiler:
    def __init__(self, file: str, source_id: str, iris: Iris) -> None:
        self.file = file
        self.prefixes = dict(PREFIXES)
        self.prefixes.update(FUNCTION_PREFIXES)
        self.prefixes.update(
            {
                "id": iris.entity_prefix(source_id),
                "hubid": f"{iris.base}id/",
                "programme": iris.programme_base,
            }
        )
        self.external: dict[str, str] = {}
        self.sources: dict[str, LogicalSource] = {}

    def fail(self, line: int | None, message: str) -> MappingError:
        return MappingError(self.file, line, message)

    def refuse_keys(self, container: Any, line: int, where: str) -> None:
        """Refuse the YARRRML keys the hub does not run (graphs, targets, …) with a hint."""
        if not isinstance(container, dict):
            return
        for key in container:
            if key in _REFUSED:
                raise self.fail(line_of(container, key, line), _REFUSED[key].format(key=key))

    # -- names -------------------------------------------------------------
    def expand(self, text: str, line: int) -> str:
        """Expand a CURIE; full IRIs pass; unknown prefixes fail with a suggestion."""
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        if ":" not in text:
            raise self.fail(line, f"`{text}` is neither a prefixed name (prefix:name) nor an IRI")
        prefix, local = text.split(":", 1)
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        if local.startswith("//") or prefix in ("urn", "mailto", "tag"):
            return text
        hint = difflib.get_close_matches(prefix, list(self.prefixes), n=1)
        suggestion = f" (did you mean `{hint[0]}:`?)" if hint else ""
        raise self.fail(
            line,
            f"unknown prefix `{prefix}:` in `{text}`{suggestion}; declare it under `prefixes:`",
        )

    def template(self, text: str, line: int) -> list[Part]:
        parts: list[Part] = []
        pos = 0
        while True:
            start = text.find("$(", pos)
            if start < 0:
                if pos < len(text):
                    parts.append(text[pos:])
                return _merge_text(parts)
            end = text.find(")", start)
            if end < 0:
                raise self.fail(line, f"`{text}`: a reference `$(` is not closed with `)`")
            if start > pos:
                parts.append(text[pos:start])
            path = text[start + 2 : end].strip()
            if not path:
                raise self.fail(line, f"`{text}`: empty reference `$()`")
            pos = end + 1
            if path.startswith("_") and path[1:] in self.external:
                parts.append(self.external[path[1:]])  # YARRRML external reference
                continue
            if path.startswith("\\_"):
                path = path[1:]  # `$(\_name)`: the field `_name`, not the external one
            try:
                select = compile_path(path)
            except ValueError as exc:
                raise self.fail(line, str(exc)) from None
            parts.append(Reference(path=path, select=select, line=line))

    def iri_term(self, text: str, line: int) -> TermMap:
        parts = self.template(text, line)
        if len(parts) == 1 and isinstance(parts[0], str):
            return TermMap(kind="iri", line=line, constant=self.expand(parts[0], line))
        if isinstance(parts[0], str):
            head = parts[0]
            if ":" in head and not head.startswith(("http:", "https:", "urn:")):
                prefix, rest = head.split(":", 1)
                # urn:, mailto:, tag: pass through expand; unknown prefixes raise there
                known = prefix in self.prefixes
                head = self.prefixes[prefix] + rest if known else self.expand(head, line)
            if not is_absolute_iri(head + "x"):
                raise self.fail(line, f"`{text}` does not start with an absolute IRI or a prefix")
            parts[0] = head
        elif len(parts) > 1:
            raise self.fail(
                line,
                f"`{text}`: an IRI template must start with a prefix or an IRI, not a reference",
            )
        return TermMap(kind="iri", line=line, parts=parts)

    # -- datatypes and languages -------------------------------------------
    def datatype(self, text: Any, line: int) -> tuple[str | None, list[Part] | None]:
        """A constant datatype IRI (checked), or the template of a datatype from the data."""
        text = str(text)
        if "$(" in text:
            return None, self.template(text, line)
        iri = self.expand(text, line)
        problem = datatype_problem(iri)
        if problem:
            raise self.fail(line, problem)
        return iri, None

    def language(self, text: Any, line: int) -> tuple[str | None, list[Part] | None]:
        """A constant language tag (checked, BCP 47), or the template of one from the data."""
        text = str(text)
        if "$(" in text:
            return None, self.template(text, line)
        if not LANGUAGE_TAG.match(text):
            raise self.fail(
                line,
                f"`{text}` is not a language tag (e.g. it, fr, en, co, sc, en-GB: BCP 47)",
            )
        return text, None

    def literal_term(
        self,
        value: Any,
        line: int,
        datatype: Any = None,
        language: Any = None,
        key_lines: dict[str, int] | None = None,
    ) -> TermMap:
        if datatype is not None and language is not None:
            raise self.fail(line, "a literal has a datatype or a language, not both")
        parts = value if isinstance(value, list) else self.template(str(value), line)
        term = TermMap(kind="literal", line=line)
        lines = key_lines or {}
        if datatype is not None:
            term.datatype_line = lines.get("datatype", line)
            term.datatype, term.datatype_parts = self.datatype(datatype, term.datatype_line)
        if language is not None:
            term.language_line = lines.get("language", line)
            term.language, term.language_parts = self.language(language, term.language_line)
        if len(parts) == 1 and isinstance(parts[0], str):
            term.constant = parts[0]
            if term.datatype:
                try:
                    term.constant = coerce_lexical(parts[0], term.datatype)
                except ValueError as exc:
                    raise self.fail(line, str(exc)) from None
        else:
            term.parts = parts
        return term

    # -- functions and conditions ------------------------------------------
    def resolve_function(self, name: str, line: int) -> Function:
        name = name.strip()
        if ":" not in name and name in BARE_NAMES:
            return BARE_NAMES[name]
        iri = self.expand(name, line) if ":" in name else name
        function = FUNCTIONS.get(iri)
        if function is None:
            local = re.split(r"[#/:]", name)[-1]
            names = sorted({f.short for f in FUNCTIONS.values()})
            hint = [f for f in names if f.split(":")[-1] == local] or difflib.get_close_matches(
                name, names, n=1
            )
            suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
            raise self.fail(
                line,
                f"unknown function `{name}`{suggestion}; the hub runs {', '.join(names)} "
                "(see docs/mappings.md)",
            )
        return function

    def is_inline_call(self, text: str) -> bool:
        match = _INLINE_CALL.match(text)
        if not match:
            return False
        name = match.group(1)
        if ":" not in name:
            return name in BARE_NAMES
        prefix = name.split(":", 1)[0]
        # a name in a function namespace is a call, even a misspelt one (refused by name)
        return prefix in self.prefixes and self.prefixes[prefix].startswith(_FUNCTION_NAMESPACES)

    def argument(self, value: Any, line: int) -> Any:
        """A parameter value: a node -> values function (template, reference, function)."""
        if isinstance(value, dict):
            return [self.function_term(value, line)]
        if isinstance(value, list):
            items = [self.argument(v, line) for v in value]
            return [p for item in items for p in (item if isinstance(item, list) else [item])]
        text = "" if value is None else str(value)
        if self.is_inline_call(text):
            return [self.inline_call(text, line)]
        head = text.split("$(", 1)[0]
        if ":" in head and not head.startswith(("http:", "https:")):
            prefix, rest = head.split(":", 1)
            if prefix in self.prefixes and not rest.startswith("//"):
                text = self.prefixes[prefix] + text[len(prefix) + 1 :]
        return self.template(text, line)

    def parameter(self, function: Function, name: str, position: int, line: int) -> int:
        """The index of parameter `name` of `function` (str1/str2: the first/second)."""
        params = function.params
        match = re.fullmatch(r"str(\d)", name)
        if match and 1 <= int(match.group(1)) <= len(params):
            return int(match.group(1)) - 1
        iri = self.expand(name, line) if ":" in name else None
        for index, param in enumerate(params):
            if param.iri == iri or param.local == name.split(":")[-1]:
                return index
        known = ", ".join(_short_param(p.iri) for p in params)
        raise self.fail(
            line, f"function `{function.short}` has no parameter `{name}`; its parameters: {known}"
        )

    def call(
        self, function: Function, given: list[tuple[str | None, Any]], path: str, line: int
    ) -> FunctionCall:
        slots: list[Any] = [None] * len(function.params)
        filled = [False] * len(function.params)
        for position, (name, raw) in enumerate(given):
            if name is None:
                if position >= len(slots):
                    raise self.fail(
                        line, f"`{path}`: `{function.short}` takes {len(slots)} parameter(s)"
                    )
                index = position
            else:
                index = self.parameter(function, name, position, line)
            if filled[index]:
                name = _short_param(function.params[index].iri)
                raise self.fail(line, f"`{path}`: parameter `{name}` is given twice")
            filled[index] = True
            param = function.params[index]
            if param.constant:
                if not isinstance(raw, dict):
                    raise self.fail(line, f"`{path}`: `{_short_param(param.iri)}` takes a map")
                slots[index] = {str(k): str(v) for k, v in raw.items()}
            else:
                slots[index] = self.argument(raw, line)
        for param, done in zip(function.params, filled, strict=True):
            if not done and not param.optional and not function.tests_missing:
                raise self.fail(
                    line, f"`{path}`: `{function.short}` needs `{_short_param(param.iri)}`"
                )
        arguments = [s for s in slots if s is not None and not isinstance(s, dict)]
        evaluators = [s if isinstance(s, dict) or s is None else _evaluator(s) for s in slots]
        return FunctionCall(
            function=function.iri,
            path=path,
            line=line,
            select=make_select(function, evaluators, path, line),
            arguments=arguments,
        )

    def inline_call(self, text: str, line: int) -> FunctionCall:
        match = _INLINE_CALL.match(text)
        assert match is not None
        function = self.resolve_function(match.group(1), line)
        given: list[tuple[str | None, Any]] = []
        inner = match.group(2).strip()
        for piece in _split_top(inner, ",") if inner else []:
            named = _split_top(piece, "=")
            name, value = (
                (named[0].strip(), "=".join(named[1:]).strip())
                if len(named) > 1
                else (
                    None,
                    piece.strip(),
                )
            )
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                given.append((name, [value[1:-1]]))
            else:
                given.append((name, value))
        return self.call(function, given, text.strip(), line)

    def function_term(self, spec: Any, line: int) -> FunctionCall:
        """`{function: f, parameters: [...]}` or `{function: f(a = $(x))}`."""
        f_key, name = _pick(spec, "function")
        p_key, params = _pick(spec, "parameters")
        line = line_of(spec, f_key, line) if f_key else line
        if not isinstance(name, str):
            raise self.fail(line, "`function:` names a function, e.g. grel:toUpperCase")
        if self.is_inline_call(name) or "(" in name:
            if params is not None:
                raise self.fail(line, f"`{name}` has its parameters inline; remove `parameters:`")
            return self.inline_call(name, line)
        function = self.resolve_function(name, line)
        given: list[tuple[str | None, Any]] = []
        if params is not None and not isinstance(params, list):
            raise self.fail(line_of(spec, p_key, line), "`parameters:` must be a list")
        for index, entry in enumerate(params or []):
            entry_line = line_of(params, index, line)
            if isinstance(entry, list) and len(entry) in (2, 3):
                given.append((str(entry[0]), entry[1]))
            elif isinstance(entry, dict):
                _, pname = _pick(entry, "parameter")
                _, pvalue = _pick(entry, "value")
                if pname is None:
                    raise self.fail(entry_line, "a parameter needs `parameter:` and `value:`")
                given.append((str(pname), pvalue))
            else:
                raise self.fail(
                    entry_line, "a parameter is [name, value] or {parameter: name, value: v}"
                )
        return self.call(function, given, f"{function.short}(…)", line)

    def conditions(self, spec: Any, line: int) -> list[FunctionCall]:
        items = spec if isinstance(spec, list) else [spec]
        calls = []
        for index, item in enumerate(items):
            item_line = line_of(spec, index, line) if isinstance(spec, list) else line
            if not isinstance(item, dict):
                raise self.fail(item_line, "a `condition:` is a function with `parameters:`")
            calls.append(self.function_term(item, item_line))
        return calls

    def joins(self, spec: Any, line: int) -> list[JoinCondition]:
        items = spec if isinstance(spec, list) else [spec]
        joins = []
        for index, item in enumerate(items):
            item_line = line_of(spec, index, line) if isinstance(spec, list) else line
            hint = (
                "a join condition is `function: equal` with parameters "
                "[str1, $(child field)] and [str2, $(parent field)]"
            )
            if not isinstance(item, dict):
                raise self.fail(item_line, hint)
            f_key, name = _pick(item, "function")
            _, params = _pick(item, "parameters")
            item_line = line_of(item, f_key, item_line) if f_key else item_line
            function = self.resolve_function(str(name), item_line) if name else None
            if function is None or function.iri != FUNCTIONS[_IDLAB_EQUAL].iri:
                raise self.fail(item_line, f"`{name}`: {hint}")
            if not isinstance(params, list) or len(params) != 2:
                raise self.fail(item_line, hint)
            sides: dict[str, list[Part]] = {}
            for position, entry in enumerate(params):
                if isinstance(entry, dict):
                    _, pname = _pick(entry, "parameter")
                    _, pvalue = _pick(entry, "value")
                    role = entry.get("from")
                    entry = [pname, pvalue] + ([role] if role else [])
                if not isinstance(entry, list) or len(entry) not in (2, 3):
                    raise self.fail(item_line, hint)
                role = str(entry[2]) if len(entry) == 3 else ("s" if position == 0 else "o")
                if role not in ("s", "o") or role in sides:
                    raise self.fail(
                        item_line,
                        f"the third item of a join parameter is `s` (the child, this mapping) or "
                        f"`o` (the parent, the other mapping), one of each; got `{role}`",
                    )
                sides[role] = self.template(str(entry[1]), item_line)
            joins.append(JoinCondition(child=sides["s"], parent=sides["o"], line=item_line))
        return joins

    # -- objects -----------------------------------------------------------
    def short_object(self, value: Any, extra: Any, line: int, defaults: dict) -> TermMap:
        if not isinstance(value, str):
            raise self.fail(line, f"object `{value}` must be text")
        if value.endswith("~blanknode"):
            raise self.fail(line, _BLANK)
        if value.endswith("~iri") or defaults.get("type") == "iri":
            if extra is not None or defaults.get("datatype") or defaults.get("language"):
                raise self.fail(line, "an IRI object (`~iri`) takes no datatype or language")
            text = value.removesuffix("~iri")
            if self.is_inline_call(text):
                return TermMap(kind="iri", line=line, parts=[self.inline_call(text, line)])
            return self.iri_term(text, line)
        value = value.removesuffix("~literal")
        datatype, language = defaults.get("datatype"), defaults.get("language")
        if extra is not None:
            if not isinstance(extra, str):
                raise self.fail(
                    line, f"`{extra}` must be a datatype (xsd:decimal) or a language (it~lang)"
                )
            if extra.endswith("~lang"):
                language = extra[: -len("~lang")]
            else:
                datatype = extra
        if self.is_inline_call(value):
            return self.literal_term([self.inline_call(value, line)], line, datatype, language)
        return self.literal_term(value, line, datatype, language)

    def long_object(self, obj: Any, line: int, defaults: dict) -> TermMap | RefObjectMap:
        if isinstance(obj, str):
            return self.short_object(obj, None, line, defaults)
        if isinstance(obj, list) and len(obj) == 2 and all(isinstance(x, str) for x in obj):
            return self.short_object(obj[0], obj[1], line, defaults)  # [value, xsd:T | xx~lang]
        if not isinstance(obj, dict):
            raise self.fail(line, "an object is text, [value, datatype] or a map with `value`")
        line = obj.line or line if isinstance(obj, LineDict) else line
        self.refuse_keys(obj, line, "o")
        unknown = set(obj) - _OBJECT_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise self.fail(
                line_of(obj, key, line),
                f"unknown key `{key}` in an object; use value, function, parameters, datatype, "
                "language, type, condition, or mapping (to link to another mapping)",
            )
        if "mapping" in obj:
            extra = set(obj) - {"mapping", "condition"}
            if extra:
                raise self.fail(
                    line, f"an object with `mapping:` takes only `condition:`, not {sorted(extra)}"
                )
            joins = (
                self.joins(obj["condition"], line_of(obj, "condition", line))
                if ("condition" in obj)
                else []
            )
            return RefObjectMap(parent=str(obj["mapping"]), line=line, joins=joins)
        kind = str(obj.get("type", defaults.get("type") or "literal"))
        if kind in ("blanknode", "blank"):
            raise self.fail(line, _BLANK)
        if kind not in ("iri", "literal"):
            raise self.fail(line, f"`type: {kind}` is not supported; use `iri` or `literal`")
        datatype = obj.get("datatype", defaults.get("datatype"))
        language = obj.get("language", defaults.get("language"))
        f_key, _ = _pick(obj, "function")
        v_key, value = _pick(obj, "value")
        if f_key is not None:
            if v_key is not None:
                raise self.fail(line, "an object has a `value` or a `function`, not both")
            parts: Any = [self.function_term(obj, line)]
        elif value is None:
            raise self.fail(line_of(obj, "value", line), "`o:` needs a `value` or a `function`")
        elif kind == "iri":
            parts = None
        else:
            parts = str(value)
        if kind == "iri":
            if datatype is not None or language is not None:
                raise self.fail(line, "an IRI object takes no datatype or language")
            term = (
                TermMap(kind="iri", line=line, parts=parts)
                if parts is not None
                else self.iri_term(str(value), line)
            )
        else:
            key_lines = {k: line_of(obj, k, line) for k in ("datatype", "language") if k in obj}
            term = self.literal_term(parts, line, datatype, language, key_lines)
        if "condition" in obj:
            term.condition = self.conditions(obj["condition"], line_of(obj, "condition", line))
        return term

    def predicate_object(self, entry: Any, line: int) -> PredicateObjectMap:
        condition = None
        if isinstance(entry, list):
            if len(entry) not in (2, 3):
                raise self.fail(
                    line,
                    "a `po` entry is [predicate, object] or "
                    f"[predicate, object, datatype|lang~lang]; got {len(entry)} items",
                )
            predicate, value = entry[0], entry[1]
            extra = entry[2] if len(entry) == 3 else None
            predicates = predicate if isinstance(predicate, list) else [predicate]
            if predicate == "a":
                if not isinstance(value, str | dict):
                    raise self.fail(line, "`a` takes a class, e.g. schema:Place")
                objects: list[TermMap | RefObjectMap] = [self.class_object(value, line, {})]
            else:
                values = value if isinstance(value, list) else [value]
                objects = [
                    self.short_object(v, extra, line, {})
                    if isinstance(v, str)
                    else self.long_object(v, line, {})
                    for v in values
                ]
        elif isinstance(entry, dict):
            self.refuse_keys(entry, line, "po")
            unknown = set(entry) - _PO_KEYS
            if unknown:
                key = sorted(unknown)[0]
                raise self.fail(
                    line_of(entry, key, line),
                    f"unknown key `{key}` in a `po` entry; use p, o, datatype, language, type, "
                    "condition",
                )
            p_key, predicate = _pick(entry, "p")
            o_key, obj = _pick(entry, "o")
            if p_key is None or o_key is None:
                raise self.fail(line, "a long-form `po` entry needs both `p:` and `o:`")
            predicates = predicate if isinstance(predicate, list) else [predicate]
            objs = obj if isinstance(obj, list) and not _is_pair(obj) else [obj]
            defaults = {k: entry[k] for k in ("datatype", "language", "type") if k in entry}
            if predicates == ["a"]:
                objects = [self.class_object(o, line, defaults) for o in objs]
            else:
                objects = [
                    self.long_object(o, line_of(obj, i, line), defaults) for i, o in enumerate(objs)
                ]
            if "condition" in entry:
                condition = self.conditions(entry["condition"], line_of(entry, "condition", line))
        else:
            raise self.fail(line, "a `po` entry must be a list [p, o] or a map with p: and o:")
        for p in predicates:
            if isinstance(p, str) and "$(" in p:
                raise self.fail(
                    line, f"`{p}`: a predicate is a constant (prefix:name), not a template"
                )
        iris = [RDF + "type" if p == "a" else self.expand(str(p), line) for p in predicates]
        return PredicateObjectMap(predicates=iris, objects=objects, line=line, condition=condition)

    def class_object(self, value: Any, line: int, defaults: dict[str, Any]) -> TermMap:
        """The object of `a` (rdf:type): a class name, or a long-form object that is an IRI."""
        if isinstance(value, dict):
            term = self.long_object(value, line, {"type": "iri", **defaults})
            if not isinstance(term, TermMap) or term.kind != "iri":
                raise self.fail(line, "`a` takes a class (an IRI), e.g. schema:Place")
            return term
        return self.iri_term(str(value).removesuffix("~iri"), line)

    # -- sources -----------------------------------------------------------
    def source(self, spec: Any, line: int, name: str | None = None) -> LogicalSource:
        """One source: `[access~csv]`, `[access~jsonpath, iterator]`, or the long form."""
        shape = "a source is [file.csv~csv], [data.json~jsonpath, '$.items[*]'] or a map with "
        shape += "access, referenceFormulation and iterator"
        if isinstance(spec, str):
            spec = [spec]
        if isinstance(spec, list):
            if not spec or len(spec) > 2 or not all(isinstance(x, str) for x in spec):
                raise self.fail(line, shape)
            access, tilde, formulation = spec[0].rpartition("~")
            if not tilde:
                access, formulation = spec[0], ""
            iterator = spec[1] if len(spec) == 2 else None
        elif isinstance(spec, dict):
            for key in spec:
                if key in _SOURCE_REFUSED:
                    raise self.fail(
                        line_of(spec, key, line), f"`{key}:` in a source: {_SOURCE_REFUSED[key]}"
                    )
                if key not in _SOURCE_KEYS:
                    hint = difflib.get_close_matches(key, sorted(_SOURCE_KEYS), n=1)
                    suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
                    raise self.fail(
                        line_of(spec, key, line),
                        f"unknown key `{key}` in a source{suggestion}; a source has access, "
                        "referenceFormulation and iterator",
                    )
            access = str(spec.get("access") or "")
            formulation = str(spec.get("referenceFormulation") or "")
            iterator = spec.get("iterator")
            iterator = None if iterator is None else str(iterator)
        else:
            raise self.fail(line, shape)
        formulation = re.split(r"[#/:]", formulation)[-1].lower()
        if not formulation:
            suffix = Path(access).suffix.lower()
            if suffix in (".csv", ".tsv"):
                formulation = "csv"
            elif suffix in (".json", ".geojson") or iterator is not None:
                formulation = "jsonpath"
            else:
                raise self.fail(
                    line, f"say how to read `{access}`: `{access}~csv` or `{access}~jsonpath`"
                )
        if formulation not in _FORMULATIONS:
            if formulation in ("xpath", "xquery"):
                raise self.fail(
                    line,
                    f"`{formulation}` sources are not supported: the hub's harvesters give "
                    "records of fields and lists; map a CSV or JSON export (~csv, ~jsonpath)",
                )
            raise self.fail(
                line, f"reference formulation `{formulation}` is not supported; use csv or jsonpath"
            )
        if formulation == "csv" and iterator not in (None, "$"):
            raise self.fail(
                line, f"a CSV source has no iterator (each row is a record); remove `{iterator}`"
            )
        iterator = iterator or "$"
        try:
            compile_path(iterator)
        except ValueError as exc:
            raise self.fail(line, str(exc)) from None
        return LogicalSource(
            formulation=_FORMULATIONS[formulation],  # type: ignore[arg-type]
            iterator=iterator,
            line=line,
            access=access or None,
            name=name,
        )

    def mapping_sources(self, value: Any, line: int) -> list[LogicalSource]:
        if value is None:
            return [LogicalSource(formulation="jsonpath", iterator="$", line=line)]
        if isinstance(value, list) and value and all(isinstance(x, str) for x in value):
            named = all(x in self.sources for x in value)
            flat = len(value) <= 2 and ("~" in value[0] or value[-1].startswith("$"))
            items: list[Any] = [value] if not named and flat else list(value)
        elif isinstance(value, list):
            items = list(value)
        else:
            items = [value]
        found: list[LogicalSource] = []
        for index, item in enumerate(items):
            flat_form = isinstance(value, list) and items[0] is value
            item_line = line if flat_form else line_of(value, index, line)
            if isinstance(item, str) and item in self.sources:
                found.append(self.sources[item])
            elif isinstance(item, str) and "~" not in item and not item.startswith("$"):
                names = sorted(self.sources)
                hint = difflib.get_close_matches(item, names, n=1)
                suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
                known = f"; the file names {', '.join(names)}" if names else ""
                raise self.fail(
                    item_line,
                    f"no source named `{item}` under the top-level `sources:`{suggestion}{known}",
                )
            else:
                found.append(self.source(item, item_line))
        if not found:
            raise self.fail(line, "`sources:` is empty; remove it (the records are the source)")
        return found

    # -- mappings ----------------------------------------------------------
    def subjects(self, value: Any, line: int, name: str) -> list[TermMap]:
        if value is None:
            raise self.fail(
                line,
                f"mapping `{name}` needs a subject template `s:` (e.g. id:$(id)); blank-node "
                "subjects are not supported: the hub gives every entity a stable IRI",
            )
        items = value if isinstance(value, list) else [value]
        terms = []
        for index, item in enumerate(items):
            item_line = line_of(value, index, line) if isinstance(value, list) else line
            if isinstance(item, str):
                if item.endswith("~blanknode"):
                    raise self.fail(item_line, _BLANK)
                text = item.removesuffix("~iri")
                if self.is_inline_call(text):
                    terms.append(
                        TermMap(
                            kind="iri", line=item_line, parts=[self.inline_call(text, item_line)]
                        )
                    )
                else:
                    terms.append(self.iri_term(text, item_line))
            elif isinstance(item, dict):
                self.refuse_keys(item, item_line, "s")
                allowed = (
                    {"value", "v", "type"} | set(_ALIASES["function"]) | set(_ALIASES["parameters"])
                )
                unknown = set(item) - allowed
                if unknown:
                    key = sorted(unknown)[0]
                    raise self.fail(
                        line_of(item, key, item_line),
                        f"unknown key `{key}` in subject; use value, function, parameters, type",
                    )
                if str(item.get("type", "iri")) != "iri":
                    raise self.fail(item_line, _BLANK)
                f_key, _ = _pick(item, "function")
                _, subject_value = _pick(item, "value")
                if f_key is not None:
                    call = self.function_term(item, item_line)
                    terms.append(TermMap(kind="iri", line=item_line, parts=[call]))
                elif isinstance(subject_value, str):
                    terms.append(self.iri_term(subject_value.removesuffix("~iri"), item_line))
                else:
                    raise self.fail(item_line, "a subject map needs a `value` or a `function`")
            else:
                raise self.fail(item_line, f"mapping `{name}`: `s:` must be an IRI template")
        return terms

    def triples_map(self, name: str, body: Any, line: int) -> TriplesMap:
        if not isinstance(body, LineDict):
            raise self.fail(line, f"mapping `{name}` must be a map with `s:` and `po:`")
        self.refuse_keys(body, line, name)
        unknown = set(body) - _MAPPING_KEYS
        if unknown:
            key = sorted(unknown)[0]
            hint = difflib.get_close_matches(key, sorted(_MAPPING_KEYS), n=1, cutoff=0.5)
            suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
            raise self.fail(
                line_of(body, key, line), f"unknown key `{key}` in mapping `{name}`{suggestion}"
            )
        s_key, subject = _pick(body, "subject")
        subjects = self.subjects(subject, line_of(body, s_key, line) if s_key else line, name)
        src_key, sources = _pick(body, "sources")
        sources_line = line_of(body, src_key, line) if src_key else line
        logical = self.mapping_sources(sources, sources_line)
        select_nodes, iterator_refs = _node_selector(logical)
        po_key, entries = _pick(body, "po")
        entries = entries if entries is not None else LineList()
        if not isinstance(entries, list):
            raise self.fail(line_of(body, po_key, line), "`po:` must be a list")
        poms = [self.predicate_object(e, line_of(entries, i, line)) for i, e in enumerate(entries)]
        condition = (
            self.conditions(body["condition"], line_of(body, "condition", line))
            if "condition" in body
            else None
        )
        return TriplesMap(
            name=name,
            line=line,
            iterator=logical[0].iterator,
            select_nodes=select_nodes,
            subject=subjects[0],
            subjects=subjects[1:],
            predicate_objects=poms,
            sources=logical,
            condition=condition,
            iterator_references=iterator_refs,
        )

    def check_references(self, tmaps: list[TriplesMap]) -> None:
        """Every `mapping:` names a mapping of the file; a join without condition needs the same source."""
        by_name = {t.name: t for t in tmaps}
        for tmap in tmaps:
            for pom in tmap.predicate_objects:
                for obj in pom.objects:
                    if not isinstance(obj, RefObjectMap):
                        continue
                    parent = by_name.get(obj.parent)
                    if parent is None:
                        hint = difflib.get_close_matches(obj.parent, list(by_name), n=1)
                        suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
                        raise self.fail(
                            obj.line,
                            f"`mapping: {obj.parent}` is not a mapping of this file{suggestion}",
                        )
                    if not obj.joins and _source_key(parent) != _source_key(tmap):
                        raise self.fail(
                            obj.line,
                            f"mapping `{obj.parent}` iterates other records than `{tmap.name}`; "
                            "say which ones to link with a join condition: `condition: {function: "
                            "equal, parameters: [[str1, $(child field)], [str2, $(parent field)]]}`",
                        )

    def document(self, doc: Any, text: str) -> Mapping:
        if not isinstance(doc, LineDict):
            raise self.fail(1, "a mapping file is a YAML map with `prefixes:` and `mappings:`")
        self.refuse_keys(doc, 1, "")
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            key = sorted(unknown)[0]
            hint = difflib.get_close_matches(key, sorted(_TOP_KEYS), n=1)
            suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
            raise self.fail(
                line_of(doc, key),
                f"unknown top-level key `{key}`{suggestion}; use prefixes, sources and mappings "
                "(and base, external, authors)",
            )
        prefixes = doc.get("prefixes") or {}
        if not isinstance(prefixes, dict):
            raise self.fail(line_of(doc, "prefixes"), "`prefixes:` must be a map of prefix: IRI")
        for prefix, iri in prefixes.items():
            if not isinstance(iri, str) or not is_absolute_iri(iri):
                raise self.fail(
                    line_of(prefixes, prefix), f"prefix `{prefix}` must map to an absolute IRI"
                )
            if prefix in ("id", "hubid", "programme"):
                raise self.fail(
                    line_of(prefixes, prefix),
                    f"prefix `{prefix}:` is built in (the hub's IRIs); choose another name",
                )
            if iri.lower().startswith(SCHEMA_OTHER_SPELLING):
                raise self.fail(
                    line_of(prefixes, prefix),
                    f"prefix `{prefix}:` maps to {SCHEMA_OTHER_SPELLING}, which the hub's data "
                    f"never uses; schema.org is {SCHEMA} (built in as `schema:`, "
                    "docs/decisions.md #28): drop the line or write that namespace",
                )
            self.prefixes[prefix] = iri
        external = doc.get("external") or {}
        if not isinstance(external, dict):
            raise self.fail(line_of(doc, "external"), "`external:` must be a map of name: value")
        self.external = {str(k): str(v) for k, v in external.items()}
        src_key = "sources" if "sources" in doc else ("source" if "source" in doc else None)
        if src_key is not None:
            declared = doc[src_key]
            if not isinstance(declared, LineDict):
                raise self.fail(
                    line_of(doc, src_key),
                    "the top-level `sources:` is a map of named sources "
                    "(name: [file.csv~csv]); the mappings use them by name",
                )
            for name, spec in declared.items():
                self.sources[name] = self.source(spec, line_of(declared, name), name)
        m_key, mappings = _pick(doc, "mappings")
        if not isinstance(mappings, LineDict) or not mappings:
            raise self.fail(
                line_of(doc, m_key) if m_key else 1, "`mappings:` must be a map of named mappings"
            )
        tmaps = [
            self.triples_map(name, body, line_of(mappings, name)) for name, body in mappings.items()
        ]
        self.check_references(tmaps)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return Mapping(
            file=self.file,
            sha256=digest,
            prefixes=self.prefixes,
            triples_maps=tmaps,
            sources=self.sources,
        )


_IDLAB_EQUAL = "https://w3id.org/imec/idlab/function#equal"
_FUNCTION_NAMESPACES = (*FUNCTION_PREFIXES.values(), IDLAB_OLD)
_BLANK = (
    "blank nodes are not supported: the hub gives every entity a stable IRI; write an IRI "
    "template, e.g. id:$(id)/address"
)


def _short_param(iri: str) -> str:
    for prefix, namespace in FUNCTION_PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    if iri.startswith(PREFIXES["mh"]):
        return "mh:" + iri[len(PREFIXES["mh"]) :]
    return iri


def _is_pair(obj: Any) -> bool:
    """`[value, datatype]` written as the whole `o:` (not a list of two objects)."""
    return (
        isinstance(obj, list)
        and len(obj) == 2
        and all(isinstance(x, str) for x in obj)
        and ("~lang" in obj[1] or (":" in obj[1] and "$(" not in obj[1] and "~" not in obj[0]))
        and "$(" in obj[0]
    )


def _evaluator(parts: list[Any]) -> Any:
    if len(parts) == 1 and isinstance(parts[0], str):
        constant = [parts[0]]
        return lambda node: constant
    return lambda node: part_values(parts, node)


def _source_key(tmap: TriplesMap) -> frozenset[tuple[str, str]]:
    return frozenset((s.formulation, s.iterator) for s in tmap.sources)


def _node_selector(sources: list[LogicalSource]) -> tuple[Any, list[Reference]]:
    """One function from a record to the nodes all the mapping's sources iterate.

    The harvested records are the one stream of the source; two declarations with the
    same iterator (two CSV files, say) select the same nodes, so they count once.
    """
    iterators = list(dict.fromkeys(s.iterator for s in sources))
    refs = [
        Reference(
            path=it,
            select=compile_path(it),
            line=next(s.line for s in sources if s.iterator == it),
            iterator=True,
        )
        for it in iterators
        if it.strip() not in ("$", "")
    ]
    if not refs:
        return compile_path("$"), []
    selectors = []
    for it in iterators:
        if it.strip() in ("$", ""):
            selectors.append(compile_path("$"))
            continue
        ref = next(r for r in refs if r.path == it)

        def counted(record: Any, select: Any = ref.select, ref: Reference = ref) -> list[Any]:
            nodes = select(record)
            if nodes:
                ref.hits += 1
            return nodes

        selectors.append(counted)
    if len(selectors) == 1:
        return selectors[0], refs

    def union(record: Any) -> list[Any]:
        return [node for select in selectors for node in select(record)]

    return union, refs


def compile_mapping(text: str, *, file: str, source_id: str, iris: Iris) -> Mapping:
    """Compile mapping text; MappingError names the file and line of the first problem."""
    compiler = _Compiler(file, source_id, iris)
    try:
        doc = load_with_lines(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = f"not valid YAML: {exc.problem or exc}"
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise MappingError(file, line, reason) from None
    return compiler.document(doc, text)


def load_mapping(path: Path, *, source_id: str, iris: Iris, display: str | None = None) -> Mapping:
    """Read and compile the mapping file at `path`."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(
            name, None, "file not found; check the source's `mapping` setting"
        ) from None
    except UnicodeDecodeError as exc:
        raise MappingError(name, None, f"not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    return compile_mapping(text, file=name, source_id=source_id, iris=iris)
