"""The change feed: a replica rebuilt from /api/v1/changes equals what is published, always.

Real parts only: the one-source MiniHub published through the pipeline, Publisher's
rollback and recovery, the FastAPI app through TestClient, a pyoxigraph store as replica.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.api.v1.changes import AS, LDES, TREE, encode_cursor
from hub.feed import FeedReader, feed_path
from hub.iris import DCT, PROV, RDF, Iris
from hub.pipeline.events import Published
from hub.pipeline.programme import load_programme
from hub.pipeline.publish import Publisher
from hub.pipeline.run import SourceRun, run_source
from hub.pipeline.subscribers import default_subscribers
from tests.api_v1.conftest import DemoHub
from tests.pipeline.conftest import MiniHub

REPLICA = "urn:x-replica:"


@pytest.fixture
def minihub(tmp_path) -> MiniHub:  # noqa: ANN001
    hub = MiniHub(tmp_path)
    load_programme(hub.store, hub.config)
    return hub


@pytest.fixture
def client(minihub: MiniHub) -> Iterator[TestClient]:  # the package's `client` serves the demo
    with TestClient(create_app(minihub.config, minihub.store)) as c:
        yield c


def publish(minihub: MiniHub, rows: list) -> str:  # noqa: ANN001
    minihub.write(rows)
    report = run_source(minihub.config, minihub.store, "places")
    assert report.status == "published", report.summary()
    return report.run_id


def apply(replica: ox.Store, item: dict) -> None:
    """What a replicator does with one change: replace (or drop) the entity's triples."""
    graph = ox.NamedNode(REPLICA + item["source"] + ":" + quote(item["entity"], safe=""))
    replica.remove_graph(graph)
    if item["triples"] is not None:
        replica.load(item["triples"].encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)


def follow(
    client: TestClient,
    replica: ox.Store,
    since: str | None = None,
    *,
    source: str | None = None,
    size: int = 7,
) -> tuple[str, list[dict]]:
    """Every change after `since`, applied to the replica; the last cursor and the changes."""
    seen: list[dict] = []
    while True:
        params: dict[str, str | int] = {"size": size}
        if since:
            params["since"] = since
        if source:
            params["source"] = source
        answer = client.get("/api/v1/changes", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= size
        for item in page["items"]:
            apply(replica, item)
        seen += page["items"]
        since = page["next"]
        if not page["more"]:
            return since, seen


def replica_triples(replica: ox.Store, source: str) -> set[str]:
    prefix = REPLICA + source + ":"
    return {
        str(ox.Triple(q.subject, q.predicate, q.object))
        for q in replica
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(prefix)
    }


def live_triples(store, graph: str) -> set[str]:  # noqa: ANN001
    return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in store.quads(graph)}


def assert_replica_is_published(replica: ox.Store, minihub: MiniHub) -> None:
    live = live_triples(minihub.store, minihub.live)
    assert live, "nothing published"
    assert replica_triples(replica, "places") == live


def kinds(items: list[dict]) -> dict[str, str]:
    return {item["key"]: item["kind"] for item in items}


def test_a_replica_follows_publishes_removals_and_a_rollback(
    minihub: MiniHub, client: TestClient
) -> None:
    first = minihub.places(20)
    publish(minihub, first)
    replica = ox.Store()
    cursor, items = follow(client, replica)
    assert kinds(items) == {f"p{i}": "added" for i in range(20)}
    assert_replica_is_published(replica, minihub)
    item = items[0]
    assert item["entity"] == minihub.iris.entity_prefix("places") + item["key"]
    assert item["href"] == f"/api/v1/entities/places/{item['key']}"
    assert client.get(item["href"]).status_code == 200

    # one changed, one removed, one added; the replica resumes from its cursor
    second = list(first[:19]) + [("p20", "Luogo 20", "43.0200", "10.0200")]
    second[3] = ("p3", "Luogo nuovo", first[3][2], first[3][3])
    run = publish(minihub, second)
    cursor, items = follow(client, replica, cursor)
    assert kinds(items) == {"p3": "changed", "p19": "removed", "p20": "added"}
    assert {i["run"] for i in items} == {run} and {i["reason"] for i in items} == {"run"}
    removed = next(i for i in items if i["kind"] == "removed")
    assert removed["triples"] is None and removed["href"] is None
    assert_replica_is_published(replica, minihub)

    # a rollback goes through the same publish path, so it feeds too
    report = Publisher(minihub.config, minihub.store).rollback("places", reason="test")
    assert report.status == "published"
    cursor, items = follow(client, replica, cursor)
    assert kinds(items) == {"p3": "changed", "p19": "added", "p20": "removed"}
    assert {i["reason"] for i in items} == {"rollback"}
    assert_replica_is_published(replica, minihub)

    # nothing new: the same cursor, no items; a fresh replica from the start agrees
    again = client.get("/api/v1/changes", params={"since": cursor}).json()
    assert again == {"items": [], "next": cursor, "more": False}
    fresh = ox.Store()
    follow(client, fresh, size=1000)
    assert_replica_is_published(fresh, minihub)


