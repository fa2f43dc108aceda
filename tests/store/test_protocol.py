"""Both adapters implement the `Store` protocol, and behave alike where the publisher relies on it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from hub.store import HttpStore, OxigraphStore, Store
from hub.store.server import OxigraphServer

GRAPH = "https://hub.example.org/graph/t"
LINES = "".join(f'<https://e/{i}> <http://schema.org/name> "n{i}" .\n' for i in range(50))


@pytest.fixture(params=["embedded", "server"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "embedded":
        store: Store = OxigraphStore(tmp_path / "store")
        yield store
        store.close()
        return
    server = OxigraphServer(tmp_path / "store", timeout_s=5)
    url = server.url
    store = HttpStore(
        f"{url}/query", f"{url}/update", f"{url}/store", oxigraph=True, on_close=server.stop
    )
    yield store
    store.close()


def test_both_adapters_are_stores(any_store: Store) -> None:
    assert isinstance(any_store, Store)
    caps = any_store.capabilities
    assert caps.atomic_updates and caps.max_update_bytes > 0 and caps.describe
    assert "@" not in caps.describe  # never credentials


def test_add_file_is_repeatable_and_dump_streams_the_graph(
    any_store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "in.nt"
    source.write_text(LINES)
    any_store.add_file(GRAPH, source)
    any_store.add_file(GRAPH, source)  # adding again changes nothing
    assert any_store.graph_size(GRAPH) == 50
    out = tmp_path / "out.nt"
    any_store.dump_graph_to(GRAPH, out)
    dumped = {str(t) for t in ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES)}
    assert dumped == {str(t) for t in ox.parse(LINES, ox.RdfFormat.N_TRIPLES)}


def test_an_update_of_several_operations_is_one_transaction(any_store: Store) -> None:
    any_store.update(f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <https://e/a> <https://e/p> 1 }} }}")
    with pytest.raises(Exception):  # noqa: B017 - the second operation is invalid
        any_store.update(
            f"DELETE DATA {{ GRAPH <{GRAPH}> {{ <https://e/a> <https://e/p> 1 }} }} ;\n"
            f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <https://e/a> <https://e/p> "x"^^<bad iri> }} }}'
        )
    assert any_store.graph_size(GRAPH) == 1  # the first operation did not happen either


def test_publishing_holds_off_new_reads(any_store: Store) -> None:
    seen: list[int] = []
    with any_store.publishing():
        reader = threading.Thread(target=lambda: seen.append(any_store.graph_size(GRAPH)))
        reader.start()
        time.sleep(0.3)
        assert seen == []
    reader.join(10)
    assert seen == [0]
