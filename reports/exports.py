"""Spreadsheet exports: one writer for CSV and XLSX, and the discipline report's rows.

Every export (the discipline report here, the tabular reports in ``reports/tabular/report.py``)
goes through :func:`csv_response` / :func:`xlsx_response`, which neutralise formula injection
(OWASP, "CSV Injection"): customers control ticket titles through the intake API, so a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as inert text —
prefixed with ``'`` in CSV, stored as a string cell (never a formula) in XLSX. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _

from reports.selectors import share_percent
from tickets.models import display_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value) -> bool:
    """A text a spreadsheet program would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """A value as a CSV cell: empty for None, numbers as they are, risky text prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if is_risky(text) else text


def csv_response(filename: str, rows: Iterable[Sequence]) -> HttpResponse:
    """A UTF-8 CSV download (with a BOM so spreadsheet programs read Cyrillic) of ``rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, sheets: Iterable[tuple[str, Iterable[Sequence]]], *, freeze: str = "") -> HttpResponse:
    """An XLSX download with one sheet per ``(title, rows)``; text never becomes a formula."""
    from openpyxl import Workbook  # heavy: loaded only when someone exports

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if is_risky(cell.value) or cell.data_type == "f":
                    cell.data_type = "s"  # a string cell: shown as typed, never evaluated
        if freeze:
            sheet.freeze_panes = freeze
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def header() -> list[str]:
    return [_("Employee"), _("Login"), _("Completed"), _("On time"), _("Objective"), _("Subjective"), _("Declined"),
            _("Coefficient"), _("Objective share, %")]


def rows(employees) -> list[list]:
    return [
        [display_name(e), e.get_username(), e.completed, e.on_time, e.objective, e.subjective, e.declined,
         e.coefficient, share_percent(e.objective, e.subjective)]
        for e in employees
    ]


def _filename(period, ext: str) -> str:
    return f"discipline_{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}.{ext}"


def discipline_csv(employees, period) -> HttpResponse:
    return csv_response(_filename(period, "csv"), [header(), *rows(employees)])


def discipline_xlsx(employees, period) -> HttpResponse:
    head = [_("Period"), f"{period.first:%Y-%m-%d} – {period.last:%Y-%m-%d}"]
    return xlsx_response(_filename(period, "xlsx"), [(_("Discipline")[:31], [head, header(), *rows(employees)])],
                         freeze="A3")
