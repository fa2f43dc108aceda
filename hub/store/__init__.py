"""Where RDF lives. `open_store` opens the embedded store; only adapters touch pyoxigraph stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.store.oxigraph import OxigraphStore, sparql_iri

__all__ = ["OxigraphStore", "open_store", "sparql_iri", "staging_store"]


def open_store(path: str | Path, *, read_only: bool = False) -> OxigraphStore:
    """Open the embedded on-disk store at `path` (created if missing)."""
    return OxigraphStore(Path(path), read_only=read_only)


@contextmanager
def staging_store(folder: Path) -> Iterator[OxigraphStore]:
    """A throw-away on-disk store for one run: load, validate, dump, then deleted whole."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    store = OxigraphStore(folder)
    try:
        yield store
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(store.journal, ignore_errors=True)
