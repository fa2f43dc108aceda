"""The GeoSPARQL functions the service description lists are the ones the store evaluates.

Each geof: function of `OXIGRAPH_GEOF` is called on points, lines and polygons, on the
embedded store and on `oxigraph serve`; what answers for which shapes is what
docs/queries.md says (geof:distance: between points only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.errors import QueryError
from hub.store import HttpStore, OxigraphStore, Store
from hub.store.base import GEOF, OXIGRAPH_GEOF
from hub.store.server import OxigraphServer

WKT = "^^<http://www.opengis.net/ont/geosparql#wktLiteral>"
METRE = "<http://www.opengis.net/def/uom/OGC/1.0/metre>"
POINT = f'"POINT(10.31 43.55)"{WKT}'  # Livorno
POINT2 = f'"POINT(10.40 43.72)"{WKT}'  # Pisa
LINE = f'"LINESTRING(10.0 43.0, 11.0 44.0)"{WKT}'
LINE2 = f'"LINESTRING(10.0 44.0, 11.0 43.0)"{WKT}'
POLYGON = f'"POLYGON((10 43, 11 43, 11 44, 10 44, 10 43))"{WKT}'
SHAPES = {"point": POINT, "line": LINE, "polygon": POLYGON}
UNARY_NAMES = {
    "envelope",
    "convexHull",
    "centroid",
    "dimension",
    "coordinateDimension",
    "spatialDimension",
    "isEmpty",
    "isSimple",
    "getSRID",
    "asGeoJSON",
}
MEASURES = {"length", "perimeter"}


@pytest.fixture(scope="module", params=["embedded", "server"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    folder: Path = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        s: Store = OxigraphStore(folder / "store")
    else:
        server = OxigraphServer(folder / "store", timeout_s=10)
        url = server.url
        s = HttpStore(
            f"{url}/query", f"{url}/update", f"{url}/store", oxigraph=True, on_close=server.stop
        )
    yield s
    s.close()


def value(store: Store, expression: str) -> str | None:
    """The value of a SPARQL expression; None when it is unbound (the function gave nothing)."""
    rows = store.select(f"SELECT ?x WHERE {{ BIND({expression} AS ?x) }}")
    return rows[0]["x"].value if rows and "x" in rows[0] else None


def call(name: str, *args: str) -> str:
    return f"<{GEOF}{name}>({', '.join(args)})"


def arguments(name: str, shape: str) -> tuple[str, ...]:
    if name in UNARY_NAMES:
        return (shape,)
    if name in MEASURES:
        return (shape, METRE)
    if name == "distance":
        return (shape, POINT2, METRE)
    if name == "relate":
        return (shape, POLYGON, '"T********"')
    return (shape, POLYGON)


@pytest.mark.parametrize("function", OXIGRAPH_GEOF)
def test_every_listed_function_is_evaluated(store: Store, function: str) -> None:
    name = function.removeprefix(GEOF)
    answers = {
        kind: value(store, call(name, *arguments(name, wkt))) for kind, wkt in SHAPES.items()
    }
    assert any(a is not None for a in answers.values()), (name, answers)


def test_distance_is_between_points_only(store: Store) -> None:
    metres = float(value(store, call("distance", POINT, POINT2, METRE)) or 0)
    assert 19_000 < metres < 21_000  # geodesic, in the unit asked for
    assert value(store, call("distance", LINE, LINE2, METRE)) is None
    assert value(store, call("distance", POINT, LINE, METRE)) is None
    assert value(store, call("distance", POINT, POLYGON, METRE)) is None
    assert value(store, call("distance", POINT, POINT2)) is None  # a unit is required


def test_relations_work_on_every_shape(store: Store) -> None:
    inside = f'"POINT(10.5 43.5)"{WKT}'
    assert value(store, call("sfWithin", inside, POLYGON)) == "true"
    assert value(store, call("sfIntersects", LINE, POLYGON)) == "true"
    assert value(store, call("sfCrosses", LINE, LINE2)) == "true"
    assert value(store, call("sfContains", POLYGON, inside)) == "true"
    assert value(store, call("sfDisjoint", POINT, LINE)) == "true"


@pytest.mark.parametrize("name", ["buffer", "boundary", "metricDistance", "aggBoundingBox"])
def test_functions_not_listed_are_refused(store: Store, name: str) -> None:
    assert GEOF + name not in OXIGRAPH_GEOF
    with pytest.raises((QueryError, RuntimeError, OSError), match="not supported"):
        value(store, call(name, POINT, METRE))
