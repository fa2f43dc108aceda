"""Start-up migrations of what is published: schema.org's namespace (docs/decisions.md #28).

Hubs before 0.x wrote schema.org terms as `https://schema.org/…`; the hub's namespace is
now `http://schema.org/`, the one schema.org's own JSON-LD context expands to. At start,
a source whose published version still has the old spelling gets a new version, the
same triples with every such IRI re-spelled, published through the `Publisher` (the one
publish path: the store, read model, change feed and dumps follow, and the run is in the
metadata graph with reason `migration`). Kept and held versions are re-spelled in place,
so a rollback or an approval cannot bring the old spelling back. Idempotent: a version
without the old spelling is left alone, and a finished pass leaves
`<data>/migrations/schema-http.done`, so later starts do not read the versions again.

    >>> migrate_schema_namespace(config, store)  # doctest: +SKIP
    ['smartdest-offer: published version 20250101T… (schema.org IRIs now http://schema.org/)']
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from hub.config import HubConfig
from hub.iris import SCHEMA, SCHEMA_OTHER_SPELLING, Iris
from hub.layout import DataLayout
from hub.pipeline.programme import load_programme
from hub.pipeline.provenance import RunReport, new_run_id
from hub.pipeline.publish import Publisher, read_facts, write_facts
from hub.pipeline.state import load_state
from hub.pipeline.versions import sort_version
from hub.store.base import Store
from hub.store.oxigraph import sparql_iri

log = logging.getLogger("hub.migrate")
OLD = SCHEMA_OTHER_SPELLING
_NEEDLE = f"<{OLD}".encode()


def uses_old_namespace(path: Path) -> bool:
    """Whether an N-Triples file names any `https://schema.org/` IRI."""
    with path.open("rb") as lines:
        return any(_NEEDLE in line for line in lines)


def _iri(node: ox.NamedNode) -> ox.NamedNode:
    value = node.value
    return ox.NamedNode(SCHEMA + value[len(OLD) :]) if value.startswith(OLD) else node


def _term(term: object) -> object:
    if isinstance(term, ox.NamedNode):
        return _iri(term)
    if isinstance(term, ox.Literal) and not term.language:
        datatype = _iri(term.datatype)
        if datatype is not term.datatype:
            return ox.Literal(term.value, datatype=datatype)
    return term


def respell(source: Path, target: Path, *, genid: str) -> int:
    """Write `source` to `target` (sorted, as a version) with schema.org IRIs as `http://`.

    Only IRIs change (subjects, predicates, objects, literal datatypes); text that
    happens to contain `https://schema.org/` is data and stays. Returns the line count.
    """
    unsorted = target.with_name(target.name + ".unsorted")
    with unsorted.open("wb") as out:
        for triple in ox.parse(path=str(source), format=ox.RdfFormat.N_TRIPLES):
            fixed = ox.Triple(_term(triple.subject), _iri(triple.predicate), _term(triple.object))
            out.write(f"{fixed} .\n".encode())
    try:
        return sort_version(unsorted, target, genid=genid)
    finally:
        unsorted.unlink(missing_ok=True)


def migrate_schema_namespace(config: HubConfig, store: Store) -> list[str]:
    """Re-spell `https://schema.org/` IRIs in every source's versions; what was done."""
    layout = DataLayout(config.data_path)
    marker = layout.root / "migrations" / "schema-http.done"
    if marker.exists():  # done once: later versions are made in the new spelling
        return []
    publisher = Publisher(config, store)
    done: list[str] = []
    for source in config.sources:
        state = load_state(layout.root, source)
        published = layout.absolute(state.version_file) if state.version_file else None
        genid = publisher.genid(source)
        kept = sorted(layout.versions(source).glob("*.nt"))
        held = sorted(layout.held(source).glob("*.nt")) if layout.held(source).exists() else []
        for path in kept + held:
            if path == published or not uses_old_namespace(path):
                continue
            respell(path, path, genid=genid)
            done.append(f"{source}: re-spelled schema.org IRIs in version {path.stem} in place")
        if published is None or not published.is_file() or not uses_old_namespace(published):
            continue
        now = datetime.now(UTC)
        run_id = new_run_id(now)
        target = layout.version(source, run_id)
        respell(published, target, genid=genid)
        facts = read_facts(layout.version_facts(source, published.stem))
        write_facts(layout.version_facts(source, run_id), facts)
        report = RunReport(
            source=source,
            run_id=run_id,
            started=now,
            mapping_file=config.source(source).mapping,
            records=int(facts.get("records", state.records)),
            triples=int(facts.get("triples", state.triples)),
            message=(
                f"version {published.stem} published again with schema.org IRIs as {SCHEMA} "
                f"(were {OLD}; docs/decisions.md #28)"
            ),
        )
        publisher.publish(source, target, report, reason="migration")
        respell(published, published, genid=genid)  # kept for rollback, in the new spelling
        done.append(
            f"{source}: published version {run_id}, version {published.stem} with schema.org "
            f"IRIs as {SCHEMA}"
        )
    if _programme_uses_old_namespace(config, store):
        load_programme(store, config)  # type: ignore[arg-type]
        done.append(f"programme graph reloaded (schema.org IRIs as {SCHEMA})")
    for line in done:
        log.warning("migration: %s", line)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{datetime.now(UTC).isoformat()}\n{len(done)} steps\n", encoding="utf-8")
    return done


def _programme_uses_old_namespace(config: HubConfig, store: Store) -> bool:
    graph = sparql_iri(Iris(config.base_iri).programme_graph)
    return store.ask(
        f'ASK {{ GRAPH {graph} {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), "{OLD}") '
        f'|| (isIRI(?o) && STRSTARTS(STR(?o), "{OLD}"))) }} }}'
    )
