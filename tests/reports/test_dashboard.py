"""The manager dashboard: every figure against the hand-computed week (tests/reports/conftest.py), its links,
the viewer's time zone, access per role, the htmx refresh and a constant number of queries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.dashboard.breakdowns import breakdown
from reports.dashboard.clocks import clock_stats
from reports.dashboard.common import previous as previous_period
from reports.dashboard.now import now_figures, red_zone_ticket_ids
from reports.dashboard.period import period_figures
from reports.dashboard.scoping import scope
from reports.dashboard.trends import daily_compliance, first_response_histogram
from reports.dashboard.violators import top_violators
from reports.dashboard.waiting import waiting_by_reason
from reports.dashboard.workload import workload
from reports.selectors import Period
from tests.factories import TicketFactory, UserFactory
from tests.reports.conftest import ALMATY, PERIOD

WEEK = Period(date(2026, 3, 2), date(2026, 3, 6), ALMATY)


def ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/tickets/(\d+)/"', response.content.decode())}


def refs(week, *names) -> set[int]:
    return {week["tickets"][n].pk for n in names}


def test_now_counts_open_red_unassigned_without_next_step_waiting_and_deferrals(week, viewer):
    now = now_figures(viewer, timezone.now())
    assert [(f.key, f.value) for f in now.main] == [
        ("open", 4), ("red_zone", 2), ("unassigned", 1), ("no_next_step", 3), ("next_step_overdue", 0),
        ("pending_deferrals", 1), ("no_sla", 0),
    ]
    assert sorted((f.label, f.value) for f in now.waiting) == [("No stock", 1), ("Waiting for the customer", 1)]


def test_the_red_zone_is_breached_or_past_eighty_percent_in_business_time(week, viewer):
    red = red_zone_ticket_ids(scope(viewer).values("pk"), timezone.now())
    assert red == refs(week, "T6", "T8")  # T8: 7 of 8 h; T7: 2 of 8 h; T9 paused at 1 h


def test_period_compliance_times_on_time_and_escalations_against_the_previous_period(week, viewer):
    with timezone.override(ALMATY):
        figures = period_figures(viewer, WEEK)
    assert figures.previous == Period(date(2026, 2, 25), date(2026, 3, 1), ALMATY)
    assert [(f.value, f.change.previous, f.change.delta) for f in figures.compliance] == [
        (83.3, 100.0, -16.7), (66.7, 100.0, -33.3),
    ]
    assert (figures.on_time.value, figures.on_time.change.previous) == (66.7, 100.0)
    fr, res = figures.times
    assert (fr["count"], fr["breached"], res["count"], res["breached"]) == (6, 1, 3, 1)
    assert [(r["current"], r["previous"]) for r in fr["rows"]] == [
        ("30 min", "10 min"), ("1 h 38 min", "10 min"), ("4 h 15 min", "10 min"),
    ]
    assert [r["current"] for r in res["rows"]] == ["3 h", "4 h 20 min", "8 h 36 min"]
    assert [(f.label, f.value, f.change.previous) for f in figures.escalations] == [
        ("Level 1", 1, 1), ("Level 2", 1, 0),
    ]
    assert [(f.key, f.value) for f in figures.manual] == [("manual-functional", 0), ("manual-hierarchical", 1)]


def test_clock_statistics_are_exact_business_seconds(week, viewer):
    stats = clock_stats(viewer, WEEK)
    fr, res = stats[(1, "first_response")], stats[(1, "resolution")]
    assert (fr.total, fr.met, fr.median, fr.p90) == (6, 5, 1800.0, 255 * 60.0)
    assert fr.average == pytest.approx(5900.0)
    assert (res.total, res.met, res.median, res.average) == (3, 2, 3 * 3600.0, pytest.approx(15600.0))
    assert res.p90 == pytest.approx(8.6 * 3600)


def test_a_clock_stopped_at_0040_local_counts_on_that_local_monday(week, viewer):
    with timezone.override(ALMATY):
        days = {d["day"]: d for d in daily_compliance(viewer, WEEK)}
    monday = days[date(2026, 3, 2)]
    assert (monday["fr_total"], monday["res_total"], monday["res"]) == (2, 2, 100.0)  # T1 and T3 (Sunday in UTC)
    assert (days[date(2026, 3, 3)]["fr"], days[date(2026, 3, 4)]["res"], days[date(2026, 3, 5)]["res"]) == (
        0.0, 0.0, None)
    # Only Monday to Friday: nothing of the previous period leaks in, although 00:40 Monday is 19:40 UTC Sunday.
    previous = clock_stats(viewer, previous_period(WEEK))
    assert previous[(1, "resolution")].total == 1  # T0 alone


def test_histogram_waiting_workload_violators_and_breakdowns(week, viewer):
    with timezone.override(ALMATY):
        histogram = first_response_histogram(viewer, WEEK)
        waits = waiting_by_reason(viewer, WEEK)
        load = workload(viewer, WEEK)
        violators = top_violators(viewer, WEEK)
        by_agent = breakdown(viewer, WEEK, "agent")
    assert [b["count"] for b in histogram] == [1, 1, 3, 0, 0, 0, 1]
    assert [(w["name"], w["hours"], w["tickets"]) for w in waits] == [  # open waits count up to the period's end
        ("Waiting for the customer", 11.0, 2), ("No stock", 6.0, 1)]
    assert [(p["name"], p["open"], p["taken"], p["done"]) for p in load["people"]] == [("Engineer", 3, 6, 3)]
    assert [(q["name"], q["open"], q["created"], q["done"]) for q in load["queues"]] == [("Service", 4, 7, 3)]
    assert [(v["ticket"].pk, v["kind"], v["overdue"]) for v in violators["tickets"]] == [
        (week["tickets"]["T2"].pk, "First response", 6 * 3600.0), (week["tickets"]["T2"].pk, "Resolution", 7200.0),
    ]
    assert [(c["name"], c["breaches"]) for c in violators["customers"]] == [("Globex", 2)]
    assert [(r["name"], r["fr_total"], r["fr_compliance"], r["res_total"], r["res_breached"]) for r in by_agent] == [
        ("Engineer", 6, 83.3, 3, 1)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"zone": "red"}, ("T6", "T8")),
        ({"unassigned": "on"}, ("T6",)),
        ({"no_next_step": "on"}, ("T6", "T8", "T9")),
        ({"deferral_pending": "on"}, ("T7",)),
        ({"open": "on"}, ("T6", "T7", "T8", "T9")),
        ({"sla_clock": "first_response", **{"period_from": "2026-03-02", "period_to": "2026-03-06"}},
         ("T1", "T2", "T3", "T7", "T8", "T9")),
        ({"sla_clock": "resolution", "sla_result": "breached", "period_from": "2026-03-02",
          "period_to": "2026-03-06"}, ("T2",)),
        ({"sla_clock": "resolution", "period_from": "2026-03-02", "period_to": "2026-03-02"}, ("T1", "T3")),
        ({"done_in_period": "on", "period_from": "2026-03-02", "period_to": "2026-03-06"}, ("T1", "T2", "T3")),
        ({"done_in_period": "on", "on_time": "no", "period_from": "2026-03-02", "period_to": "2026-03-06"},
         ("T2",)),
        ({"escalation_level": "1", "period_from": "2026-03-02", "period_to": "2026-03-06"}, ("T2",)),
        ({"escalation_level": "1", "period_from": "2026-02-25", "period_to": "2026-03-01"}, ("T0",)),
        ({"manual_escalation": "hierarchical", "period_from": "2026-03-02", "period_to": "2026-03-06"}, ("T2",)),
        ({"created_in_period": "on", "period_from": "2026-03-02", "period_to": "2026-03-02"}, ("T1", "T2", "T3")),
    ],
)
def test_each_link_lists_the_tickets_behind_the_figure(client, week, viewer, params, expected):
    client.force_login(viewer)
    response = client.get(reverse("tickets:list"), {**params, "per_page": 100})
    assert response.status_code == 200
    assert ids(response) == refs(week, *expected)


def test_the_waited_link_lists_tickets_that_waited_for_the_reason(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("tickets:list"), {"waited": week["reason_customer"].pk, **{
        "period_from": "2026-03-02", "period_to": "2026-03-06"}})
    assert ids(response) == refs(week, "T2", "T9")  # T9 still waits for the customer


def test_the_page_shows_the_figures_with_links_and_the_previous_period(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:dashboard"), PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'href="/tickets/\?zone=red" data-figure="red_zone">\s*<span class="tile-value">2<', html)
    assert 'data-figure="compliance-first_response"' in html and "83.3 %" in html and "▼ -16.7 pp" in html
    assert 'hx-trigger="every 45s"' in html and "period=custom" in html
    assert "25 Feb – 1 Mar 2026" in html


def test_the_htmx_refresh_returns_only_the_figures(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:dashboard"), PERIOD, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-body"') and "<html" not in html


def test_presets_are_whole_days_in_the_viewers_zone(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:dashboard"), {"period": "today"})
    assert response.context["period"] == Period(date(2026, 3, 7), date(2026, 3, 7), ALMATY)
    response = client.get(reverse("reports:dashboard"), {"period": "30d"})
    assert response.context["period"].first == date(2026, 2, 6)


def test_engineers_get_403_and_anonymous_users_go_to_login(client, engineer, db):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(engineer)
    for name in ("dashboard", "index", "sla", "delays", "workload", "repetitive", "calibration", "staffing"):
        assert client.get(reverse(f"reports:{name}")).status_code == 403, name


def test_dispatchers_managers_and_admins_may_open_it(client, dispatcher, manager, admin_user):
    for user in (dispatcher, manager, admin_user):
        client.force_login(user)
        assert client.get(reverse("reports:dashboard")).status_code == 200


def test_a_dispatcher_counts_only_the_queues_they_dispatch(week, dispatcher, other_queue):
    TicketFactory(queue=other_queue)  # not theirs
    now = now_figures(dispatcher, timezone.now())
    assert now.open.value == 4


def test_the_dashboard_runs_the_same_number_of_queries_whatever_the_data(client, week, viewer,
                                                                         django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(viewer)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports:dashboard"), PERIOD)
    other = UserFactory(username="second", role="engineer", profile__manager=viewer)
    for n in range(12):
        TicketFactory(queue=week["tickets"]["T1"].queue, performer=other, title=f"extra {n}",
                      ticket_type=week["type"])
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports:dashboard"), PERIOD)
    assert len(large) == len(small)
