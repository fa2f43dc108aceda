"""The one path that changes what readers see: publish, approve, reject, roll back, recover.

A publish writes the *change* between the published version and the new one:

1. The two versions are sorted N-Triples files; their diff (triples removed, added)
   is written next to a journal naming both versions (fsynced).
2. If the change fits one update request and the store makes a request one
   transaction, it is written as one `DELETE DATA … INSERT DATA …` together with the
   marker `<graph> mh:publishedRun "<run>"` in the metadata graph: every reader, of
   the hub or of the store itself, sees the old version or the new one, and a crash
   or kill at any moment leaves one of the two.
3. Bigger changes are written in steps (deletes in blocks, then the bulk loader for
   additions) while the store's `publishing()` gate holds off new reads, so readers of
   the hub still see old or new. Each step is idempotent, so the journal is simply
   written again after a crash.
4. Then the state file, the journal's removal, and the `Published` event
   (provenance, read model, change log).

At start, `recover()` finishes every journalled publish (or, when its files are gone,
puts back the last whole version), marks runs a dead process left `running` as
`interrupted`, and clears leftovers. See docs/decisions.md ("Publishing").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.config import HubConfig
from hub.errors import HubError, StoreError
from hub.iris import MH, Iris
from hub.layout import DataLayout
from hub.mapping.terms import nt_literal
from hub.pipeline.events import EventBus, Finished, Published, Subscriber
from hub.pipeline.provenance import RunReport, new_run_id
from hub.pipeline.state import SourceState, load_state, save_state
from hub.pipeline.versions import ChangeCounts, count_lines, diff_versions, sort_version
from hub.store.base import Store, ntriples_blocks
from hub.store.oxigraph import sparql_iri

log = logging.getLogger("hub.publish")
PUBLISHED_RUN = MH + "publishedRun"
# Room for the SPARQL around the triples of a one-request change.
_ENVELOPE = 4096
# Deletes written in steps go in blocks of this many bytes of N-Triples.
STEP_BYTES = 16 * 1024 * 1024
# Tries of a write the store did not take (1 + 2 + 4 + 8 s apart: a restarting child).
WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class Change:
    """What a publish will write: from one version of a source to another."""

    source: str
    graph: str
    from_run: str | None
    to_run: str
    version: Path
    removed: Path
    added: Path
    counts: ChangeCounts


def write_facts(path: Path, facts: dict[str, Any]) -> None:
    """Write a small JSON file whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(facts, out, default=str)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def read_facts(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class Publisher:
    """Publishes versions of sources to one store and tells the subscribers."""

    def __init__(
        self, config: HubConfig, store: Store, subscribers: Iterable[Subscriber] | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.layout = DataLayout(config.data_path)
        self.iris = Iris(config.base_iri)
        if subscribers is None:
            from hub.pipeline.subscribers import default_subscribers

            subscribers = default_subscribers(config, store)
        self.events = EventBus(subscribers)

    # -- what is published ---------------------------------------------------
    def published_run(self, source: str) -> str | None:
        """The run whose version the store holds for `source` (its marker), if any."""
        rows = self.store.select(
            f"SELECT ?run WHERE {{ GRAPH {sparql_iri(self.iris.meta_graph)} {{ "
            f"{sparql_iri(self.iris.source_graph(source))} <{PUBLISHED_RUN}> ?run }} }}"
        )
        runs = sorted(row["run"].value for row in rows if "run" in row)
        return runs[-1] if runs else None

    def _marker(self, source: str, run_id: str) -> str:
        meta, graph = sparql_iri(self.iris.meta_graph), sparql_iri(self.iris.source_graph(source))
        return (
            f"DELETE WHERE {{ GRAPH {meta} {{ {graph} <{PUBLISHED_RUN}> ?run }} }};\n"
            f"INSERT DATA {{ GRAPH {meta} {{ {graph} <{PUBLISHED_RUN}> {nt_literal(run_id)} }} }}"
        )

    def _current_file(self, source: str, current: str | None, from_store: bool) -> Path | None:
        """The sorted file of what the store holds now (dumped from the store if need be)."""
        graph = self.iris.source_graph(source)
        if current is not None and not from_store:
            known = self.layout.version(source, current)
            if known.exists():
                return known
        if current is None and not self.store.has_graph(graph):
            return None
        # No version file says what the graph holds (an older hub, a lost file): ask the store.
        dump = self.layout.published_dump(source)
        dump.parent.mkdir(parents=True, exist_ok=True)
        self.store.dump_graph_to(graph, dump)
        sort_version(dump, dump, genid=self.genid(source))
        return dump

    def genid(self, source: str) -> str:
        """The prefix of skolem IRIs that stand for a source's blank nodes."""
        return f"{self.iris.base}.well-known/genid/{source}/"

    # -- publishing ----------------------------------------------------------
    def prepare(
        self, source: str, version: Path, run_id: str, *, from_store: bool = False
    ) -> Change:
        """The change from the published version of `source` to the sorted file `version`.

        `from_store`: compare with the graph as the store holds it, not with the version
        its marker names (after an interrupted publish, the two may differ).
        """
        journal = self.layout.journal(source)
        if journal.exists():  # a publish of this source stopped half-way: finish it first
            log.warning("recovery: %s", self._recover_journal(journal))
        current = self.published_run(source)
        old = self._current_file(source, current, from_store)
        removed, added = self.layout.change_set(source, run_id)
        removed.parent.mkdir(parents=True, exist_ok=True)
        counts = diff_versions(old, version, removed, added)
        if old is not None and old == self.layout.published_dump(source):
            old.unlink(missing_ok=True)
        return Change(
            source=source,
            graph=self.iris.source_graph(source),
            from_run=current,
            to_run=run_id,
            version=version,
            removed=removed,
            added=added,
            counts=counts,
        )

    def prepare_early(self, change: Change, report: RunReport) -> None:
        """Let the subscribers that work in child processes (a large version's read model)
        start on `change` while the run's checks use this process; see `abandon`."""
        self.events.prepare_early(self._event(change, report, "run"))

    def abandon(self, change: Change, report: RunReport) -> None:
        """Forget a change that will not be written (its run failed a check, or is held),
        stopping what `prepare_early` started."""
        self.events.cancel(self._event(change, report, "run"))
        self.discard(change)

    def journalled(self, source: str) -> str | None:
        """The version a publish under way (or interrupted) is writing for `source`."""
        entry = read_facts(self.layout.journal(source))
        return str(entry["to_run"]) if entry.get("to_run") else None

    def discard(self, change: Change) -> None:
        """Forget a prepared change that will not be written."""
        change.removed.unlink(missing_ok=True)
        change.added.unlink(missing_ok=True)

    def apply(self, change: Change, report: RunReport, *, reason: str = "run") -> None:
        """Write a prepared change; afterwards readers see exactly `change.version`."""
        layout = self.layout
        write_facts(
            layout.journal(change.source),
            {
                "source": change.source,
                "graph": change.graph,
                "from_run": change.from_run,
                "to_run": change.to_run,
                "version": layout.relative(change.version),
                "removed": layout.relative(change.removed),
                "added": layout.relative(change.added),
                "reason": reason,
                "started": datetime.now(UTC).isoformat(),
            },
        )
        event = self._event(change, report, reason)
        with self.events.preparing(event):  # e.g. the read model, beside the store's write
            self._write(change)
            self._finish(change, report, reason=reason, event=event)

    @staticmethod
    def _event(change: Change, report: RunReport, reason: str) -> Published:
        return Published(
            report=report,
            version=change.version,
            previous_run=change.from_run,
            changes=change.counts,
            removed=change.removed,
            added=change.added,
            reason=reason,
        )

    def _write(self, change: Change) -> str:
        """Write the change to the store; 'one transaction' or 'in steps'.

        Every step can be repeated, so a store that stops answering half-way (its child
        server died and is being restarted) is simply asked again, a few times, before
        the publish fails; in steps, the read gate stays closed meanwhile.
        """
        store = self.store
        size = change.removed.stat().st_size + change.added.stat().st_size + _ENVELOPE
        caps = store.capabilities
        if caps.atomic_updates and size <= caps.max_update_bytes:
            self._again(lambda: store.update(self._one_request(change)), change)
            return "one transaction"
        with store.publishing():
            self._again(lambda: self._steps(change), change)
        return "in steps"

    def _one_request(self, change: Change) -> str:
        graph = sparql_iri(change.graph)
        parts = []
        if change.removed.stat().st_size:
            parts.append(
                f"DELETE DATA {{ GRAPH {graph} {{\n{change.removed.read_text('utf-8')}}} }}"
            )
        if change.added.stat().st_size:
            parts.append(f"INSERT DATA {{ GRAPH {graph} {{\n{change.added.read_text('utf-8')}}} }}")
        parts.append(self._marker(change.source, change.to_run))
        return ";\n".join(parts)

    def _steps(self, change: Change) -> None:
        store, graph = self.store, sparql_iri(change.graph)
        limit = min(STEP_BYTES, store.capabilities.max_update_bytes)
        for block in ntriples_blocks(change.removed, limit):
            store.update(f"DELETE DATA {{ GRAPH {graph} {{\n{block.decode('utf-8')}}} }}")
        if change.added.stat().st_size:
            store.add_file(change.graph, change.added)
        store.update(self._marker(change.source, change.to_run))

    @staticmethod
    def _again(write: Callable[[], object], change: Change) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                write()
                return
            except StoreError as exc:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                pause = 2**attempt
                log.warning(
                    "publish of %s version %s: the store did not take the write (%s); "
                    "writing it again in %d s",
                    change.source,
                    change.to_run,
                    exc,
                    pause,
                )
                time.sleep(pause)

    def _finish(
        self, change: Change, report: RunReport, *, reason: str, event: Published | None = None
    ) -> None:
        layout = self.layout
        facts = read_facts(layout.version_facts(change.source, change.to_run))
        previous = load_state(layout.root, change.source)
        save_state(
            layout.root,
            change.source,
            SourceState(
                run_id=change.to_run,
                records=int(facts.get("records", report.records)),
                triples=int(facts.get("triples", report.triples)),
                version_file=layout.relative(change.version),
                harvest=dict(facts.get("harvest") or {})
                if reason != "run"
                else dict(facts.get("harvest") or previous.harvest),
            ),
        )
        report.status = "published"
        report.ended = report.ended or datetime.now(UTC)
        self.events.emit(event or self._event(change, report, reason))
        layout.journal(change.source).unlink(missing_ok=True)
        self.discard(change)
        if reason == "run":  # a good harvest replaces the runs held for review
            shutil.rmtree(layout.held(change.source), ignore_errors=True)
        self.prune(change.source)

    def publish(
        self,
        source: str,
        version: Path,
        report: RunReport,
        *,
        reason: str = "run",
        from_store: bool = False,
    ) -> ChangeCounts:
        """Make `version` (a sorted version file) what readers see; an empty change is not written."""
        change = self.prepare(source, version, version.stem, from_store=from_store)
        if change.counts.empty and change.from_run == version.stem:
            self.discard(change)
            return change.counts
        self.apply(change, report, reason=reason)
        return change.counts

    def finished(self, report: RunReport) -> None:
        """Tell the subscribers about a run that did not publish."""
        self.events.emit(Finished(report))

    # -- versions kept -------------------------------------------------------
    def prune(self, source: str) -> None:
        """Keep the newest `keep_versions` versions, always the published one."""
        folder = self.layout.versions(source)
        keep = self.config.hub.keep_versions
        published = load_state(self.layout.root, source).run_id
        files = sorted(folder.glob("*.nt"))
        for old in files[: max(0, len(files) - keep)]:
            if old.stem != published:
                old.unlink(missing_ok=True)
                self.layout.version_facts(source, old.stem).unlink(missing_ok=True)

    def versions(self, source: str) -> list[str]:
        """Run ids of the versions kept for a source, oldest first."""
        return sorted(p.stem for p in self.layout.versions(source).glob("*.nt"))

    # -- the stewards' decisions --------------------------------------------
    def held_runs(self, source: str) -> list[str]:
        folder = self.layout.held(source)
        return sorted(p.stem for p in folder.glob("*.nt")) if folder.exists() else []

    def _held(self, source: str, run_id: str | None) -> str:
        held = self.held_runs(source)
        if run_id:
            held = [r for r in held if r == run_id]
        if not held:
            which = f"run {run_id}" if run_id else "run"
            raise HubError(f"source `{source}` has no held {which}; `hub sources` shows its state")
        return held[-1]

    def approve(
        self, source: str, run_id: str | None = None, *, reason: str = "", actor: str = ""
    ) -> RunReport:
        """Publish a held run (default: the newest) of a source; who and why are recorded."""
        self.config.source(source)
        chosen = self._held(source, run_id)
        layout = self.layout
        facts = read_facts(layout.held_facts(source, chosen))
        report = self._report(
            source, f"approved held run {chosen}", facts, reason=reason, actor=actor
        )
        target = layout.version(source, chosen)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_facts(layout.version_facts(source, chosen), facts)
        layout.held_version(source, chosen).replace(target)
        layout.held_facts(source, chosen).unlink(missing_ok=True)
        self.publish(source, target, report, reason="approve")
        if report.status != "published":  # the held version is what readers already see
            report.status = "unchanged"
            report.ended = datetime.now(UTC)
            self.finished(report)
        return report

    def reject(
        self, source: str, run_id: str | None = None, *, reason: str = "", actor: str = ""
    ) -> RunReport:
        """Discard a held run (default: the newest); what readers see does not change."""
        self.config.source(source)
        chosen = self._held(source, run_id)
        facts = read_facts(self.layout.held_facts(source, chosen))
        self.layout.held_version(source, chosen).unlink(missing_ok=True)
        self.layout.held_facts(source, chosen).unlink(missing_ok=True)
        report = self._report(
            source, f"rejected held run {chosen}", facts, reason=reason, actor=actor
        )
        report.status = "rejected"
        report.ended = datetime.now(UTC)
        self.finished(report)
        return report

    def rollback(
        self, source: str, run_id: str | None = None, *, reason: str = "", actor: str = ""
    ) -> RunReport:
        """Publish again a kept version (default: the one before the published one)."""
        self.config.source(source)
        current = self.published_run(source)
        kept = [r for r in self.versions(source) if r != current]
        if run_id:
            kept = [r for r in kept if r == run_id]
        elif current:
            kept = [r for r in kept if r < current]
        if not kept:
            known = ", ".join(self.versions(source)) or "none"
            raise HubError(
                f"source `{source}` has no kept version {run_id or 'before ' + str(current)} "
                f"to roll back to; kept versions: {known} ([hub] keep_versions keeps more)"
            )
        chosen = kept[-1]
        facts = read_facts(self.layout.version_facts(source, chosen))
        report = self._report(
            source, f"rolled back to version {chosen}", facts, reason=reason, actor=actor
        )
        # The next harvest must fetch everything again: the saved ETag/since are the newer run's.
        write_facts(self.layout.version_facts(source, chosen), {**facts, "harvest": {}})
        self.publish(source, self.layout.version(source, chosen), report, reason="rollback")
        return report

    def _report(
        self, source: str, message: str, facts: dict[str, Any], *, reason: str = "", actor: str = ""
    ) -> RunReport:
        now = datetime.now(UTC)
        if reason:
            message = f"{message}: {reason}"
        if actor:
            message = f"{message} (by {actor})"
        return RunReport(
            actor=actor,
            source=source,
            run_id=new_run_id(now),
            started=now,
            mapping_file=self.config.source(source).mapping,
            records=int(facts.get("records", 0)),
            triples=int(facts.get("triples", 0)),
            message=message,
        )

    # -- start-up ------------------------------------------------------------
    def recover(self) -> list[str]:
        """Finish or undo interrupted publishes and clear what dead runs left; what was done."""
        done: list[str] = []
        done += self._recover_legacy()
        for journal in self.layout.journals():
            done.append(self._recover_journal(journal))
        done += self._mark_interrupted()
        done += self._clear_leftovers()
        for line in done:
            log.warning("recovery: %s", line)
        return done

    def _recover_journal(self, journal: Path) -> str:
        layout = self.layout
        entry = read_facts(journal)
        source = str(entry.get("source") or journal.stem)
        to_run = str(entry.get("to_run") or "")
        if source not in self.config.sources or not to_run:
            journal.unlink(missing_ok=True)
            return f"{journal.name}: not a publish of a configured source; removed"
        version = layout.absolute(str(entry.get("version", "")))
        removed = layout.absolute(str(entry.get("removed", "")))
        added = layout.absolute(str(entry.get("added", "")))
        report = self._report(
            source,
            f"publish of version {to_run} interrupted; finished at start-up",
            read_facts(layout.version_facts(source, to_run)),
        )
        reason = str(entry.get("reason") or "run")
        if version.is_file() and removed.is_file() and added.is_file():
            change = Change(
                source, self.iris.source_graph(source), entry.get("from_run"), to_run,
                version, removed, added, ChangeCounts(count_lines(removed), count_lines(added)),
            )  # fmt: skip
            how = self._write(change)
            self._finish(change, report, reason=reason)
            return f"{source}: finished the interrupted publish of version {to_run} ({how})"
        if version.is_file():
            journal.unlink(missing_ok=True)
            self.publish(source, version, report, reason=reason, from_store=True)
            return f"{source}: published version {to_run} again (its change set was lost)"
        # The new version is gone: put back the last whole version.
        journal.unlink(missing_ok=True)
        for candidate in (entry.get("from_run"), load_state(layout.root, source).run_id):
            if candidate and layout.version(source, str(candidate)).exists():
                report.message = f"version {to_run} lost; restored version {candidate}"
                restore = layout.version(source, str(candidate))
                self.publish(source, restore, report, reason="recovery", from_store=True)
                return (
                    f"{source}: the journal named version {to_run}, whose file is missing; "
                    f"restored the last whole version {candidate}"
                )
        return (
            f"{source}: the journal named version {to_run}, whose file is missing, and no "
            "earlier version is kept; the graph was left as it is: re-harvest the source"
        )

    def _recover_legacy(self) -> list[str]:
        """Journals of hubs before this publish path (`<store>.publishing.json`)."""
        done = []
        location = self.config.store_path
        for journal in (
            location.with_name(location.name + ".publishing.json"),
            self.layout.root / "store.publishing.json",
        ):
            if not journal.exists():
                continue
            entry = read_facts(journal)
            journal.unlink(missing_ok=True)
            graph = str(entry.get("graph", ""))
            source = graph.rsplit("/", 1)[-1]
            if source not in self.config.sources:
                done.append(f"{journal.name}: an old journal of no configured source; removed")
                continue
            state = load_state(self.layout.root, source)
            for name in (
                entry.get("file"),
                state.version_file and self.layout.absolute(state.version_file),
            ):
                if name and Path(name).exists():
                    run_id = Path(name).stem
                    target = self.layout.version(source, run_id)
                    sort_version(Path(name), target, genid=self.genid(source))
                    how = (
                        "finished"
                        if name == entry.get("file")
                        else "restored the last whole version"
                    )
                    report = self._report(source, f"old journal at start-up: {how}", {})
                    self.publish(source, target, report, reason="recovery", from_store=True)
                    done.append(f"{source}: old journal: {how} ({run_id})")
                    break
            else:
                done.append(
                    f"{source}: an old journal named a missing file; graph left as it is: "
                    "re-harvest the source"
                )
        return done

    def _mark_interrupted(self) -> list[str]:
        meta = sparql_iri(self.iris.meta_graph)
        rows = self.store.select(
            f'SELECT ?run WHERE {{ GRAPH {meta} {{ ?run <{MH}status> "running" }} }}'
        )
        if not rows:
            return []
        message = nt_literal(
            "the process running it stopped before it ended; nothing was published"
        )
        self.store.update(
            f'DELETE {{ GRAPH {meta} {{ ?run <{MH}status> "running" }} }} '
            f'INSERT {{ GRAPH {meta} {{ ?run <{MH}status> "interrupted" ; '
            f"<{MH}statusMessage> {message} }} }} "
            f'WHERE {{ GRAPH {meta} {{ ?run <{MH}status> "running" }} }}'
        )
        return [f"{len(rows)} run(s) left `running` by a stopped process marked `interrupted`"]

    def _clear_leftovers(self) -> list[str]:
        layout, done = self.layout, []
        staging = layout.staging_root()
        if staging.exists() and any(staging.iterdir()):
            shutil.rmtree(staging, ignore_errors=True)
            done.append("removed the staging stores of interrupted runs")
        for source in self.config.sources:
            folder = layout.versions(source)
            for pattern in ("*.unsorted", "*.partial", "*.run", "*.tmp"):
                for leftover in folder.glob(pattern):
                    leftover.unlink(missing_ok=True)
        if layout.publishing().exists():
            journalled = {p.stem for p in layout.journals()}
            for leftover in layout.publishing().glob("*.nt"):
                if not any(leftover.name.startswith(s + "-") or leftover.name.startswith(s + ".")
                           for s in journalled):  # fmt: skip
                    leftover.unlink(missing_ok=True)
        return done
