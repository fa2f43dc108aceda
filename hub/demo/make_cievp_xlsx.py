"""Build hub/demo/data/cievp-action-plans.xlsx, CIEVP's action plans (SAMPLE DATA).

The workbook is committed as a binary so the demo needs no build step; this script is
its source: edit the rows here and run

    python -m hub.demo.make_cievp_xlsx

It stands in for the spreadsheet a regional tourism office sends: two title lines above
the table, then a header over two rows whose upper cells are merged across the columns
they group ("Piano", "Azione", "Partner", "Periodo", "Indicatore"), and "Aggiornato"
merged down both rows. One row per action; the plan's own columns repeat on each of its
actions. `Stato` holds the codes of the sheet's drop-down list, which are the hub's
action-status codes (planned, in-progress, completed, suspended).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

__all__ = ["ACTIONS", "GROUPS", "PLANS", "build"]

TARGET = Path(__file__).parent / "data" / "cievp-action-plans.xlsx"

# (upper header cell, the lower cells it spans); None: one cell merged down both rows.
GROUPS: list[tuple[str, list[str] | None]] = [
    ("Piano", ["Codice", "Titolo IT", "Titolo FR", "Titolo EN", "Note", "Gruppo di lavoro",
               "Capofila", "Stato", "Inizio", "Fine"]),
    ("Azione", ["Codice", "Titolo IT", "Titolo FR", "Titolo EN", "Capofila", "Stato"]),
    ("Partner", ["1", "2", "3"]),
    ("Periodo", ["Inizio", "Fine"]),
    ("Indicatore", ["Nome IT", "Nome FR", "Nome EN", "Unità", "Obiettivo", "Raggiunto"]),
    ("Aggiornato", None),
]  # fmt: skip

_NOTE = "(Dato di esempio.)"
PLANS: dict[str, list] = {
    "CV-P1": [
        "CV-P1",
        "Piano d'azione transfrontaliero per la governance della destinazione 2020–2022",
        "Plan d'action transfrontalier pour la gouvernance de la destination 2020–2022",
        "Cross-border action plan for destination governance 2020–2022",
        f"Piano concordato dal gruppo di lavoro sui modelli di governance: reti di operatori, "
        f"strumenti di supporto alle imprese, regole comuni tra le regioni. {_NOTE}",
        "destination-governance",
        "intense",
        "in-progress",
        dt.date(2020, 3, 1),
        dt.date(2022, 12, 31),
    ],
    "CV-P2": [
        "CV-P2",
        "Piano d'azione per la destagionalizzazione dell'offerta",
        "Plan d'action pour le désaisonnement de l'offre",
        "Action plan to spread the tourist season",
        f"Azioni comuni per allungare la stagione turistica nelle aree interne e nelle isole "
        f"minori. {_NOTE}",
        "destination-governance",
        "cievp",
        "planned",
        dt.date(2021, 1, 1),
        dt.date(2023, 6, 30),
    ],
}

# plan, action code, titles it/fr/en, lead, status, partners, start, end,
# indicator it/fr/en, unit, target, reached, updated
ACTIONS: list[tuple] = [
    ("CV-P1", "CV-A01", "Tavolo permanente delle regioni", "Table permanente des régions",
     "Standing table of the regions", "intense", "completed", ("cievp", "smartic", None),
     dt.date(2020, 3, 1), dt.date(2020, 12, 31), "Riunioni del tavolo", "Réunions de la table",
     "Meetings of the table", "riunioni", 6, 7, dt.datetime(2021, 1, 15, 9, 0)),
    ("CV-P1", "CV-A02", "Regole comuni per l'aggiornamento dei dati", "Règles communes de mise à jour des données",
     "Common rules for keeping data up to date", "smart-destination", "in-progress",
     ("intense", "stratus", "terragir3"), dt.date(2020, 9, 1), dt.date(2022, 6, 30),
     "Fonti con accordo firmato", "Sources avec accord signé", "Sources with a signed agreement",
     "fonti", 17, 9, dt.datetime(2022, 2, 3, 11, 30)),
    ("CV-P1", "CV-A03", "Rete transfrontaliera degli sportelli per le imprese",
     "Réseau transfrontalier des guichets pour les entreprises",
     "Cross-border network of business help desks", "cievp", "in-progress",
     ("ecostrim", "art-lab-net", None), dt.date(2021, 1, 1), dt.date(2022, 12, 31),
     "Imprese accompagnate", "Entreprises accompagnées", "Businesses supported", "imprese", 120,
     64, dt.datetime(2022, 3, 10, 16, 0)),
    ("CV-P1", "CV-A04", "Formazione congiunta degli operatori", "Formation commune des opérateurs",
     "Joint training of operators", "intense", "planned", ("cievp", "stratus", None),
     dt.date(2022, 1, 1), dt.date(2022, 12, 31), "Operatori formati", "Opérateurs formés",
     "Operators trained", "operatori", 200, None, dt.datetime(2021, 11, 20, 10, 0)),
    ("CV-P2", "CV-A05", "Calendario comune degli eventi di bassa stagione",
     "Calendrier commun des événements hors saison", "Shared calendar of off-season events",
     "cievp", "planned", ("smartic", "itinera", None), dt.date(2021, 9, 1), dt.date(2023, 3, 31),
     "Eventi in calendario", "Événements au calendrier", "Events in the calendar", "eventi", 80,
     None, dt.datetime(2021, 6, 1, 8, 45)),
    ("CV-P2", "CV-A06", "Pacchetti per le isole minori in primavera",
     "Forfaits de printemps pour les petites îles", "Spring packages for the smaller islands",
     "itinera", "suspended", ("cievp", "cambusa", "itaca"), dt.date(2021, 3, 1),
     dt.date(2022, 5, 31), "Pacchetti pubblicati", "Forfaits publiés", "Packages published",
     "pacchetti", 10, 2, dt.datetime(2021, 12, 1, 12, 0)),
]  # fmt: skip


def _header_rows(sheet: openpyxl.worksheet.worksheet.Worksheet, first: int) -> None:
    bold = Font(bold=True)
    column = 1
    for upper, lower in GROUPS:
        cell = sheet.cell(first, column, upper)
        cell.font, cell.alignment = bold, Alignment(horizontal="center")
        if lower is None:
            sheet.merge_cells(
                start_row=first, start_column=column, end_row=first + 1, end_column=column
            )
            column += 1
            continue
        if len(lower) > 1:
            sheet.merge_cells(
                start_row=first,
                start_column=column,
                end_row=first,
                end_column=column + len(lower) - 1,
            )
        for offset, label in enumerate(lower):
            sheet.cell(first + 1, column + offset, label).font = bold
        column += len(lower)


def build(target: Path = TARGET) -> Path:
    """Write the workbook; returns its path."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Piani d'azione"
    sheet["A1"] = "Regione Liguria — Settore Turismo (esempio)"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = (
        "CIEVP — piani d'azione del gruppo di lavoro Modelli di governance (dati di esempio)"
    )
    _header_rows(sheet, 4)
    for number, action in enumerate(ACTIONS, start=6):
        (plan, code, t_it, t_fr, t_en, lead, status, partners, start, end,
         i_it, i_fr, i_en, unit, target_value, reached, updated) = action  # fmt: skip
        row = [*PLANS[plan], code, t_it, t_fr, t_en, lead, status, *partners, start, end,
               i_it, i_fr, i_en, unit, target_value, reached, updated]  # fmt: skip
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(number, column, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = "A6"
    book.properties.creator = "Marittimo Hub demo (sample data)"
    book.properties.created = dt.datetime(2022, 3, 10, 16, 0)
    book.save(target)
    return target


if __name__ == "__main__":
    print(build())
