"""The programme as the API shows it: projects, working groups, regions, themes, categories.

Read from the bundled ontology (the same triples as the programme graph) and
the config's extra projects; stored in the read model next to the entities.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from hub.config import HubConfig
from hub.iris import MH, RDF, RDFS, SCHEMA, SKOS, Iris
from hub.pipeline.programme import programme_turtle
from hub.readmodel._extract import CATEGORY_NS, THEME_NS, short_lang

DCT = "http://purl.org/dc/terms/"
SCHEMES = {"theme": THEME_NS.rstrip("/"), "category": CATEGORY_NS.rstrip("/")}

Doc = dict[str, Any]


class _Graph:
    """The programme triples in an in-memory store, with the few lookups we need."""

    def __init__(self, data: bytes) -> None:
        self.store = ox.Store()
        self.store.load(data, ox.RdfFormat.N_TRIPLES)

    def subjects(self, cls: str) -> list[str]:
        """IRIs of the instances of a class."""
        pattern = self.store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(cls))
        return sorted({q.subject.value for q in pattern if isinstance(q.subject, ox.NamedNode)})

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.Literal]:
        """Objects of a subject and predicate."""
        found = self.store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)
        return [q.object for q in found]  # type: ignore[misc]

    def subjects_of(self, predicate: str, obj: str) -> list[str]:
        """Subjects with this predicate and object."""
        found = self.store.quads_for_pattern(None, ox.NamedNode(predicate), ox.NamedNode(obj))
        return sorted(q.subject.value for q in found if isinstance(q.subject, ox.NamedNode))

    def text(self, subject: str, *predicates: str) -> dict[str, str]:
        """Literal values per language of the first predicate that has any."""
        for predicate in predicates:
            values: dict[str, str] = {}
            for term in self.objects(subject, predicate):
                if isinstance(term, ox.Literal):
                    values.setdefault(short_lang(term.language), term.value)
            if values:
                return dict(sorted(values.items()))
        return {}

    def one(self, subject: str, predicate: str) -> str | None:
        """The smallest value of a property, if any (deterministic)."""
        values = sorted(t.value for t in self.objects(subject, predicate))
        return values[0] if values else None

    def iris(self, subject: str, predicate: str) -> list[str]:
        """The IRI values of a property, sorted."""
        return sorted(
            t.value for t in self.objects(subject, predicate) if isinstance(t, ox.NamedNode)
        )


def _tail(iri: str, prefix: str) -> str:
    return iri[len(prefix) :] if iri.startswith(prefix) else iri


def hub_classes(graph: _Graph) -> dict[str, tuple[str, ...]]:
    """Hub classes that specialise schema.org ones (mh:OperatorNetwork -> Organization)."""
    parents: dict[str, set[str]] = defaultdict(set)
    for quad in graph.store.quads_for_pattern(None, ox.NamedNode(RDFS + "subClassOf"), None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
            parents[quad.subject.value].add(quad.object.value)
    out: dict[str, tuple[str, ...]] = {}
    for cls in parents:
        if not cls.startswith(MH):
            continue
        seen, todo = set(), [cls]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        schema = sorted(p[len(SCHEMA) :] for p in seen if p.startswith(SCHEMA))
        if schema:
            out[cls] = tuple(schema)
    return out


def programme_classes(config: HubConfig) -> dict[str, tuple[str, ...]]:
    """The hub classes whose instances are entities, with their schema.org superclasses."""
    return hub_classes(_Graph(programme_turtle(config)))


def programme_docs(config: HubConfig) -> tuple[str, list[tuple[str, str, Doc]]]:
    """The programme's version (a hash) and its rows: (kind, id, document)."""
    data = programme_turtle(config)
    version = hashlib.sha256(data).hexdigest()[:16]
    graph = _Graph(data)
    iris = Iris(config.base_iri)
    base = iris.programme_base
    rows: list[tuple[str, str, Doc]] = []
    groups_of: dict[str, list[str]] = defaultdict(list)
    for group in graph.subjects(MH + "WorkingGroup"):
        group_id = graph.one(group, SCHEMA + "identifier") or _tail(group, base)
        lead = [_tail(p, iris.project("")) for p in graph.iris(group, MH + "leadProject")]
        members = [_tail(p, iris.project("")) for p in graph.iris(group, MH + "memberProject")]
        for project in set(lead) | set(members):
            groups_of[project].append(group_id)
        domains = graph.iris(group, MH + "thematicDomain")
        rows.append(
            (
                "working_group",
                group_id,
                {
                    "id": group_id,
                    "iri": group,
                    "names": graph.text(group, SCHEMA + "name", RDFS + "label"),
                    "descriptions": graph.text(group, SCHEMA + "description"),
                    "lead": lead,
                    "members": members,
                    "themes": [_tail(d, THEME_NS) for d in domains],
                },
            )
        )
    for project in graph.subjects(MH + "Project"):
        project_id = graph.one(project, SCHEMA + "identifier") or _tail(project, iris.project(""))
        extra = config.projects.get(project_id)
        rows.append(
            (
                "project",
                project_id,
                {
                    "id": project_id,
                    "iri": project,
                    "names": graph.text(project, SCHEMA + "name", RDFS + "label"),
                    "descriptions": graph.text(project, SCHEMA + "description"),
                    "homepage": extra.homepage if extra else None,
                    "working_groups": sorted(set(groups_of.get(project_id, []))),
                },
            )
        )
    for region in graph.subjects(MH + "Region"):
        region_id = graph.one(region, SCHEMA + "identifier") or _tail(region, base + "region/")
        names = graph.text(region, SCHEMA + "name", RDFS + "label")
        rows.append(("region", region_id, {"id": region_id, "iri": region, "names": names}))
    for kind, scheme in SCHEMES.items():
        rows.append(
            (
                "scheme",
                kind,
                {
                    "id": kind,
                    "iri": scheme,
                    "labels": graph.text(scheme, SKOS + "prefLabel"),
                    "descriptions": graph.text(scheme, DCT + "description"),
                },
            )
        )
        for concept in graph.subjects_of(SKOS + "inScheme", scheme):
            slug = graph.one(concept, SKOS + "notation") or _tail(concept, scheme + "/")
            rows.append(
                (
                    kind,
                    slug,
                    {
                        "id": slug,
                        "iri": concept,
                        "labels": graph.text(concept, SKOS + "prefLabel"),
                        "definitions": graph.text(concept, SKOS + "definition", SKOS + "scopeNote"),
                        "broader": [
                            _tail(b, scheme + "/") for b in graph.iris(concept, SKOS + "broader")
                        ],
                        "top": scheme in graph.iris(concept, SKOS + "topConceptOf"),
                    },
                )
            )
    for name, iri in _labelled_classes(graph, hub_classes(graph)):
        labels = graph.text(iri, RDFS + "label")
        rows.append(("class", name, {"id": name, "iri": iri, "labels": labels}))
    return version, rows


def class_name(iri: str) -> str:
    """The name the API gives a class: `TouristAttraction` (schema.org), `mh:OperatorNetwork`."""
    if iri.startswith(SCHEMA):
        return iri[len(SCHEMA) :]
    if iri.startswith(MH):
        return "mh:" + iri[len(MH) :]
    return iri


def _labelled_classes(graph: _Graph, hub: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """schema.org classes, and hub classes of entities, that the ontology labels: (name, IRI)."""
    found = graph.store.quads_for_pattern(None, ox.NamedNode(RDFS + "label"), None)
    iris = {
        q.subject.value
        for q in found
        if isinstance(q.subject, ox.NamedNode)
        and (q.subject.value.startswith(SCHEMA) or q.subject.value in hub)
    }
    return sorted((class_name(iri), iri) for iri in iris)
