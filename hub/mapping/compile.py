"""Read a YARRRML mapping file (the hub's subset) and compile it, or say file and line why not.

The subset: `prefixes`; `mappings` with `sources` (one JSONPath iterator over each
record), `s` (IRI template), `po` entries in short form (`[p, o]`, `[p, o, datatype]`,
`[p, o, xx~lang]`, `o~iri`) or long form (`p:` / `o:` with value, datatype,
language, type). See docs/mappings.md.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any

import yaml

from hub.errors import MappingError
from hub.iris import PREFIXES, RDF, Iris
from hub.mapping.model import Mapping, PredicateObjectMap, Reference, TermMap, TriplesMap
from hub.mapping.terms import LANGUAGE_TAG, is_absolute_iri
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
    "datatype": ("datatype",),
    "language": ("language",),
    "type": ("type",),
}
_MAPPING_KEYS = {k for name in ("sources", "subject", "po") for k in _ALIASES[name]}
_TOP_KEYS = {"prefixes", "base"} | set(_ALIASES["mappings"])


def _pick(container: LineDict, name: str) -> tuple[str | None, Any]:
    for alias in _ALIASES[name]:
        if alias in container:
            return alias, container[alias]
    return None, None


class _Compiler:
    def __init__(self, file: str, source_id: str, iris: Iris) -> None:
        self.file = file
        self.prefixes = dict(PREFIXES)
        self.prefixes.update(
            {
                "id": iris.entity_prefix(source_id),
                "hubid": f"{iris.base}id/",
                "programme": iris.programme_base,
            }
        )

    def fail(self, line: int | None, message: str) -> MappingError:
        return MappingError(self.file, line, message)

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

    def template(self, text: str, line: int) -> list[str | Reference]:
        parts: list[str | Reference] = []
        pos = 0
        while True:
            start = text.find("$(", pos)
            if start < 0:
                if pos < len(text):
                    parts.append(text[pos:])
                return parts
            end = text.find(")", start)
            if end < 0:
                raise self.fail(line, f"`{text}`: a reference `$(` is not closed with `)`")
            if start > pos:
                parts.append(text[pos:start])
            path = text[start + 2 : end].strip()
            if not path:
                raise self.fail(line, f"`{text}`: empty reference `$()`")
            try:
                select = compile_path(path)
            except ValueError as exc:
                raise self.fail(line, str(exc)) from None
            parts.append(Reference(path=path, select=select, line=line))
            pos = end + 1

    def iri_term(self, text: str, line: int) -> TermMap:
        parts = self.template(text, line)
        if len(parts) == 1 and isinstance(parts[0], str):
            return TermMap(kind="iri", line=line, constant=self.expand(parts[0], line))
        if isinstance(parts[0], str):
            head = parts[0]
            if ":" in head and not head.startswith(("http:", "https:", "urn:")):
                prefix, rest = head.split(":", 1)
                if prefix not in self.prefixes:
                    self.expand(head, line)  # raises with a suggestion
                head = self.prefixes[prefix] + rest
            if not is_absolute_iri(head + "x"):
                raise self.fail(line, f"`{text}` does not start with an absolute IRI or a prefix")
            parts[0] = head
        elif len(parts) > 1:
            raise self.fail(
                line,
                f"`{text}`: an IRI template must start with a prefix or an IRI, not a reference",
            )
        return TermMap(kind="iri", line=line, parts=parts)

    def literal_term(
        self, text: str, line: int, datatype: str | None, language: str | None
    ) -> TermMap:
        parts = self.template(text, line)
        if language is not None and not LANGUAGE_TAG.match(language):
            raise self.fail(line, f"`{language}` is not a language tag (e.g. it, fr, en, co, sc)")
        if datatype is not None and language is not None:
            raise self.fail(line, "a literal has a datatype or a language, not both")
        if len(parts) == 1 and isinstance(parts[0], str):
            return TermMap(
                kind="literal", line=line, constant=parts[0], datatype=datatype, language=language
            )
        return TermMap(kind="literal", line=line, parts=parts, datatype=datatype, language=language)

    # -- objects -----------------------------------------------------------
    def short_object(self, value: Any, extra: Any, line: int) -> TermMap:
        if not isinstance(value, str):
            raise self.fail(line, f"object `{value}` must be text")
        if value.endswith("~iri"):
            if extra is not None:
                raise self.fail(line, "an IRI object (`~iri`) takes no datatype or language")
            return self.iri_term(value[: -len("~iri")], line)
        if value.endswith("~literal"):
            value = value[: -len("~literal")]
        datatype = language = None
        if extra is not None:
            if not isinstance(extra, str):
                raise self.fail(
                    line, f"`{extra}` must be a datatype (xsd:decimal) or a language (it~lang)"
                )
            if extra.endswith("~lang"):
                language = extra[: -len("~lang")]
            else:
                datatype = self.expand(extra, line)
        return self.literal_term(value, line, datatype, language)

    def long_object(self, obj: Any, line: int) -> TermMap:
        if isinstance(obj, str):
            return self.short_object(obj, None, line)
        if not isinstance(obj, dict):
            raise self.fail(line, "`o:` must be text or a map with `value`")
        _, value = _pick(obj, "value")
        if value is None:
            raise self.fail(line_of(obj, "value", line), "`o:` needs a `value`")
        kind = obj.get("type", "literal")
        datatype = obj.get("datatype")
        language = obj.get("language")
        unknown = set(obj) - {"value", "v", "datatype", "language", "type"}
        if unknown:
            raise self.fail(
                line,
                f"unknown key(s) {sorted(unknown)} in `o:`; use value, datatype, language, type",
            )
        if kind == "iri":
            return self.iri_term(str(value), line)
        if kind != "literal":
            raise self.fail(line, f"`type: {kind}` is not supported; use `iri` or `literal`")
        return self.literal_term(
            str(value), line, self.expand(datatype, line) if datatype else None, language
        )

    def predicate_object(self, entry: Any, line: int) -> PredicateObjectMap:
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
                if not isinstance(value, str):
                    raise self.fail(line, "`a` takes a class, e.g. schema:Place")
                objects = [self.iri_term(value.removesuffix("~iri"), line)]
            else:
                values = value if isinstance(value, list) else [value]
                objects = [self.short_object(v, extra, line) for v in values]
        elif isinstance(entry, dict):
            p_key, predicate = _pick(entry, "p")
            o_key, obj = _pick(entry, "o")
            if p_key is None or o_key is None:
                raise self.fail(line, "a long-form `po` entry needs both `p:` and `o:`")
            predicates = predicate if isinstance(predicate, list) else [predicate]
            objs = obj if isinstance(obj, list) else [obj]
            if predicates == ["a"]:
                objects = [self.iri_term(str(o).removesuffix("~iri"), line) for o in objs]
            else:
                objects = [self.long_object(o, line) for o in objs]
        else:
            raise self.fail(line, "a `po` entry must be a list [p, o] or a map with p: and o:")
        iris = [RDF + "type" if p == "a" else self.expand(str(p), line) for p in predicates]
        return PredicateObjectMap(predicates=iris, objects=objects, line=line)

    # -- mappings ----------------------------------------------------------
    def iterator(self, sources: Any, line: int) -> str:
        if sources is None:
            return "$"
        entries = (
            sources
            if isinstance(sources, list) and sources and isinstance(sources[0], (list, dict))
            else [sources]
        )
        if len(entries) != 1:
            raise self.fail(line, "one source per mapping is supported; split the mapping in two")
        entry = entries[0]
        if isinstance(entry, list):
            if not entry or not isinstance(entry[0], str):
                raise self.fail(line, "a source is [access~jsonpath, iterator]")
            if "~" in entry[0] and not entry[0].endswith("~jsonpath"):
                raise self.fail(
                    line, f"`{entry[0]}`: only the jsonpath reference formulation is supported"
                )
            return str(entry[1]) if len(entry) > 1 else "$"
        if isinstance(entry, dict):
            return str(entry.get("iterator", "$"))
        raise self.fail(line, "a source is [access~jsonpath, iterator] or a map with `iterator`")

    def triples_map(self, name: str, body: Any, line: int) -> TriplesMap:
        if not isinstance(body, LineDict):
            raise self.fail(line, f"mapping `{name}` must be a map with `s:` and `po:`")
        unknown = set(body) - _MAPPING_KEYS
        if unknown:
            key = sorted(unknown)[0]
            hint = difflib.get_close_matches(key, sorted(_MAPPING_KEYS), n=1, cutoff=0.5)
            suggestion = f" (did you mean `{hint[0]}`?)" if hint else ""
            raise self.fail(
                line_of(body, key, line), f"unknown key `{key}` in mapping `{name}`{suggestion}"
            )
        s_key, subject = _pick(body, "subject")
        if not isinstance(subject, str):
            raise self.fail(line, f"mapping `{name}` needs a subject template `s:` (e.g. id:$(id))")
        src_key, sources = _pick(body, "sources")
        iterator = self.iterator(sources, line_of(body, src_key, line) if src_key else line)
        try:
            select_nodes = compile_path(iterator)
        except ValueError as exc:
            raise self.fail(line_of(body, src_key, line), str(exc)) from None
        po_key, entries = _pick(body, "po")
        entries = entries if entries is not None else LineList()
        if not isinstance(entries, list):
            raise self.fail(line_of(body, po_key, line), "`po:` must be a list")
        poms = [self.predicate_object(e, line_of(entries, i, line)) for i, e in enumerate(entries)]
        return TriplesMap(
            name=name,
            line=line,
            iterator=iterator,
            select_nodes=select_nodes,
            subject=self.iri_term(subject, line_of(body, s_key, line)),
            predicate_objects=poms,
        )

    def document(self, doc: Any, text: str) -> Mapping:
        if not isinstance(doc, LineDict):
            raise self.fail(1, "a mapping file is a YAML map with `prefixes:` and `mappings:`")
        unknown = set(doc) - _TOP_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise self.fail(
                line_of(doc, key), f"unknown top-level key `{key}`; use prefixes and mappings"
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
            self.prefixes[prefix] = iri
        m_key, mappings = _pick(doc, "mappings")
        if not isinstance(mappings, LineDict) or not mappings:
            raise self.fail(
                line_of(doc, m_key) if m_key else 1, "`mappings:` must be a map of named mappings"
            )
        tmaps = [
            self.triples_map(name, body, line_of(mappings, name)) for name, body in mappings.items()
        ]
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return Mapping(file=self.file, sha256=digest, prefixes=self.prefixes, triples_maps=tmaps)


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
