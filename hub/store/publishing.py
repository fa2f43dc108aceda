"""Crash-safe, reader-atomic replacement of a named graph, shared by every store adapter.

The adapter supplies `_replace_from_file(graph, path)` (drop the graph, bulk-load the
file: fast but two steps). This mixin wraps it in a journal (redone at the next start
if the process dies half-way) and in the write side of a readers-writer gate, so no
query starts in between; queries already running keep the snapshot they started on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hub.errors import StoreError
from hub.store.rwlock import ReadWriteLock


class GraphPublisher:
    """Mixin: `publish_file` with journal and read gate; `reading()` for queries."""

    journal: Path
    _publishing: ReadWriteLock

    def _replace_from_file(self, graph: str, ntriples: Path) -> None:  # pragma: no cover
        raise NotImplementedError

    def publish_file(self, graph: str, ntriples: Path) -> None:
        """Make `graph` hold exactly the triples of an N-Triples file; atomic for readers."""
        with self._publishing.writing():
            self._write_journal({"graph": graph, "file": str(ntriples)})
            self._replace_from_file(graph, ntriples)
            self.journal.unlink(missing_ok=True)

    def _write_journal(self, entry: dict) -> None:
        tmp = self.journal.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(entry, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.journal)

    def _recover(self) -> None:
        """Finish a publish that a crash interrupted (redo it from its version file)."""
        if not self.journal.exists():
            return
        entry = json.loads(self.journal.read_text(encoding="utf-8"))
        source_file = Path(entry["file"])
        if not source_file.exists():
            raise StoreError(
                f"an interrupted publish of {entry['graph']} cannot be redone: {source_file} is "
                f"missing; restore it, or delete {self.journal} and re-harvest that source"
            )
        self._replace_from_file(entry["graph"], source_file)
        self.journal.unlink()
