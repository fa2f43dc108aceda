"""Marittimo Hub: harvest tourism sources, map them to one RDF vocabulary, validate, publish, serve.

The public surface is small on purpose; everything else may change.

    >>> from hub import load_config, open_store, run_source
    >>> config = load_config("hub.toml")                       # doctest: +SKIP
    >>> report = run_source(config, open_store(config.store_path), "itinera-trails")  # doctest: +SKIP
    >>> report.summary()                                       # doctest: +SKIP
    'itinera-trails: PUBLISHED (11 records, 0 rejected, 202 triples, 0 violations, 0.1s)'
"""

from hub.config import HubConfig, load_config
from hub.errors import (
    ConfigError,
    HarvestError,
    HubError,
    MappingError,
    QueryError,
    RecordError,
    StoreError,
)
from hub.pipeline.provenance import RunReport
from hub.pipeline.run import run_source
from hub.store import open_store

__all__ = [
    "ConfigError",
    "HarvestError",
    "HubConfig",
    "HubError",
    "MappingError",
    "QueryError",
    "RecordError",
    "RunReport",
    "StoreError",
    "load_config",
    "open_store",
    "run_source",
]
