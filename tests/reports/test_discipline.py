"""The discipline report: counting rules on a hand-computed month, exports equal to the page, access, queries."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deferrals.models import DeferralCause, DeferralRequest
from tests.factories import TicketFactory, UserFactory
from tickets.models import Status

ALMATY = ZoneInfo("Asia/Almaty")
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def almaty(*args) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


def done(performer, at, *, deadline=None, queue):
    return TicketFactory(queue=queue, performer=performer, owner=performer, status=Status.DONE, done_at=at,
                         deadline=deadline)


def decided(requester, manager, status, at, *, queue, automatic=False):
    ticket = TicketFactory(queue=queue, performer=requester, status=Status.IN_PROGRESS, deadline=almaty(2026, 2, 1))
    return DeferralRequest.objects.create(
        ticket=ticket, requested_by=requester, addressed_to=manager, automatic=automatic,
        cause=DeferralCause.objects.get(code="other"), explanation="why", old_deadline=ticket.deadline,
        proposed_deadline=almaty(2026, 5, 1), status=status, decided_by=manager if status != "pending" else None,
        decided_at=at if status != "pending" else None,
        new_deadline=almaty(2026, 5, 1) if status in ("objective", "subjective") else None,
        created_at=almaty(2026, 2, 20),
    )


@pytest.fixture
def month(queue, engineer, manager, other_engineer):
    """March 2026 in Asia/Almaty (UTC+5), with instants right at both edges of the month."""
    colleague = UserFactory(username="colleague", role="engineer", profile__manager=manager)
    outsider_lead = UserFactory(username="lead2", role="manager")
    other_engineer.profile.manager = outsider_lead
    other_engineer.profile.save()
    # engineer: done 00:30 on 1 March local (still February in UTC), on time
    done(engineer, almaty(2026, 3, 1, 0, 30), deadline=almaty(2026, 3, 2), queue=queue)
    # done 23:30 on 31 March local, after its deadline: completed, not on time
    done(engineer, almaty(2026, 3, 31, 23, 30), deadline=almaty(2026, 3, 31, 20), queue=queue)
    done(engineer, almaty(2026, 4, 1, 0, 10), queue=queue)  # April
    done(engineer, almaty(2026, 2, 28, 23, 59), queue=queue)  # February
    TicketFactory(queue=queue, performer=engineer, status=Status.CANCELED, canceled_at=almaty(2026, 3, 10))
    done(colleague, almaty(2026, 3, 15, 12), queue=queue)  # colleague: no deadline → on time
    done(other_engineer, almaty(2026, 3, 15, 12), queue=queue)
    decided(engineer, manager, "objective", almaty(2026, 3, 5, 10), queue=queue)  # asked in February
    decided(engineer, manager, "subjective", almaty(2026, 3, 31, 23, 50), queue=queue)
    decided(engineer, manager, "subjective", almaty(2026, 4, 1, 0, 5), queue=queue)  # April
    decided(engineer, manager, "objective", almaty(2026, 3, 10, 9), queue=queue, automatic=True)
    decided(engineer, manager, "declined", almaty(2026, 3, 15, 9), queue=queue)
    decided(engineer, manager, "pending", None, queue=queue)
    return {"engineer": engineer, "colleague": colleague, "outsider": other_engineer, "lead2": outsider_lead}


EXPECTED = {
    # completed, on time, objective, subjective, declined, decision time, coefficient, share
    # (decision time: requested 20 Feb 00:00, decided 5, 10, 15 and 31 March: 2283 h 50 min / 4)
    "Engineer": ["2", "1", "2", "1", "1", "570 h 57 min", "3", "67 %"],
    "Colleague": ["1", "1", "0", "0", "0", "—", "1", "—"],
}


class _Table(HTMLParser):
    """Cell texts of ``table.discipline-table`` body rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "discipline-table" in (attrs.get("class") or ""):
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_rows(response) -> dict[str, list[str]]:
    parser = _Table()
    parser.feed(response.content.decode())
    return {row[0]: row[1:] for row in parser.rows if row}


