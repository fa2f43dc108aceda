"""A second harvest of unchanged HTTP sources costs conditional requests and changes nothing."""

from __future__ import annotations

import json

from hub.config import HubConfig
from hub.demo.servers import RunningDemo
from hub.pipeline.programme import load_programme
from hub.pipeline.run import run_source
from hub.store import open_store

CONDITIONAL = ("vivimed-events", "mare-di-agrumi-producers")


def test_unchanged_http_sources_make_one_conditional_request(
    demo_config: HubConfig, demo_http: RunningDemo
) -> None:
    store = open_store(demo_config.store_path)
    load_programme(store, demo_config)
    vivimed = demo_http.servers["vivimed_api"]
    for source in CONDITIONAL:
        assert run_source(demo_config, store, source).status == "published"
    first_requests = vivimed.requests
    assert first_requests >= 1
    graphs = {s: store.dump_graph(demo_config.base_iri + f"graph/{s}") for s in CONDITIONAL}

    # the second harvest: CKAN answers 304 for its files; Vivimed's incremental request
    # returns the boundary event again, and the hub sees the triples are the same
    for source in CONDITIONAL:
        report = run_source(demo_config, store, source)
        assert report.status == "unchanged", report.summary()
        assert report.ok
        assert store.dump_graph(demo_config.base_iri + f"graph/{source}") == graphs[source]
    assert vivimed.requests - first_requests == 1
    # the third: Vivimed too answers its conditional request with 304
    before = vivimed.requests
    report = run_source(demo_config, store, "vivimed-events")
    assert report.status == "unchanged" and report.records == 0, report.summary()
    assert "answered 304 Not Modified" in report.message  # how the hub knew, for the steward
    assert vivimed.requests - before == 1

    # an edited event is picked up by the next (incremental) harvest, the others kept
    event = json.loads(json.dumps(vivimed.events[0]))
    if event is not None:
        event["name"]["en"] = "Renamed for the test"
        event["updated_at"] = "2030-01-01T00:00:00Z"
        vivimed.update(event)
        report = run_source(demo_config, store, "vivimed-events")
        assert report.status == "published", report.summary()
        assert store.graph_size(demo_config.base_iri + "graph/vivimed-events") == len(
            graphs["vivimed-events"].splitlines()
        )
        assert b"Renamed for the test" in store.dump_graph(
            demo_config.base_iri + "graph/vivimed-events"
        )
