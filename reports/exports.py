"""CSV and XLSX of the discipline report: the same rows and numbers as the page."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _

from reports.selectors import share_percent
from tickets.models import display_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def csv_response(employees, period) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    for row in rows(employees):
        writer.writerow(["" if v is None else v for v in row])
    # A BOM so spreadsheet programs read Cyrillic names as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(period, "csv")}"'
    return response


def xlsx_response(employees, period) -> HttpResponse:
    from openpyxl import Workbook  # heavy: loaded only when a spreadsheet is asked for

    book = Workbook()
    sheet = book.active
    sheet.title = _("Discipline")[:31]
    sheet.append([_("Period"), f"{period.first:%Y-%m-%d} – {period.last:%Y-%m-%d}"])
    sheet.append(header())
    for row in rows(employees):
        sheet.append(row)
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(period, "xlsx")}"'
    return response