def test_the_cursor_resumes_mid_way_without_gaps_or_duplicates(
    minihub: MiniHub, client: TestClient
) -> None:
    publish(minihub, minihub.places(13))
    publish(minihub, minihub.places(9, prefix="q"))  # 13 removed, 9 added
    everything = client.get("/api/v1/changes", params={"size": 1000}).json()["items"]
    assert len(everything) == 13 + 22
    # one page of 5, then the rest from its cursor in pages of 4: the same list, in order
    page = client.get("/api/v1/changes", params={"size": 5}).json()
    assert page["more"] is True
    replica = ox.Store()
    _, rest = follow(client, replica, page["next"], size=4)
    assert page["items"] + rest == everything
    # per source, the same resumption holds
    _, only = follow(client, ox.Store(), source="places", size=3)
    assert only == everything


def test_a_publish_finished_again_by_recovery_adds_nothing(
    minihub: MiniHub, client: TestClient
) -> None:
    publish(minihub, minihub.places(6))

    class Killed(BaseException):
        """The process dies after the subscribers ran, before the journal is removed."""

    def die(event) -> None:  # noqa: ANN001
        if isinstance(event, Published):
            raise Killed

    publisher = Publisher(
        minihub.config,
        minihub.store,
        subscribers=[*default_subscribers(minihub.config, minihub.store), die],
    )
    minihub.write(minihub.places(8))
    run = SourceRun(
        minihub.config, minihub.store, minihub.config.source("places"), publisher=publisher
    )
    with pytest.raises(Killed):
        run.execute()
    before = client.get("/api/v1/changes", params={"size": 1000}).json()["items"]
    assert kinds(before[6:]) == {"p6": "added", "p7": "added"}
    done = Publisher(minihub.config, minihub.store).recover()
    assert any("finished the interrupted publish" in line for line in done)
    after = client.get("/api/v1/changes", params={"size": 1000}).json()["items"]
    assert after == before
    replica = ox.Store()
    follow(client, replica)
    assert_replica_is_published(replica, minihub)


def test_the_feed_is_append_only_and_survives_a_restart(minihub: MiniHub) -> None:
    import sqlite3

    publish(minihub, minihub.places(3))
    path = feed_path(minihub.config)
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM items")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE items SET kind = 'removed'")
    finally:
        conn.close()
    minihub.store.close()
    minihub.store = __import__("hub.store", fromlist=["open_store"]).open_store(
        minihub.config.store_path
    )
    with TestClient(create_app(minihub.config, minihub.store)) as c:
        assert len(c.get("/api/v1/changes").json()["items"]) == 3


def test_items_written_with_zlib_by_an_older_hub_are_still_served(
    minihub: MiniHub, client: TestClient
) -> None:
    """Before `hub.util.blobs`, items' triples were zlib: a feed keeps them for ever."""
    import sqlite3
    import zlib

    from hub.util.blobs import unpack

    first = minihub.places(5)
    publish(minihub, first)
    conn = sqlite3.connect(feed_path(minihub.config))
    try:  # rewrite the items as an older hub wrote them (its trigger comes back on connect)
        conn.create_function("as_zlib", 1, lambda blob: zlib.compress(unpack(blob)))
        conn.execute("DROP TRIGGER items_no_update")
        changed = conn.execute(
            "UPDATE items SET triples = as_zlib(triples) WHERE triples IS NOT NULL"
        )
        assert changed.rowcount == 5
        conn.commit()
    finally:
        conn.close()
    second = [*first[:4], ("p9", "Luogo 9", "43.0900", "10.0900")]
    publish(minihub, second)
    replica = ox.Store()
    _, items = follow(client, replica)
    assert [i["kind"] for i in items].count("added") == 6
    assert_replica_is_published(replica, minihub)


