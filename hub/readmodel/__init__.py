"""The API's read model: entities of every published source in SQLite (FTS5, R*Tree), per source.

Publishing a source calls `follow_publish` (the entities its change set touches,
or `rebuild_source` for the whole source); start-up calls `sync`; the API reads
through `ReadModel`. See docs/api.md for what is kept and why.

    >>> from hub.readmodel import rebuild_source, ReadModel              # doctest: +SKIP
    >>> rebuild_source(config, "itinera-trails", version_file)           # doctest: +SKIP
    11
    >>> with ReadModel.for_config(config).snapshot() as snap:             # doctest: +SKIP
    ...     snap.count(EntityFilter(regions=("liguria",)))
"""

from hub.readmodel._build import ReadModelError, rebuild_source, remove_source, sync
from hub.readmodel._model import EntityFilter, Page, SortSpec
from hub.readmodel._reader import ReadModel, ReadModelMissing, Snapshot, SourceInfo
from hub.readmodel._schema import readmodel_path
from hub.readmodel._text import DEFAULT_LANG, LANGS
from hub.readmodel._update import follow_publish, update_source

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "EntityFilter",
    "Page",
    "ReadModel",
    "ReadModelError",
    "ReadModelMissing",
    "Snapshot",
    "SortSpec",
    "SourceInfo",
    "follow_publish",
    "readmodel_path",
    "rebuild_source",
    "remove_source",
    "sync",
    "update_source",
]
