"""Build hub/demo/data/cambusa-packages.xlsx, the Cambusa demo workbook (SAMPLE DATA).

The workbook is committed as a binary so the demo needs no build step; this script
is its source: edit the rows here and run

    python -m hub.demo.make_xlsx

It stands in for the spreadsheet a project keeps by hand: a notes sheet first, the
data on the sheet "Pacchetti", real date and number cells, empty cells where a
package has fewer regions, municipalities or stops. Stops are keys of other
sources (`smartdest-offer`, `sistina-heritage`), so packages link to their places.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

__all__ = ["HEADER", "PACKAGES", "build"]

TARGET = Path(__file__).parent / "data" / "cambusa-packages.xlsx"
HEADER = (
    "code", "name_it", "name_fr", "name_en", "description_it", "description_fr",
    "description_en", "days", "price_eur", "valid_from", "valid_until", "category",
    "region_1", "region_2", "municipality_1", "municipality_2", "municipality_3",
    "stop_1", "stop_2", "heritage_1", "heritage_2", "website", "updated",
)  # fmt: skip
_IT, _FR, _EN = "(Dato di esempio.)", "(Donnée d'exemple.)", "(Sample data.)"
_SEASON = (dt.date(2025, 4, 1), dt.date(2025, 10, 31))
_SUMMER = (dt.date(2025, 6, 1), dt.date(2025, 9, 15))

# One dict per package; names and descriptions in it, fr, en. `stops` are keys of the
# source smartdest-offer, `heritage` keys of sistina-heritage.
PACKAGES: list[dict] = [
    {
        "code": "CB-01",
        "names": (
            "Elba e Capo Corso in barca a vela",
            "L'île d'Elbe et le Cap Corse à la voile",
            "Elba and Cap Corse under sail",
        ),
        "descriptions": (
            "Quattro giorni a vela tra Portoferraio e Bastia, con soste nelle cale.",
            (
                "Quatre jours à la voile entre Portoferraio et Bastia, avec "
                "escales dans les criques."
            ),
            "Four days under sail between Portoferraio and Bastia, stopping in the coves.",
        ),
        "days": 4,
        "price": 890,
        "validity": _SUMMER,
        "category": "sea-coast",
        "regions": ("toscana", "corse"),
        "municipalities": ("Portoferraio", "Bastia"),
        "stops": ("tos-0003", "cor-0004"),
        "heritage": ("SIS-003",),
    },
    {
        "code": "CB-02",
        "names": ("Le Bocche di Bonifacio", "Les Bouches de Bonifacio", "The Strait of Bonifacio"),
        "descriptions": (
            "Traversata delle Bocche tra Santa Teresa Gallura e Bonifacio, con le falesie.",
            "Traversée des Bouches entre Santa Teresa Gallura et Bonifacio, avec les falaises.",
            "Crossing the strait between Santa Teresa Gallura and Bonifacio, with the cliffs.",
        ),
        "days": 5,
        "price": 1150,
        "validity": _SUMMER,
        "category": "sea-coast",
        "regions": ("sardegna", "corse"),
        "municipalities": ("Santa Teresa Gallura", "Bonifacio"),
        "stops": ("cor-0003",),
        "heritage": (),
    },
    {
        "code": "CB-03",
        "names": (
            "Riviera dei Fiori e Costa Azzurra",
            "Riviera des Fleurs et Côte d'Azur",
            "Riviera of Flowers and Côte d'Azur",
        ),
        "descriptions": (
            "Da Sanremo a Nizza lungo la costa, tra giardini, musei e il Trofeo di Augusto.",
            (
                "De Sanremo à Nice le long de la côte, entre jardins, musées "
                "et le Trophée d'Auguste."
            ),
            (
                "From Sanremo to Nice along the coast, with gardens, museums "
                "and the Trophy of Augustus."
            ),
        ),
        "days": 3,
        "price": 420,
        "validity": _SEASON,
        "category": "culture-heritage",
        "regions": ("liguria", "paca"),
        "municipalities": ("Sanremo", "Menton", "Nice"),
        "stops": ("lig-0005", "pac-0001"),
        "heritage": ("SIS-013",),
    },
    {
        "code": "CB-04",
        "names": (
            "Cinque Terre e Golfo dei Poeti",
            "Cinque Terre et golfe des Poètes",
            "Cinque Terre and the Gulf of Poets",
        ),
        "descriptions": (
            "Borghi sul mare, il castello di Lerici e le rovine di Luni.",
            "Villages sur la mer, le château de Lerici et les ruines de Luni.",
            "Seaside villages, Lerici castle and the ruins of Luni.",
        ),
        "days": 3,
        "price": 380,
        "validity": _SEASON,
        "category": "culture-heritage",
        "regions": ("liguria",),
        "municipalities": ("Riomaggiore", "Lerici", "Luni"),
        "stops": ("lig-0003", "lig-0004"),
        "heritage": ("SIS-005", "SIS-006"),
    },
    {
        "code": "CB-05",
        "names": ("Sardegna nuragica", "La Sardaigne nuragique", "Nuragic Sardinia"),
        "descriptions": (
            "Sei giorni tra nuraghi, villaggi dell'età del bronzo e grotte sul mare.",
            "Six jours entre nuraghes, villages de l'âge du bronze et grottes marines.",
            "Six days among nuraghi, Bronze Age villages and sea caves.",
        ),
        "days": 6,
        "price": 760,
        "validity": _SEASON,
        "category": "archaeology",
        "regions": ("sardegna",),
        "municipalities": ("Barumini", "Alghero"),
        "stops": ("sar-0001", "sar-0003"),
        "heritage": ("SIS-008",),
    },
    {
        "code": "CB-06",
        "names": (
            "Isole di Lérins e Porquerolles",
            "Îles de Lérins et Porquerolles",
            "Lérins Islands and Porquerolles",
        ),
        "descriptions": (
            "Due giorni di isole: il Forte Reale e le spiagge di Porquerolles in bicicletta.",
            "Deux jours d'îles : le Fort Royal et les plages de Porquerolles à vélo.",
            "Two days of islands: Fort Royal and the beaches of Porquerolles by bike.",
        ),
        "days": 2,
        "price": 260,
        "validity": _SUMMER,
        "category": "sea-coast",
        "regions": ("paca",),
        "municipalities": ("Cannes", "Hyères"),
        "stops": ("pac-0003",),
        "heritage": ("SIS-014",),
    },
    {
        "code": "CB-07",
        "names": ("Maremma e Arcipelago", "Maremme et Archipel", "Maremma and the Archipelago"),
        "descriptions": (
            "Etruschi di Populonia e Roselle, il parco della Maremma e un giorno all'Elba.",
            (
                "Les Étrusques de Populonia et Roselle, le parc de la Maremme"
                " et une journée à l'île d'Elbe."
            ),
            "The Etruscans of Populonia and Roselle, the Maremma park and a day on Elba.",
        ),
        "days": 4,
        "price": 540,
        "validity": _SEASON,
        "category": "archaeology",
        "regions": ("toscana",),
        "municipalities": ("Grosseto", "Piombino", "Portoferraio"),
        "stops": ("tos-0004", "tos-0003"),
        "heritage": ("SIS-001", "SIS-002"),
    },
    {
        "code": "CB-08",
        "names": ("La Corsica dei Genovesi", "La Corse des Génois", "Genoese Corsica"),
        "descriptions": (
            "Cittadelle e torri genovesi da Calvi a Bastia, passando per Corte.",
            "Citadelles et tours génoises de Calvi à Bastia, en passant par Corte.",
            "Genoese citadels and towers from Calvi to Bastia, by way of Corte.",
        ),
        "days": 5,
        "price": 690,
        "validity": _SEASON,
        "category": "culture-heritage",
        "regions": ("corse",),
        "municipalities": ("Calvi", "Corte", "Bastia"),
        "stops": ("cor-0002", "cor-0004"),
        "heritage": ("SIS-011",),
    },
    {
        "code": "CB-09",
        "names": (
            "Genova e la Riviera di Levante",
            "Gênes et la Riviera du Levant",
            "Genoa and the Riviera di Levante",
        ),
        "descriptions": (
            "L'acquario e i musei di Genova, poi a piedi fino all'abbazia di San Fruttuoso.",
            "L'aquarium et les musées de Gênes, puis à pied jusqu'à l'abbaye de San Fruttuoso.",
            "Genoa's aquarium and museums, then on foot to the abbey of San Fruttuoso.",
        ),
        "days": 3,
        "price": 350,
        "validity": _SEASON,
        "category": "culture-heritage",
        "regions": ("liguria",),
        "municipalities": ("Genova", "Camogli"),
        "stops": ("lig-0001", "lig-0002"),
        "heritage": ("SIS-004",),
    },
    {
        "code": "CB-10",
        "names": (
            "Da Tolone alla Provenza verde",
            "De Toulon à la Provence verte",
            "From Toulon to green Provence",
        ),
        "descriptions": (
            "Il Monte Faron in funivia e l'abbazia cistercense di Le Thoronet.",
            "Le mont Faron en téléphérique et l'abbaye cistercienne du Thoronet.",
            "Mont Faron by cable car and the Cistercian abbey of Le Thoronet.",
        ),
        "days": 2,
        "price": 240,
        "validity": _SEASON,
        "category": "culture-heritage",
        "regions": ("paca",),
        "municipalities": ("Toulon", "Le Thoronet"),
        "stops": ("pac-0004",),
        "heritage": ("SIS-015",),
    },
    {
        "code": "CB-11",
        "names": ("Cagliari e Nora", "Cagliari et Nora", "Cagliari and Nora"),
        "descriptions": (
            "Il quartiere di Castello e la città antica di Nora sul mare.",
            "Le quartier du Castello et la cité antique de Nora sur la mer.",
            "The Castello quarter and the ancient town of Nora by the sea.",
        ),
        "days": 3,
        "price": 330,
        "validity": _SEASON,
        "category": "archaeology",
        "regions": ("sardegna",),
        "municipalities": ("Cagliari", "Pula"),
        "stops": ("sar-0002",),
        "heritage": ("SIS-007",),
    },
    {
        "code": "CB-12",
        "names": (
            "Nizza, Antibes e La Turbie",
            "Nice, Antibes et La Turbie",
            "Nice, Antibes and La Turbie",
        ),
        "descriptions": (
            "Matisse e Picasso sulla costa, poi il Trofeo di Augusto sopra Monaco.",
            "Matisse et Picasso sur la côte, puis le Trophée d'Auguste au-dessus de Monaco.",
            "Matisse and Picasso on the coast, then the Trophy of Augustus above Monaco.",
        ),
        "days": 2,
        "price": 290,
        "validity": _SEASON,
        "category": "museums",
        "regions": ("paca",),
        "municipalities": ("Nice", "Antibes", "La Turbie"),
        "stops": ("pac-0001", "pac-0002"),
        "heritage": ("SIS-013",),
    },
]

_NOTES = [
    ["Cambusa: pacchetti turistici / forfaits touristiques / tourist packages"],
    [
        "DATI DI ESEMPIO - DONNÉES D'EXEMPLE - SAMPLE DATA: packages, prices and websites are invented."
    ],
    ["Municipalities and landmarks are real; stop_* are keys of source smartdest-offer,"],
    ["heritage_* keys of source sistina-heritage. Built by hub/demo/make_xlsx.py."],
]


def _pad(values: tuple[str, ...], size: int) -> list[str | None]:
    return [*values, *([None] * (size - len(values)))]


def _row(number: int, package: dict) -> list:
    start, end = package["validity"]
    marked = [
        f"{d} {mark}" for d, mark in zip(package["descriptions"], (_IT, _FR, _EN), strict=True)
    ]
    updated = dt.datetime(2025, 1, 8, 9, 0) + dt.timedelta(days=3 * number, hours=number % 5)
    code = package["code"]
    return [
        code, *package["names"], *marked, package["days"], package["price"], start, end,
        package["category"], *_pad(package["regions"], 2), *_pad(package["municipalities"], 3),
        *_pad(package["stops"], 2), *_pad(package["heritage"], 2),
        f"https://cambusa.example/pacchetti/{code.lower()}", updated,
    ]  # fmt: skip


def build(target: Path = TARGET) -> Path:
    """Write the workbook to `target` and return it."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Leggimi"
    for line in _NOTES:
        notes.append(line)
    notes["A1"].font = Font(bold=True)
    sheet = book.create_sheet("Pacchetti")
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, package in enumerate(PACKAGES, start=1):
        sheet.append(_row(number, package))
    columns = {name: index for index, name in enumerate(HEADER, start=1)}
    for row in sheet.iter_rows(min_row=2):
        for name in ("valid_from", "valid_until"):
            row[columns[name] - 1].number_format = "dd/mm/yyyy"  # a date, shown the Italian way
        row[columns["updated"] - 1].number_format = "yyyy-mm-dd hh:mm"
        row[columns["price_eur"] - 1].number_format = "#,##0.00 €"
    # a fixed creation date; openpyxl stamps `modified` (and the zip entries) at save time,
    # so a rebuild of unchanged rows still differs in those bytes
    book.properties.created = dt.datetime(2025, 3, 1, 12, 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


if __name__ == "__main__":
    print(build())
