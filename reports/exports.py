"""Spreadsheet exports: one writer for CSV and XLSX, and the discipline report's rows.

Every export (the discipline report here, the tabular reports in ``reports/tabular/report.py``)
goes through :func:`csv_response` / :func:`xlsx_response`, which neutralise formula injection
(OWASP, "CSV Injection"): customers control ticket titles through the intake API, so a text cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written as inert text —
prefixed with ``'`` in CSV, stored as a string cell (never a formula) in XLSX. Numbers stay numbers.

CSV follows the spreadsheet conventions of the user's language (docs/reports.md, "Exports"): Excel in a
Russian locale splits columns on ``;`` and reads ``3,5`` as a number, so a Russian user gets ``;`` and decimal
commas, an English one ``,`` and decimal points; both with a UTF-8 BOM. XLSX sheet names are Excel-safe: no
``[ ] : * ? /`` or a backslash, at most 31 characters cut at a word boundary, unique in the workbook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports.selectors import Period, share_percent
from tickets.models import display_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value) -> bool:
    """A text a spreadsheet program would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


SHEET_NAME_MAX = 31  # Excel's limit
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def csv_delimiter(language: str | None = None) -> str:
    """``;`` for Russian (Excel in a Russian locale splits on it), ``,`` otherwise; the active language by default."""
    language = language or translation.get_language() or ""
    return ";" if language.split("-")[0] == "ru" else ","


def csv_cell(value, *, decimal_comma: bool = False):
    """A value as a CSV cell: empty for None, numbers as numbers (with a decimal comma where the delimiter is
    ``;``), risky text prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",") if decimal_comma else value
    text = str(value)
    return "'" + text if is_risky(text) else text


def csv_response(filename: str, rows: Iterable[Sequence], *, delimiter: str | None = None) -> HttpResponse:
    """A UTF-8 CSV download of ``rows`` with a BOM (so spreadsheet programs read Cyrillic), delimited for the
    user's language unless ``delimiter`` is given (:func:`csv_delimiter`)."""
    delimiter = delimiter or csv_delimiter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow([csv_cell(v, decimal_comma=delimiter == ";") for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, sheets: Iterable[tuple[str, Iterable[Sequence]]], *, freeze: str = "") -> HttpResponse:
    """An XLSX download with one sheet per ``(title, rows)``; text never becomes a formula."""
    from openpyxl import Workbook  # heavy: loaded only when someone exports

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(sheet_name(title, taken=book.sheetnames))
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


def sheet_name(title: str, *, taken: Iterable[str] = ()) -> str:
    """``title`` as an Excel sheet name: forbidden characters become spaces, cut at a word boundary within 31
    characters (a single longer word is cut), and made unique among ``taken`` with a number."""
    name = " ".join(SHEET_NAME_FORBIDDEN.sub(" ", str(title)).split()) or "Sheet"
    taken = {t.casefold() for t in taken}  # Excel compares sheet names case-insensitively

    def cut(text: str, limit: int) -> str:
        if len(text) <= limit:
            return text
        head = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
        return head[:limit].rstrip(" -–—,.;(") or text[:limit]

    candidate, number = cut(name, SHEET_NAME_MAX), 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = cut(name, SHEET_NAME_MAX - len(suffix)) + suffix
    return candidate


def header() -> list[str]:
    return [_("Employee"), _("Login"), _("Completed"), _("On time"), _("Objective"), _("Subjective"), _("Declined"),
            _("Decision time, h"), _("Coefficient"), _("Objective share, %")]


def _hours(value) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def rows(employees) -> list[list]:
    return [
        [display_name(e), e.get_username(), e.completed, e.on_time, e.objective, e.subjective, e.declined,
         _hours(e.lead_time), e.coefficient, share_percent(e.objective, e.subjective)]
        for e in employees
    ]


def up_to_today(period: Period) -> Period:
    """The period with its end clamped to today (the default, the current month, runs to its last day)."""
    last = max(period.first, min(period.last, timezone.localdate()))
    return Period(period.first, last, period.tz)


def _filename(period, ext: str) -> str:
    return f"discipline_{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}.{ext}"


def _period_row(period) -> list[str]:
    return [_("Period"), f"{period.first:%Y-%m-%d} – {period.last:%Y-%m-%d}"]


def discipline_csv(employees, period) -> HttpResponse:
    period = up_to_today(period)
    return csv_response(_filename(period, "csv"), [_period_row(period), header(), *rows(employees)])


def discipline_xlsx(employees, period) -> HttpResponse:
    period = up_to_today(period)
    return xlsx_response(_filename(period, "xlsx"), [(_("Discipline"), [_period_row(period), header(),
                                                                          *rows(employees)])], freeze="A3")
