"""The `files` harvester on the shapes office and map files come in: an XLSX with title rows
and a merged two-row header, a Latin-1 CSV with decimal commas, KML and GPX (local and over
HTTP from a real loopback server), and the demo sources' own files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from harvesters import get_harvester
from harvesters._readers import decimal_point
from hub.errors import HarvestError
from tests.harvesters.conftest import FileServer

harvest_files = get_harvester("files")
REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "hub" / "demo" / "data"


def harvest(options: dict[str, Any], root: Path) -> list[dict]:
    return list(harvest_files("test", options, root=root))


# --- XLSX: title rows and a two-row header with merged cells ----------------------------


def office_sheet(path: Path) -> Path:
    """A regional office's sheet: a title, a blank row, then a merged two-row header."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Azioni"
    sheet["A1"] = "Regione Toscana — Settore Turismo"
    sheet.append([])
    sheet.append(["Codice", "Periodo", None, "Indicatore", None, None, "Note"])
    sheet.append([None, "Inizio", "Fine", "Nome", "Obiettivo", "Raggiunto", None])
    sheet.merge_cells("A3:A4")  # one name down both rows
    sheet.merge_cells("B3:C3")
    sheet.merge_cells("D3:F3")
    sheet.merge_cells("G3:G4")
    sheet.append(["A1", "2021-01-01", "2021-12-31", "Imprese", 40, 12, "prima"])
    sheet.append(["A2", "2022-01-01", None, "Eventi", 5, None, None])
    book.save(path)
    return path


def test_xlsx_merged_two_row_header_names_each_column(tmp_path: Path) -> None:
    office_sheet(tmp_path / "azioni.xlsx")
    records = harvest({"path": "azioni.xlsx", "skip_rows": 2, "header_rows": 2}, tmp_path)
    assert records == [
        {
            "Codice": "A1",
            "Periodo / Inizio": "2021-01-01",
            "Periodo / Fine": "2021-12-31",
            "Indicatore / Nome": "Imprese",
            "Indicatore / Obiettivo": 40,
            "Indicatore / Raggiunto": 12,
            "Note": "prima",
        },
        {
            "Codice": "A2",
            "Periodo / Inizio": "2022-01-01",
            "Periodo / Fine": None,
            "Indicatore / Nome": "Eventi",
            "Indicatore / Obiettivo": 5,
            "Indicatore / Raggiunto": None,
            "Note": None,
        },
    ]


def test_xlsx_title_rows_without_skip_rows_become_the_header(tmp_path: Path) -> None:
    office_sheet(tmp_path / "azioni.xlsx")
    # Without the options, the title is the header and the real header a cell without one.
    with pytest.raises(HarvestError, match=r"cell B3 has a value but its column has no header"):
        harvest({"path": "azioni.xlsx"}, tmp_path)


def test_xlsx_header_options_are_refused_for_other_formats(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(HarvestError, match=r"options.header_rows is for XLSX workbooks"):
        harvest({"path": "a.csv", "header_rows": 2}, tmp_path)
    with pytest.raises(HarvestError, match=r"options.decimal_comma is for CSV files"):
        harvest({"path": DEMO.joinpath("cievp-action-plans.xlsx").as_posix(),
                 "decimal_comma": ["x"]}, tmp_path)  # fmt: skip


def test_demo_action_plans_workbook(tmp_path: Path) -> None:
    options = {"path": "hub/demo/data/cievp-action-plans.xlsx", "skip_rows": 2, "header_rows": 2}
    records = harvest(options, REPO)
    assert len(records) == 6
    first = records[0]
    assert first["Piano / Codice"] == "CV-P1" and first["Azione / Codice"] == "CV-A01"
    assert first["Partner / 1"] == "cievp" and first["Indicatore / Obiettivo"] == 6
    assert "Aggiornato" in first  # merged down both header rows: one name


# --- CSV: Latin-1, ';', decimal commas --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("43,7123", "43.7123"), ("-1.234,5", "-1234.5"), (" 9,2 ", "9.2"), ("43.71", "43.71"),
     ("1,2,3", "1,2,3"), ("abc", "abc"), (None, None), ("12", "12")],
)  # fmt: skip
def test_decimal_point(text: str | None, expected: str | None) -> None:
    assert decimal_point(text) == expected


def test_latin1_csv_with_decimal_commas(tmp_path: Path) -> None:
    text = "Identifiant;Commune;Latitude;Longitude;Note\r\nP1;Sainte-Lucie-de-Tallano;41,7043;9,0368;3,5 étoiles\r\n"
    (tmp_path / "sources.csv").write_bytes(text.encode("iso-8859-1"))
    options = {"path": "sources.csv", "encoding": "iso-8859-1", "delimiter": ";",
               "decimal_comma": ["Latitude", "Longitude"]}  # fmt: skip
    assert harvest(options, tmp_path) == [
        {"Identifiant": "P1", "Commune": "Sainte-Lucie-de-Tallano", "Latitude": "41.7043",
         "Longitude": "9.0368", "Note": "3,5 étoiles"}  # only the named columns change
    ]  # fmt: skip
    options["decimal_comma"] = ["Latitudine"]
    with pytest.raises(HarvestError, match=r"names column\(s\) `Latitudine` that the header"):
        harvest(options, tmp_path)