def _cursor(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_bad_cursors_are_refused_with_a_clear_message(minihub: MiniHub, client: TestClient) -> None:
    publish(minihub, minihub.places(3))
    feed, last = FeedReader.for_config(minihub.config).state()
    cases = {
        "not base64 !": "not a cursor of this feed",
        _cursor(["a", 1]): "not a cursor of this feed",
        _cursor({"v": 1, "f": feed, "a": -1, "s": None}): "not a cursor of this feed",
        _cursor({"v": 9, "f": feed, "a": 1, "s": None}): "not a cursor of this feed",
        "x" * 600: "too long",
        encode_cursor(feed, 1, "other"): "made for source='other'",
        encode_cursor("0123456789abcdef", 1, None): "another change feed",
        encode_cursor(feed, last + 5, None): "past the end of this feed",
    }
    for since, message in cases.items():
        answer = client.get("/api/v1/changes", params={"since": since})
        assert answer.status_code == 400, (since, answer.text)
        assert message in answer.json()["error"]["message"], answer.text
        assert "without `since`" in answer.json()["error"]["message"]
        ldes = client.get("/api/v1/changes/ldes", params={"since": since})
        assert ldes.status_code == 400
    for params in ({"size": "0"}, {"size": "x"}, {"source": "Not An Id"}, {"page": "2"}):
        assert client.get("/api/v1/changes", params=params).status_code == 400, params
    # the beginning is position 0 of any feed: a cursor made before the first publish works
    assert client.get("/api/v1/changes", params={"since": encode_cursor(None, 0, None)}).json()[
        "items"
    ]


def _pages(client: TestClient, url: str, fmt: ox.RdfFormat, accept: str) -> list[ox.Store]:
    """Every page of the LDES from `url`, parsed, following tree:relation / tree:node."""
    pages = []
    while url:
        answer = client.get(url, headers={"Accept": accept})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(accept)
        page = ox.Store()
        page.load(answer.content, format=fmt, base_iri=str(answer.url))
        pages.append(page)
        targets = [
            q.object.value for q in page.quads_for_pattern(None, ox.NamedNode(TREE + "node"), None)
        ]
        assert len(targets) <= 1
        if targets:
            relation = next(page.quads_for_pattern(None, ox.NamedNode(TREE + "node"), None))
            kinds = {
                q.object
                for q in page.quads_for_pattern(relation.subject, ox.NamedNode(RDF + "type"), None)
            }
            assert kinds == {ox.NamedNode(TREE + "GreaterThanOrEqualToRelation")}
            parts = urlsplit(targets[0])
            url = parts.path + "?" + parts.query
        else:
            url = ""
    return pages


@pytest.mark.parametrize(
    ("fmt", "accept"),
    [(ox.RdfFormat.TURTLE, "text/turtle"), (ox.RdfFormat.JSON_LD, "application/ld+json")],
)
def test_ldes_pages_parse_and_link_with_tree_relations(
    minihub: MiniHub, client: TestClient, fmt: ox.RdfFormat, accept: str
) -> None:
    publish(minihub, minihub.places(10))
    rows = minihub.places(10)[:8]
    publish(minihub, rows)  # two removed
    pages = _pages(client, "/api/v1/changes/ldes?size=4", fmt, accept)
    assert len(pages) == 4  # 12 members in pages of 4, then the empty page they link to
    a = ox.NamedNode(RDF + "type")
    members, deletes = [], 0
    for page in pages:
        streams = [
            q.subject for q in page.quads_for_pattern(None, a, ox.NamedNode(LDES + "EventStream"))
        ]
        assert len(streams) == 1
        for path in ("timestampPath", "versionOfPath"):
            assert list(page.quads_for_pattern(streams[0], ox.NamedNode(LDES + path), None))
        for q in page.quads_for_pattern(streams[0], ox.NamedNode(TREE + "member"), None):
            member = q.object
            members.append(member)
            (version_of,) = page.quads_for_pattern(member, ox.NamedNode(DCT + "isVersionOf"), None)
            assert version_of.object.value.startswith(minihub.iris.entity_prefix("places"))
            assert list(
                page.quads_for_pattern(member, ox.NamedNode(PROV + "generatedAtTime"), None)
            )
            deletes += bool(list(page.quads_for_pattern(member, a, ox.NamedNode(AS + "Delete"))))
    assert len(members) == len(set(members)) == 12 and deletes == 2
    # an added member carries the entity's own triples (its name) on the version object
    first = pages[0]
    member = next(first.quads_for_pattern(None, ox.NamedNode(TREE + "member"), None)).object
    assert list(first.quads_for_pattern(member, ox.NamedNode("http://schema.org/name"), None))


def test_the_demo_feed_rebuilds_every_source(demo_hub: DemoHub) -> None:
    """Sub-resources (addresses, geometries) and every demo source replay exactly."""
    with TestClient(create_app(demo_hub.config, demo_hub.store)) as c:
        replica = ox.Store()
        _, items = follow(c, replica, size=1000)
    assert items
    for source in demo_hub.config.sources:
        graph = Iris(demo_hub.config.base_iri).source_graph(source)
        assert replica_triples(replica, source) == live_triples(demo_hub.store, graph), source
    owners = {i["entity"] for i in items}
    assert not any(o.endswith(("/address", "/geometry")) for o in owners)


def test_blank_nodes_and_sub_resources_belong_to_their_entity(tmp_path) -> None:  # noqa: ANN001
    from hub.feed._derive import digest_of, group_version, owner_groups

    prefix = "https://h/id/s/"
    genid = "https://h/.well-known/genid/s/"
    lines = [
        f'<{prefix}a> <http://schema.org/name> "A" .',
        f"<{prefix}a> <http://schema.org/address> <{prefix}a/address> .",
        f'<{prefix}a/address> <http://schema.org/addressLocality> "Bastia" .',
        f"<{prefix}a> <http://schema.org/offers> <{genid}b1> .",
        f'<{genid}b1> <http://schema.org/price> "5"^^<http://www.w3.org/2001/XMLSchema#decimal> .',
        f"<{genid}b1> <http://schema.org/seller> <{genid}b2> .",
        f'<{genid}b2> <http://schema.org/name> "nested" .',
        f'<{prefix}b#geo> <http://schema.org/latitude> "1" .',
        f'<{genid}orphan> <http://schema.org/name> "alone" .',
        '<https://elsewhere.org/x> <http://schema.org/name> "X" .',
    ]
    version = tmp_path / "v.nt"
    version.write_text("\n".join(sorted(lines)) + "\n")
    grouping = group_version(version, prefix)
    owners = set(grouping.digests)
    assert owners == {prefix + "a", prefix + "b", genid + "orphan", "https://elsewhere.org/x"}
    groups = list(owner_groups(version, grouping))  # one pass, each group whole
    got = {owner: sorted(line.decode() for line in group) for owner, group in groups}
    assert len(groups) == len(got) == 4 and set(got) == owners
    assert len(got[prefix + "a"]) == 7 and sum(len(v) for v in got.values()) == len(lines)
    assert sorted(line for group in got.values() for line in group) == sorted(lines)
    assert {o: digest_of(g) for o, g in groups} == {o: grouping.hexdigest(o) for o in owners}


def test_sync_catches_up_a_feed_that_missed_publishes(minihub: MiniHub, client: TestClient) -> None:
    from hub.feed import sync

    publish(minihub, minihub.places(4))
    for suffix in ("", "-wal", "-shm"):  # a hub that had no feed yet
        feed_path(minihub.config).with_name("feed.sqlite" + suffix).unlink(missing_ok=True)
    assert client.get("/api/v1/changes").json()["items"] == []
    assert sync(minihub.config) == {"places": "4 entity changes"}
    assert sync(minihub.config) == {"places": "up to date"}
    replica = ox.Store()
    _, items = follow(client, replica)
    assert {i["reason"] for i in items} == {"sync"}
    assert_replica_is_published(replica, minihub)
