"""The `files` harvester on real CSV, JSON and GeoJSON files, local and over loopback HTTP."""

from __future__ import annotations

import json
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import harvesters
from harvesters import KINDS, get_harvester
from hub.errors import ConfigError, HarvestError

harvest_files = get_harvester("files")


def harvest(options: dict[str, Any], root: Path) -> list[dict]:
    """All records of a `files` source called `test`."""
    return list(harvest_files("test", options, root=root))


def harvest_until_error(options: dict[str, Any], root: Path) -> tuple[list[dict], HarvestError]:
    """The records yielded before the harvester failed, and its error."""
    records: list[dict] = []
    with pytest.raises(HarvestError) as caught:
        for record in harvest_files("test", options, root=root):
            records.append(record)
    return records, caught.value


# --- the registry -------------------------------------------------------------------


def test_public_api_is_what_all_says() -> None:
    assert sorted(harvesters.__all__) == [
        "HarvestContext",
        "Harvester",
        "KINDS",
        "get_harvester",
        "record_location",
    ]
    assert set(KINDS) >= {"files", "sql"}
    assert all(callable(get_harvester(kind)) for kind in KINDS)


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown harvester kind `ftp`.*files, sql"):
        get_harvester("ftp")


# --- CSV ----------------------------------------------------------------------------


def test_csv_semicolon_latin1_from_fixture(data_dir: Path) -> None:
    options = {"path": "musei-latin1.csv", "delimiter": ";", "encoding": "latin-1"}
    records = harvest(options, data_dir)
    assert [r["codice"] for r in records] == ["MU-01", "MU-02", "MU-03"]
    assert records[1] == {
        "codice": "MU-02",
        "nome": "Musée Fesch",
        "comune": "Ajaccio",
        "biglietto": "8,00",
        "note": "collection de peinture italienne",
    }
    # a quoted value keeps the delimiter; empty cells are missing values
    assert records[2]["note"] == "chiuso il lunedì; aperto 9-19"
    assert records[2]["biglietto"] is None
    assert records[0]["note"] is None


