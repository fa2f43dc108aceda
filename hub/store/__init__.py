"""Where published RDF lives. `open_store` picks the adapter; only adapters touch the store."""

from __future__ import annotations

from pathlib import Path

from hub.store.oxigraph import OxigraphStore

__all__ = ["OxigraphStore", "open_store"]


def open_store(
    path: str | Path, *, read_only: bool = False, hidden_prefix: str | None = None
) -> OxigraphStore:
    """Open the embedded on-disk store at `path` (created if missing).

    Graphs whose IRI starts with `hidden_prefix` (staged runs, kept versions)
    are left out of `query()` unless asked for with `include_hidden=True`.
    """
    return OxigraphStore(Path(path), read_only=read_only, hidden_prefix=hidden_prefix)
