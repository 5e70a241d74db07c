"""Exports a careful user opens (issue 19, careful user point 7): CSV that Russian Excel splits into columns,
XLSX sheet names cut at a word, the discipline export with its period and no future days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from reports import exports
from reports.selectors import Period
from reports.tabular.report import Report, Section, export, table


def as_manager(client, manager, language):
    manager.profile.language = language
    manager.profile.time_zone = "Asia/Almaty"
    manager.profile.save()
    client.force_login(manager)
    return client


@pytest.mark.parametrize(("language", "delimiter"), [("ru", ";"), ("en", ",")])
def test_a_report_csv_is_delimited_for_the_users_language_with_a_bom(client, manager, language, delimiter):
    response = as_manager(client, manager, language).get(reverse("reports:sla"), {"format": "csv"})
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=delimiter))
    assert len(rows[0]) == 3  # title, first day, last day: three columns, not one
    assert all(len(day) == 10 and day[4] == "-" for day in rows[0][1:])
    headers = [row for row in rows if len(row) > 3]
    assert headers  # the tables' rows split into their columns


@pytest.mark.parametrize(("language", "expected"), [("ru", ["Доля", "66,7", "3", "'=1+1"]),
                                                    ("en", ["Share", "66.7", "3", "'=1+1"])])
def test_numbers_follow_the_delimiter_and_stay_numbers(language, expected):
    with translation.override(language):
        label = "Доля" if language == "ru" else "Share"
        response = exports.csv_response("x.csv", [[label, 66.7, 3, "=1+1"]])
    delimiter = exports.csv_delimiter(language)
    assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=delimiter)) == expected


def test_a_discipline_csv_in_russian_opens_in_columns(client, manager):
    response = as_manager(client, manager, "ru").get(reverse("reports:discipline_csv"))
    text = response.content.decode("utf-8-sig")
    header = list(csv.reader(io.StringIO(text), delimiter=";"))[1]
    assert header[0] == "Сотрудник" and len(header) == 10


@pytest.mark.parametrize("title", [
    "Longest stalls per blocking reason and queue",
    "Первый ответ по очередям и типам заявок",
    "Compliance: per SLA policy / calendar [all]",
])
def test_an_xlsx_sheet_name_is_cut_at_a_word_boundary(title):
    response = exports.xlsx_response("x.xlsx", [(title, [["a", 1]])])
    name = load_workbook(io.BytesIO(response.content)).sheetnames[0]
    clean = " ".join(title.translate(str.maketrans("[]:*?/\\", "       ")).split())
    assert len(name) <= 31
    assert clean.startswith(name)
    assert len(name) == len(clean) or clean[len(name)] == " "  # the next character starts a new word
    assert len(name) > 20  # not cut more than the word needs


def test_sheet_names_that_clash_after_the_cut_are_numbered():
    titles = ["Longest stalls per blocking reason", "Longest stalls per blocking queue"]
    response = exports.xlsx_response("x.xlsx", [(t, [["a", 1]]) for t in titles])
    assert load_workbook(io.BytesIO(response.content)).sheetnames == [
        "Longest stalls per blocking", "Longest stalls per blocking (2)"]


def test_a_report_xlsx_names_its_sheets_after_whole_words(db):
    period = Period(date(2026, 3, 1), date(2026, 3, 31), UTC)
    section = Section("stalls", "Longest stalls per blocking reason and queue",
                      table([{"n": 1}], [("n", "N", "int")], prefix="s-"))
    report = Report(name="delays", title="Causes of delay", intro="", period=period, sections=[section])
    sheet = load_workbook(io.BytesIO(export(report, "xlsx").content)).active
    assert sheet.title == "Longest stalls per blocking"


@pytest.fixture
def march_20(time_machine):
    time_machine.move_to(datetime(2026, 3, 20, 12, tzinfo=ZoneInfo("Asia/Almaty")), tick=False)


@pytest.mark.parametrize("params", [{}, {"date_from": "2026-03-01", "date_to": "2026-04-30"}],
                         ids=["default-month", "explicit-future-end"])
def test_the_discipline_csv_starts_with_its_period_which_ends_today_at_the_latest(client, manager, march_20,
                                                                                    params):
    response = as_manager(client, manager, "en").get(reverse("reports:discipline_csv"), params)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Period", "2026-03-01 – 2026-03-20"]
    assert rows[1][0] == "Employee"
    assert 'filename="discipline_2026-03-01_2026-03-20.csv"' in response["Content-Disposition"]


def test_the_discipline_xlsx_period_ends_today_at_the_latest(client, manager, march_20):
    response = as_manager(client, manager, "en").get(reverse("reports:discipline_xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert next(sheet.iter_rows(values_only=True))[:2] == ("Period", "2026-03-01 – 2026-03-20")
    assert 'filename="discipline_2026-03-01_2026-03-20.xlsx"' in response["Content-Disposition"]


def test_a_past_period_is_not_clamped(client, manager, march_20):
    response = as_manager(client, manager, "en").get(reverse("reports:discipline_csv"),
                                                     {"date_from": "2026-02-01", "date_to": "2026-02-28"})
    assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == ["Period",
                                                                                  "2026-02-01 – 2026-02-28"]