def test_csv_values_are_strings_and_empty_cells_none(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text('id,name,stars\n1,"Caffè Roma",\n2,,4\n\n', encoding="utf-8")
    assert harvest({"path": "p.csv"}, tmp_path) == [
        {"id": "1", "name": "Caffè Roma", "stars": None},
        {"id": "2", "name": None, "stars": "4"},
    ]


def test_csv_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes("id,città\r\n7,Bastia\r\n".encode("utf-8-sig"))
    assert harvest({"path": "bom.csv"}, tmp_path) == [{"id": "7", "città": "Bastia"}]


def test_csv_quoted_line_breaks_and_crlf(tmp_path: Path) -> None:
    text = 'id,descr\r\n1,"riga uno\r\nriga due"\r\n2,fine\r\n'
    (tmp_path / "q.csv").write_bytes(text.encode())
    assert harvest({"path": "q.csv"}, tmp_path) == [
        {"id": "1", "descr": "riga uno\r\nriga due"},
        {"id": "2", "descr": "fine"},
    ]


def test_csv_wrong_delimiter_says_which_one(data_dir: Path) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest({"path": "musei-latin1.csv", "encoding": "latin-1"}, data_dir)
    message = str(caught.value)
    assert "source `test`" in message
    assert "is the delimiter ';'? set options.delimiter" in message


def test_csv_row_with_wrong_field_count_names_the_line_after_earlier_rows(tmp_path: Path) -> None:
    lines = ["id,name,town", "1,a,Pisa", "2,b,Lucca", "3,c,Massa,extra", "4,d,Siena"]
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, error = harvest_until_error({"path": "bad.csv"}, tmp_path)
    assert [r["id"] for r in records] == ["1", "2"]  # yielded before the failure
    assert "bad.csv line 4: the row has 4 fields but the header has 3" in str(error)


def test_csv_wrong_encoding_names_the_byte_and_the_option(data_dir: Path) -> None:
    records, error = harvest_until_error({"path": "musei-latin1.csv", "delimiter": ";"}, data_dir)
    assert [r["codice"] for r in records] == ["MU-01"]
    raw = (data_dir / "musei-latin1.csv").read_bytes()
    assert f"at byte {raw.index('é'.encode('latin-1'))} (line 3)" in str(error)
    assert "cannot decode musei-latin1.csv as utf-8" in str(error)
    assert "set options.encoding" in str(error)


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,name,name\n1,a,b\n", encoding="utf-8")
    with pytest.raises(HarvestError, match="column `name` twice"):
        harvest({"path": "d.csv"}, tmp_path)


def test_empty_file_gives_no_records(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    assert harvest({"path": "empty.csv"}, tmp_path) == []


def test_csv_is_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id,name,town,lat,lon\n")
        for i in range(200_000):
            out.write(f"{i},Struttura ricettiva numero {i},Comune di prova,43.{i:06d},10.{i:06d}\n")
    size = path.stat().st_size
    count = 0
    tracemalloc.start()
    try:
        for record in harvest_files("big", {"path": "big.csv"}, root=tmp_path):
            count += 1
            assert record["town"] == "Comune di prova"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    # Holding the file's text alone would take more than `size` bytes; the rows as
    # dicts several times that. A streaming reader needs a few chunks at most.
    assert size > 10_000_000
    assert peak < size / 10, f"peak {peak} bytes while reading a {size}-byte file"


# --- options ------------------------------------------------------------------------


def test_missing_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(HarvestError, match=r"file demo/x.csv not found .*check options.path"):
        harvest({"path": "demo/x.csv"}, tmp_path)


def test_unknown_extension_asks_for_format(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(HarvestError, match="set options.format to one of csv, json, geojson"):
        harvest({"path": "data.txt"}, tmp_path)
    assert harvest({"path": "data.txt", "format": "csv"}, tmp_path) == [{"id": "1"}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "a.csv", "delimeter": ";"}, "did you mean `delimiter`"),
        ({}, "set exactly one of options.path"),
        ({"path": "a.csv", "url": "http://x/a.csv"}, "set exactly one of options.path"),
        ({"path": "a.csv", "format": "xls"}, "save an old .xls workbook as .xlsx"),
        ({"path": "a.csv", "delimiter": ";;"}, "options.delimiter must be one character"),
        ({"path": "a.csv", "encoding": "klingon"}, "unknown encoding `klingon`"),
        ({"url": "ftp://host/a.csv"}, "is not an http(s) URL"),
        ({"path": "a.csv", "records": "data"}, "options.records is for JSON and GeoJSON"),
        ({"url": "http://host/a.csv", "timeout": 0}, "options.timeout must be a positive"),
    ],
)
def test_bad_options_are_refused_when_called(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(HarvestError) as caught:
        harvest_files("test", options, root=tmp_path)  # no iteration needed
    assert message in str(caught.value)


# --- JSON and GeoJSON ---------------------------------------------------------------


def test_json_records_path(data_dir: Path) -> None:
    records = harvest({"path": "strutture.json", "records": "data.items"}, data_dir)
    assert [r["name"] for r in records] == [
        "Hôtel du Port",
        "Agriturismo Il Poggio",
        "Camping La Pineta",
    ]
    assert records[0]["tags"] == ["mer", "centre"]
    assert records[1]["stars"] is None


def test_json_object_without_records_option_says_where_the_lists_are(data_dir: Path) -> None:
    with pytest.raises(HarvestError, match=r"set options.records"):
        harvest({"path": "strutture.json"}, data_dir)
    with pytest.raises(HarvestError, match=r"has no `itemz` \(its lists are under: items\)"):
        harvest({"path": "strutture.json", "records": "data.itemz"}, data_dir)


def test_json_top_level_list(tmp_path: Path) -> None:
    (tmp_path / "l.json").write_text('[{"a": 1}, {"a": "è"}]', encoding="utf-8")
    assert harvest({"path": "l.json"}, tmp_path) == [{"a": 1}, {"a": "è"}]


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('[\n {"a": 1},\n {"a": }\n]', encoding="utf-8")
    with pytest.raises(HarvestError, match=r"bad.json is not valid JSON: .* line 3 column 8"):
        harvest({"path": "bad.json"}, tmp_path)


def test_json_records_that_are_not_objects_are_refused(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('["a", "b"]', encoding="utf-8")
    with pytest.raises(HarvestError, match="record 1 is str, not an object"):
        harvest({"path": "s.json"}, tmp_path)


def test_geojson_points_and_lines_get_wkt(data_dir: Path) -> None:
    records = harvest({"path": "sentieri.geojson"}, data_dir)
    assert [r["wkt"] for r in records] == [
        "POINT (10.3395 43.4721)",
        "LINESTRING (9.5212 42.9611, 9.5301 42.9702, 9.54 42.98)",
        None,
    ]
    torre = records[0]
    assert torre["type"] == "Feature"
    assert torre["id"] == "torre-1"
    assert torre["properties"] == {"name": "Torre di Calafuria", "kind": "viewpoint"}
    assert torre["geometry"]["type"] == "Point"
    assert "id" not in records[2]


def test_geojson_polygons_and_multi_geometries(tmp_path: Path) -> None:
    ring = [[10, 43], [11, 43], [11, 44], [10, 43]]
    hole = [[10.2, 43.2], [10.4, 43.2], [10.4, 43.4], [10.2, 43.2]]
    geometries = [
        {"type": "Polygon", "coordinates": [ring, hole]},
        {"type": "MultiPoint", "coordinates": [[10, 43], [9.5, 42.25]]},
        {"type": "MultiLineString", "coordinates": [[[10, 43], [10.5, 43.5]], [[9, 42], [9, 41]]]},
        {"type": "MultiPolygon", "coordinates": [[ring]]},
        {"type": "Point", "coordinates": [1e-05, 43]},
    ]
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    document = {"type": "FeatureCollection", "features": features}
    (tmp_path / "g.geojson").write_text(json.dumps(document), encoding="utf-8")
    assert [r["wkt"] for r in harvest({"path": "g.geojson"}, tmp_path)] == [
        "POLYGON ((10 43, 11 43, 11 44, 10 43), (10.2 43.2, 10.4 43.2, 10.4 43.4, 10.2 43.2))",
        "MULTIPOINT ((10 43), (9.5 42.25))",
        "MULTILINESTRING ((10 43, 10.5 43.5), (9 42, 9 41))",
        "MULTIPOLYGON (((10 43, 11 43, 11 44, 10 43)))",
        "POINT (0.00001 43)",
    ]


def test_geojson_bad_geometry_names_the_feature(tmp_path: Path) -> None:
    (tmp_path / "b.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": 9, '
        '"properties": {}, "geometry": {"type": "Point", "coordinates": ["x", 1]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(HarvestError, match=r"feature 1 \(id 9\) has a bad geometry"):
        harvest({"path": "b.geojson"}, tmp_path)


# --- over HTTP ----------------------------------------------------------------------


def test_csv_over_http(file_server: Any) -> None:
    (file_server.folder / "musei.csv").write_bytes(
        (Path(__file__).parent / "data" / "musei-latin1.csv").read_bytes()
    )
    options = {"url": file_server.url("musei.csv"), "delimiter": ";", "encoding": "latin-1"}
    records = harvest(options, Path("/nonexistent"))
    assert [r["comune"] for r in records] == ["Pisa", "Ajaccio", "Lucca"]


def test_format_from_content_type_over_http(file_server: Any) -> None:
    url = file_server.route(
        "api/export",
        b'{"data": [{"id": 1, "nom": "Corte"}]}',
        {"Content-Type": "application/json; charset=utf-8"},
    )
    options = {"url": url, "records": "data"}
    assert harvest(options, Path(".")) == [{"id": 1, "nom": "Corte"}]


def test_http_404_names_status_and_url(file_server: Any) -> None:
    url = file_server.url("missing.csv")
    with pytest.raises(HarvestError, match=rf"HTTP 404 .* from {url}; check options.url"):
        harvest({"url": url}, Path("."))


def test_http_password_in_url_is_masked(file_server: Any) -> None:
    url = file_server.url("missing.csv").replace("http://", "http://steward:Sup3rSecret@")
    with pytest.raises(HarvestError) as caught:
        harvest({"url": url + "?api_key=K3yK3yK3y"}, Path("."))
    message = str(caught.value)
    assert "Sup3rSecret" not in message and "K3yK3yK3y" not in message
    assert "steward:***@" in message and "api_key=***" in message


def test_connection_refused(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/x.csv"
    # the message is the shared HTTP layer's (harvesters/_http.py); no retries, to be quick
    with pytest.raises(
        HarvestError, match=rf"cannot connect \({url}, 1 attempts\): .*server is up"
    ):
        harvest({"url": url, "retries": 0}, Path("."))


def test_http_is_streamed_first_record_before_the_body_ends(file_server: Any) -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow_body(handler: Any) -> None:
        handler.wfile.write(b"id,name\n1,primo\n2,secondo\n")
        handler.wfile.flush()
        release.wait(10)  # the rest comes only once the test has its first record
        handler.wfile.write(b"3,terzo\n")
        finished.set()

    url = file_server.route("slow.csv", slow_body, {"Content-Type": "text/csv"})
    records = harvest_files("slow", {"url": url}, root=Path("."))
    first = next(records)
    assert first == {"id": "1", "name": "primo"}
    assert not finished.is_set(), "the harvester waited for the whole body"
    release.set()
    assert [r["id"] for r in records] == ["2", "3"]


def test_download_broken_half_way_raises_after_earlier_records(file_server: Any) -> None:
    body = b"id,name\n" + b"".join(b"%d,nome %d\n" % (i, i) for i in range(5000))
    # the server promises twice what it sends, then closes the connection
    headers = {"Content-Type": "text/csv", "Content-Length": str(len(body) * 2)}
    url = file_server.route("cut.csv", body, headers)
    records, error = harvest_until_error({"url": url}, Path("."))
    assert len(records) > 0
    assert "broke off after" in str(error)