# --- KML and GPX ----------------------------------------------------------------------

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Mappa</name>
  <Folder><name>Percorsi</name>
    <Placemark id="r1"><name>Anello</name><description><![CDATA[<b>Bello</b>]]></description>
      <ExtendedData><Data name="codice"><value>R-1</value></Data></ExtendedData>
      <LineString><coordinates>10.0,43.0,5 10.0,43.01,7</coordinates></LineString></Placemark>
    <Folder><name>Punti</name>
      <Placemark><name>Mulino</name>
        <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="codice">P-1</SimpleData></SchemaData></ExtendedData>
        <Point><coordinates>10.5,43.5</coordinates></Point></Placemark>
    </Folder>
  </Folder>
  <Placemark><name>Parco</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
    1,1 2,1 2,2 1,1</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
  <Placemark><name>Due tratti</name><MultiGeometry>
    <LineString><coordinates>1,1 1,2</coordinates></LineString>
    <LineString><coordinates>2,1 2,2</coordinates></LineString></MultiGeometry></Placemark>
</Document></kml>
"""

GPX = """<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:x="https://x.example/1">
  <wpt lat="43.5" lon="10.5"><ele>12</ele><name>Torre</name><link href="https://t.example/"/>
    <extensions><x:code>W1</x:code></extensions></wpt>
  <rte><name>Strada</name><rtept lat="43.0" lon="10.0"/><rtept lat="43.1" lon="10.0"/></rte>
  <trk><name>Giro</name><extensions><x:code>T1</x:code></extensions>
    <trkseg><trkpt lat="43.0" lon="10.0"/><trkpt lat="43.0" lon="10.1"/></trkseg>
    <trkseg><trkpt lat="43.2" lon="10.0"/><trkpt lat="43.3" lon="10.0"/></trkseg></trk>
</gpx>
"""


def test_kml_placemarks_with_folders_extended_data_and_geometries(tmp_path: Path) -> None:
    (tmp_path / "mappa.kml").write_text(KML, encoding="utf-8")
    records = harvest({"path": "mappa.kml"}, tmp_path)
    assert [r["name"] for r in records] == ["Anello", "Mulino", "Parco", "Due tratti"]
    line, point, polygon, multi = records
    assert line["id"] == "r1" and line["codice"] == "R-1" and line["folder"] == "Percorsi"
    assert line["description"] == "<b>Bello</b>"
    assert line["wkt"] == "LINESTRING (10.0 43.0, 10.0 43.01)"  # altitude dropped
    assert line["length_km"] == 1.11
    assert point["folder"] == "Percorsi / Punti" and point["codice"] == "P-1"
    assert (point["lat"], point["lon"], point["wkt"]) == (43.5, 10.5, "POINT (10.5 43.5)")
    assert polygon["wkt"] == "POLYGON ((1.0 1.0, 2.0 1.0, 2.0 2.0, 1.0 1.0))"
    assert multi["wkt"] == "MULTILINESTRING ((1.0 1.0, 1.0 2.0), (2.0 1.0, 2.0 2.0))"


def test_gpx_waypoints_routes_and_tracks(tmp_path: Path) -> None:
    (tmp_path / "giri.gpx").write_text(GPX, encoding="utf-8")
    wpt, rte, trk = harvest({"path": "giri.gpx"}, tmp_path)
    assert (wpt["kind"], wpt["name"], wpt["code"], wpt["ele"]) == ("waypoint", "Torre", "W1", "12")
    assert wpt["link"] == "https://t.example/" and wpt["wkt"] == "POINT (10.5 43.5)"
    assert rte["kind"] == "route" and rte["length_km"] == 11.12
    assert trk["kind"] == "track" and trk["code"] == "T1"
    assert trk["wkt"].startswith("MULTILINESTRING ((10.0 43.0, 10.1 43.0), (10.0 43.2")


def test_kml_and_gpx_over_http_by_content_type(file_server: FileServer, tmp_path: Path) -> None:
    kml = file_server.route(
        "export?id=7", KML.encode(), {"Content-Type": "application/vnd.google-earth.kml+xml"}
    )
    gpx = file_server.route("tracks", GPX.encode(), {"Content-Type": "application/gpx+xml"})
    assert len(harvest({"url": kml}, tmp_path)) == 4
    assert len(harvest({"url": gpx}, tmp_path)) == 3


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.kml", "<kml><Placemark><name>x</Placemark></kml>", r"a.kml is not well-formed XML at line 1"),
        ("b.kml", GPX, r"b.kml: the document is <gpx>, not <kml>"),
        ("c.gpx", '<gpx><wpt lat="north" lon="1"/></gpx>', r"c.gpx waypoint 1: a <wpt> has lat='north'"),
        ("d.kml", "<kml><Placemark><Point><coordinates>1</coordinates></Point></Placemark></kml>",
         r"d.kml placemark 1: coordinate 1 `1` is not longitude,latitude"),
    ],
)  # fmt: skip
def test_bad_kml_and_gpx_say_where(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(HarvestError, match=message):
        harvest({"path": name}, tmp_path)


def test_demo_kml_and_gpx(tmp_path: Path) -> None:
    routes = harvest({"path": "hub/demo/data/terragir3-routes.kml"}, REPO)
    assert sum("codice_percorso" in r for r in routes) == 5
    assert sum("codice_punto" in r for r in routes) == 3
    walks = harvest({"path": "hub/demo/data/itaca-walks.gpx"}, REPO)
    assert [r["kind"] for r in walks].count("track") == 6
    assert all(r["length_km"] > 0 for r in walks if r["kind"] == "track")
