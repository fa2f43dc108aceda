"""The change feed: entity-level changes of every publish, for consumers who replicate.

A subscriber of `Published` (`change_feed`) appends each publish's added, changed and
removed entities, with the entities' triples, to `<data>/feed.sqlite`; the API serves
it as /api/v1/changes (JSON) and /api/v1/changes/ldes (a Linked Data Event Stream).
See docs/decisions.md ("A change feed for replicas").

    >>> from hub.feed import FeedReader                                   # doctest: +SKIP
    >>> FeedReader.for_config(config).page(after=0, source=None, size=10) # doctest: +SKIP
    [Item(seq=1, source='places', entity='https://hub.example.org/id/places/p0', ...)]
"""

from __future__ import annotations

from datetime import UTC, datetime

from hub.config import HubConfig
from hub.feed._derive import owner_of
from hub.feed._store import KINDS, FeedError, FeedReader, Item, Publish, feed_path, record, sync
from hub.pipeline.events import Published, Subscriber, Work, prepared_ahead

__all__ = [
    "KINDS",
    "FeedError",
    "FeedReader",
    "Item",
    "Publish",
    "change_feed",
    "feed_path",
    "owner_of",
    "record",
    "sync",
]


def change_feed(config: HubConfig) -> Subscriber:
    """Each published version's entity changes appended to the change feed (prepared
    beside the store's write, committed once the version is published)."""

    def work(event: Published) -> Work:
        report = event.report
        publish = Publish(
            source=report.source,
            version_file=event.version,
            run=report.run_id,
            previous=event.previous_run,
            reason=event.reason,
            published=report.ended or datetime.now(UTC),
        )
        return record, {"config": config, "publish": publish}

    return prepared_ahead("change feed", work)
