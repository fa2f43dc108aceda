"""Harvesters fetch records (plain dicts) from sources; one module per source kind.

A harvester is called as `harvester(source_id, options, root=folder)`: it checks the
options at once (raising HarvestError) and returns an iterator that reads the source
lazily, streaming records. Every failure, even half-way, raises `hub.errors.HarvestError`.
The kinds, with the declaration of each one's options, are registered in `harvesters.kinds`.

    >>> harvest = get_harvester("files")
    >>> records = harvest("musei", {"path": "musei.csv", "delimiter": ";"}, root=Path("hub/demo"))
"""

from __future__ import annotations

from harvesters.context import HarvestContext, record_location
from harvesters.kinds import KINDS, Harvester, get_harvester

__all__ = ["KINDS", "HarvestContext", "Harvester", "get_harvester", "record_location"]
