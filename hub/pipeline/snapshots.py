"""Raw snapshots: what a run fetched, kept per source and run, for replay (`hub remap`) and review.

Records are written as gzip-compressed JSON lines; Python values JSON has no type
for (decimals, dates, times, bytes) are tagged so that a replay maps them exactly
as the first run did. RDF sources keep their N-Triples, gzip-compressed.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.errors import HubError
from hub.layout import DataLayout

_TAGS = {"$decimal", "$date", "$datetime", "$time", "$bytes"}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return str(value)


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key in _TAGS:
            if key == "$decimal":
                return Decimal(value)
            if key == "$datetime":
                return dt.datetime.fromisoformat(value)
            if key == "$date":
                return dt.date.fromisoformat(value)
            if key == "$time":
                return dt.time.fromisoformat(value)
            return base64.b64decode(value)
    return obj


class SnapshotStore:
    """The raw snapshots of one source: `<data>/raw/<source>/<run>.jsonl.gz` (or `.nt.gz`)."""

    def __init__(self, data_dir: Path, source_id: str, keep: int) -> None:
        self.folder = DataLayout(data_dir).raw(source_id)
        self.source_id = source_id
        self.keep = keep

    def path(self, run_id: str, rdf: bool) -> Path:
        return self.folder / f"{run_id}.{'nt' if rdf else 'jsonl'}.gz"

    def tee_records(self, records: Iterable[Any], run_id: str) -> Iterator[Any]:
        """Pass records through, writing each to the run's snapshot."""
        if self.keep <= 0:
            yield from records
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(
            self.path(run_id, rdf=False), "wt", encoding="utf-8", compresslevel=1
        ) as out:
            for record in records:
                out.write(json.dumps(record, default=_default, ensure_ascii=False))
                out.write("\n")
                yield record

    def tee_chunks(self, chunks: Iterable[bytes], run_id: str) -> Iterator[bytes]:
        """Pass N-Triples chunks through, writing them to the run's snapshot."""
        if self.keep <= 0:
            yield from chunks
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(self.path(run_id, rdf=True), "wb", compresslevel=1) as out:
            for chunk in chunks:
                out.write(chunk)
                yield chunk

    def runs(self) -> list[Path]:
        """Snapshot files, oldest first."""
        if not self.folder.exists():
            return []
        return sorted(p for p in self.folder.iterdir() if p.name.endswith(".gz"))

    def latest(self, run_id: str | None = None) -> Path:
        """The snapshot of `run_id`, or the newest one; a clear error when there is none."""
        runs = self.runs()
        if run_id:
            found = [p for p in runs if p.name.startswith(run_id + ".")]
            if not found:
                known = ", ".join(p.name.split(".")[0] for p in runs[-5:]) or "none"
                raise HubError(
                    f"source `{self.source_id}` has no raw snapshot of run {run_id}; recent: {known}"
                )
            return found[0]
        if not runs:
            raise HubError(
                f"source `{self.source_id}` has no raw snapshot yet; run `hub harvest {self.source_id}` first"
            )
        return runs[-1]

    def read_records(self, path: Path) -> Iterator[Any]:
        """Replay the records of a snapshot, with their original Python types."""
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line, object_hook=_hook)

    def read_chunks(self, path: Path, size: int = 1 << 20) -> Iterator[bytes]:
        """Replay the N-Triples of an RDF snapshot in chunks of whole lines."""
        with gzip.open(path, "rb") as data:
            rest = b""
            while block := data.read(size):
                block = rest + block
                cut = block.rfind(b"\n") + 1
                rest = block[cut:]
                if cut:
                    yield block[:cut]
            if rest:
                yield rest

    def prune(self) -> None:
        """Keep the newest `keep` snapshots."""
        runs = self.runs()
        for old in runs[: max(0, len(runs) - self.keep)]:
            old.unlink(missing_ok=True)
