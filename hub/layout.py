"""Every path in the hub's data folder; no other code builds them from strings.

```
<data>/versions/<source>/<run>.nt        published versions (sorted N-Triples), newest kept
<data>/versions/<source>/<run>.json      their facts (records, triples, harvest state)
<data>/versions/<source>/held/<run>.nt   runs held for review (+ <run>.json: their facts)
<data>/staging/<source>-<run>/           a run's throw-away staging store
<data>/raw/<source>/<run>.jsonl.gz       raw snapshots (records, or .nt.gz for RDF sources)
<data>/state/<source>.json               what the last published run leaves for the next
<data>/publishing/<source>.json          the journal of a publish under way
<data>/publishing/<source>-<run>.*.nt    its change set (triples removed, added)
<data>/changes/<source>.jsonl            the change log: one line per publish
<data>/dumps/<source>.nq.gz              a source's published graph as gzipped N-Quads (download)
<data>/dumps/hub.nq.gz                   every source, the programme and the links (download)
<data>/feed.sqlite                       the change feed: entity changes per publish (append-only)
<data>/reports/<source>/<run>.json       a run's report for review (quotes record values: private)
<data>/users.json                        accounts added by `hub user add` (token hashes only)
<data>/readmodel.sqlite                  the REST API's read model
<data>/schedules.sqlite                  the scheduler's jobs and their next run times
<data>/hub.serve.json                    where a running `hub serve` answers (for the CLI)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataLayout:
    """The data folder of one hub (`[hub] data_dir`)."""

    root: Path

    # -- versions ------------------------------------------------------------
    def versions(self, source: str) -> Path:
        return self.root / "versions" / source

    def version(self, source: str, run_id: str) -> Path:
        return self.versions(source) / f"{run_id}.nt"

    def version_facts(self, source: str, run_id: str) -> Path:
        """Records, triples and harvest state of a version (for approve and rollback)."""
        return self.versions(source) / f"{run_id}.json"

    def unsorted_version(self, source: str, run_id: str) -> Path:
        """Where a run writes its triples as they are mapped, before sorting."""
        return self.versions(source) / f"{run_id}.unsorted"

    def held(self, source: str) -> Path:
        return self.versions(source) / "held"

    def held_version(self, source: str, run_id: str) -> Path:
        return self.held(source) / f"{run_id}.nt"

    def held_facts(self, source: str, run_id: str) -> Path:
        return self.held(source) / f"{run_id}.json"

    def relative(self, path: Path) -> str:
        """A data-folder path as stored in state files and journals."""
        return str(path.relative_to(self.root))

    def absolute(self, relative: str) -> Path:
        return self.root / relative

    # -- runs ----------------------------------------------------------------
    def staging_root(self) -> Path:
        return self.root / "staging"

    def staging(self, source: str, run_id: str) -> Path:
        return self.staging_root() / f"{source}-{run_id}"

    def raw(self, source: str) -> Path:
        return self.root / "raw" / source

    def state(self, source: str) -> Path:
        return self.root / "state" / f"{source}.json"

    # -- publishing ----------------------------------------------------------
    def publishing(self) -> Path:
        return self.root / "publishing"

    def journal(self, source: str) -> Path:
        return self.publishing() / f"{source}.json"

    def journals(self) -> list[Path]:
        folder = self.publishing()
        return sorted(folder.glob("*.json")) if folder.exists() else []

    def change_set(self, source: str, run_id: str) -> tuple[Path, Path]:
        """The files of a publish's triples (removed, added)."""
        base = self.publishing() / f"{source}-{run_id}"
        return base.with_suffix(".removed.nt"), base.with_suffix(".added.nt")

    def published_dump(self, source: str) -> Path:
        """Where the live graph is dumped when no version file says what it holds."""
        return self.publishing() / f"{source}.live.nt"

    def changes(self, source: str) -> Path:
        return self.root / "changes" / f"{source}.jsonl"

    def dumps(self) -> Path:
        """The downloadable dumps (gzipped N-Quads), rewritten at each publish."""
        return self.root / "dumps"

    def dump(self, source: str) -> Path:
        return self.dumps() / f"{source}.nq.gz"

    def hub_dump(self) -> Path:
        return self.dumps() / "hub.nq.gz"

    def feed(self) -> Path:
        """The change feed: every publish's added, changed and removed entities (append-only)."""
        return self.root / "feed.sqlite"

    def report(self, source: str, run_id: str) -> Path:
        """A run's report for review (errors with record values, SHACL, gates, changes)."""
        return self.root / "reports" / source / f"{run_id}.json"

    def users(self) -> Path:
        """Accounts added by `hub user add`: names, roles, scopes and token hashes."""
        return self.root / "users.json"

    # -- serving -------------------------------------------------------------
    def readmodel(self) -> Path:
        return self.root / "readmodel.sqlite"

    def schedules(self) -> Path:
        """The scheduler's job store (APScheduler, SQLite): next run times survive restarts."""
        return self.root / "schedules.sqlite"

    def serve_file(self) -> Path:
        return self.root / "hub.serve.json"
