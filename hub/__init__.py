"""Marittimo Hub: harvest tourism sources, map them to one RDF vocabulary, validate, publish, serve.

The public surface is small on purpose; everything else may change.

    >>> from hub import load_config, open_store, run_source
    >>> config = load_config("hub.toml")                       # doctest: +SKIP
    >>> report = run_source(config, open_store(config.store_path), "itinera-trails")  # doctest: +SKIP
    >>> report.summary()                                       # doctest: +SKIP
    'itinera-trails: PUBLISHED (11 records, 0 rejected, 202 triples, 0 violations, 0.1s)'
"""

from importlib import import_module
from typing import Any

# Loaded on first use, so that `import harvesters` (which needs hub.errors) and
# `import hub` work in either order.
_WHERE = {
    "HubConfig": "hub.config",
    "load_config": "hub.config",
    "ConfigError": "hub.errors",
    "HarvestError": "hub.errors",
    "HubError": "hub.errors",
    "MappingError": "hub.errors",
    "QueryError": "hub.errors",
    "RecordError": "hub.errors",
    "StoreError": "hub.errors",
    "RunReport": "hub.pipeline.provenance",
    "run_source": "hub.pipeline.run",
    "connect_store": "hub.store",
    "open_store": "hub.store",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'hub' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
