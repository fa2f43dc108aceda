"""Every harvester kind against every fault that applies to it, through real runs.

After a first good publish of each source, a faulty run must leave the published graph
exactly as it was (read from the real store before and after) and end failed or held
with a message that names the cause. The sources read real files, a real SQLite
database and a real HTTP server on loopback (`faultserver`); the portal runs a real
Scrapy crawl. The matrix of outcomes is printed at the end of the session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hub.pipeline.run import run_source
from tests.faults.faultserver import FaultServer, Reply, fault_server
from tests.faults.matrix import FAULTS, RESULTS, ROWS, MatrixHub, Row

ROW_OBJECTS = [make() for make in ROWS]
CELLS = [(row.name, fault) for row in ROW_OBJECTS for fault in FAULTS if fault in row.applies]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, server: FaultServer) -> Iterator[MatrixHub]:
    matrix_hub = MatrixHub(tmp_path_factory.mktemp("matrix"), server, [make() for make in ROWS])
    yield matrix_hub
    matrix_hub.store.close()


_published: set[str] = set()


def first_publish(hub: MatrixHub, row: Row) -> None:
    """The source's first good harvest, published once per session."""
    if row.source in _published:
        return
    report = run_source(hub.config, hub.store, row.source)
    assert report.status == "published", report.summary()
    assert report.records == (6 if row.kind not in ("rdf", "sparql") else 12), report.summary()
    _published.add(row.source)


@pytest.mark.parametrize(("row_name", "fault"), CELLS, ids=[f"{r}-{f}" for r, f in CELLS])
def test_a_fault_leaves_the_published_graph_and_names_its_cause(
    hub: MatrixHub, row_name: str, fault: str
) -> None:
    row = hub.rows[row_name]
    RESULTS[(row_name, fault)] = "✗"
    first_publish(hub, row)
    before = hub.live(row.source)
    assert before, "the first publish gave an empty graph"
    cell = row.apply(fault)
    try:
        report = run_source(hub.config, hub.store, row.source)
        if cell.check is not None:
            cell.check()
    finally:
        if row.restore is not None:
            row.restore()
            row.restore = None
        hub.server.clear_faults()
        row.good()
    assert hub.live(row.source) == before, f"{fault}: the published graph changed"
    assert report.status == cell.status, report.summary()
    for needle in cell.needles:
        assert needle.lower() in report.message.lower(), f"{needle!r} not in: {report.message}"
    RESULTS[(row_name, fault)] = "✓"


def test_a_retry_after_longer_than_the_cap_fails_at_once(hub: MatrixHub) -> None:
    """A server asking for an hour is not retried at once, nor waited for: the run fails now."""
    row = hub.rows["rest"]
    first_publish(hub, row)
    before = hub.live(row.source)
    hub.server.fault(row.path, Reply(503, b"maintenance", {"Retry-After": "3600"}))
    started = time.monotonic()
    try:
        report = run_source(hub.config, hub.store, row.source)
    finally:
        hub.server.clear_faults()
    assert time.monotonic() - started < 5
    assert report.status == "failed", report.summary()
    assert "asks to wait 3600 s" in report.message and "Retry-After: 3600" in report.message
    assert hub.live(row.source) == before