def test_the_month_counts_by_the_viewers_days_and_the_decision_date(client, month, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:discipline"), MARCH)
    assert response.status_code == 200
    assert page_rows(response) == EXPECTED  # the outsider of another team is not shown


def test_the_csv_export_equals_the_page(client, month, manager):
    client.force_login(manager)
    page = page_rows(client.get(reverse("reports:discipline"), {**MARCH, "sort": "-coefficient"}))
    response = client.get(reverse("reports:discipline_csv"), {**MARCH, "sort": "-coefficient"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Period"  # the period first (tests/reports/test_exports.py)
    assert rows[1][0] == "Employee"
    assert [r[0] for r in rows[2:]] == ["Engineer", "Colleague"]  # the page's sort order
    assert [r[7] for r in rows[2:]] == ["571.0", ""]  # decision time in hours
    for row in rows[2:]:
        share = f"{row[9]} %" if row[9] else "—"
        assert [*row[2:7], row[8], share] == [*page[row[0]][:5], *page[row[0]][6:]]


def test_the_xlsx_export_opens_and_has_the_same_numbers(client, month, manager):
    from openpyxl import load_workbook

    client.force_login(manager)
    response = client.get(reverse("reports:discipline_xlsx"), MARCH)
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "Employee"
    body = {row[0]: list(row[2:]) for row in values[2:]}
    assert body == {"Engineer": [2, 1, 2, 1, 1, 571.0, 3, 67], "Colleague": [1, 1, 0, 0, 0, None, 1, None]}


def test_every_number_drills_down_to_its_tickets_and_requests(client, month, manager, engineer):
    client.force_login(manager)
    html = client.get(reverse("reports:discipline"), MARCH).content.decode()
    assert f"employee={engineer.pk}" in html and 'data-metric="objective"' in html
    completed = client.get(reverse("reports:completed"), {**MARCH, "employee": engineer.pk})
    assert completed.status_code == 200 and completed.context["table"].paginator.count == 2
    late = client.get(reverse("reports:completed"), {**MARCH, "employee": engineer.pk, "on_time": "on"})
    assert late.context["table"].paginator.count == 1
    objective = client.get(reverse("reports:deferrals"), {**MARCH, "employee": engineer.pk, "verdict": "objective"})
    assert len(objective.context["items"]) == 2
    assert {d.automatic for d in objective.context["items"]} == {True, False}


def test_engineers_are_refused_and_managers_see_only_their_team(client, month, engineer, manager):
    for name in ("reports:discipline", "reports:discipline_csv", "reports:completed", "reports:deferrals"):
        assert "/login/" in client.get(reverse(name))["Location"]
    client.force_login(engineer)
    for name in ("reports:discipline", "reports:discipline_csv", "reports:discipline_xlsx"):
        assert client.get(reverse(name), MARCH).status_code == 403
    client.force_login(month["lead2"])
    assert list(page_rows(client.get(reverse("reports:discipline"), MARCH))) == ["Outsider"]
    assert client.get(reverse("reports:completed"), {**MARCH, "employee": engineer.pk}).status_code == 404
    assert client.get(reverse("reports:deferrals"), {**MARCH, "employee": engineer.pk}).status_code == 404
    # a manager cannot pick another team
    assert list(page_rows(client.get(reverse("reports:discipline"), {**MARCH, "team": manager.pk}))) == ["Outsider"]


def test_an_admin_sees_everybody_or_one_team(client, month, admin_user, manager):
    client.force_login(admin_user)
    rows = page_rows(client.get(reverse("reports:discipline"), MARCH))
    assert {"Engineer", "Colleague", "Outsider"} <= set(rows)
    assert set(page_rows(client.get(reverse("reports:discipline"), {**MARCH, "team": manager.pk}))) == {
        "Engineer", "Colleague"
    }


def test_the_chart_and_the_formula_are_on_the_page(client, month, manager):
    client.force_login(manager)
    html = client.get(reverse("reports:discipline"), MARCH).content.decode()
    assert "<svg" in html and "chart-bar-positive" in html
    assert "coefficient = (objective − subjective) + completed" in html
    assert "style=" not in html


def test_the_report_runs_the_same_number_of_queries_for_2_or_12_employees(client, month, manager, queue):
    client.force_login(manager)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reports:discipline"), MARCH).status_code == 200
        return len(ctx.captured_queries)

    count()
    few = count()
    for n in range(10):
        person = UserFactory(username=f"member{n}", role="engineer", profile__manager=manager)
        done(person, almaty(2026, 3, 3, 12), queue=queue)
        decided(person, manager, "objective", almaty(2026, 3, 4), queue=queue)
    assert count() == few
