"""What clocks look like: clock_view, durations, the list badges and the ticket's SLA panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from sla.models import SLAClock
from sla.selectors import clock_view, format_duration, with_clocks
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Status, Ticket

from .conftest import almaty

H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def create(dispatcher, queue, **kwargs):
    return services.ticket_create(
        actor=dispatcher, title="Printer", customer=CustomerFactory(), queue=queue, description="jam", **kwargs
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(minutes=45, seconds=59), "45 min"),
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(hours=27, minutes=5), "27 h 5 min"),
        (-timedelta(minutes=30), "30 min"),
        (timedelta(0), "0 min"),
    ],
)
def test_durations_read_as_hours_and_minutes(value, text):
    assert format_duration(value) == text


def test_durations_are_translated():
    with translation.override("ru"):
        text = format_duration(timedelta(hours=2, minutes=15))
    assert "2" in text and "15" in text


@pytest.mark.parametrize(
    ("minutes", "colour"),
    [(0, "green"), (59, "green"), (60, "yellow"), (95, "yellow"), (96, "orange"), (120, "orange"), (121, "red")],
)
def test_the_colour_follows_the_share_of_the_target_consumed(make_policy, dispatcher, queue, at, minutes, colour):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue)
    fr = ticket.sla_clocks.get(kind="first_response")
    view = clock_view(fr, almaty(2026, 2, 16, 9, 0) + minutes * MIN)
    assert view.colour == colour
    assert view.consumed == minutes * MIN
    assert view.remaining == max(2 * H - minutes * MIN, timedelta(0))
    assert view.overdue == max(minutes * MIN - 2 * H, timedelta(0))
    assert view.due_at == almaty(2026, 2, 16, 11, 0)


def test_a_breached_clock_stays_red_after_it_stops(make_policy, dispatcher, engineer, queue, at):
    make_policy(first_response_target=H)
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 30)
    services.ticket_reply(ticket, body="Sorry", actor=engineer)
    view = clock_view(ticket.sla_clocks.get(kind="first_response"), almaty(2026, 2, 20, 9))
    assert view.colour == "red" and view.breached and view.stopped
    assert view.overdue == 30 * MIN and view.due_at is None
    assert view.summary == "First response: 30 min overdue · stopped"


def test_a_paused_clock_shows_its_reason_and_does_not_move(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    res = ticket.sla_clocks.get(kind="resolution")
    view = clock_view(res, almaty(2026, 2, 18, 12, 0))
    assert view.paused and view.pause_reason == "Waiting for the customer"
    assert view.consumed == H and view.due_at is None and view.colour == "green"
    assert view.summary == "Resolution: 23 h left · paused: Waiting for the customer"


def render(source: str, **context) -> str:
    return Template("{% load sla_tags %}" + source).render(Context(context))


def test_the_badges_show_each_clock_compactly(make_policy, dispatcher, engineer, queue, waiting_reason, at):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 30)
    html = render("{% sla_badges ticket %}", ticket=ticket)
    assert 'class="sla-badge sla-yellow"' in html  # 75 % of first response
    assert "30 min" in html and ">FR</abbr>" in html and ">RES</abbr>" in html
    assert 'data-sla-due="2026-02-16T' in html
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    html = render("{% sla_badges ticket %}", ticket=Ticket.objects.get(pk=ticket.pk))
    assert "paused: Waiting for the customer" in html and "sla-is-paused" in html


def test_the_badges_say_no_sla_when_no_policy_matches(dispatcher, queue):
    ticket = create(dispatcher, queue)
    assert "No SLA" in render("{% sla_badges ticket %}", ticket=ticket)


def test_a_list_of_tickets_renders_its_badges_without_a_query_per_row(
    make_policy, dispatcher, queue, at, django_assert_num_queries
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    for _ in range(5):
        create(dispatcher, queue)
    SLAClock.objects.select_related("calendar").first().calendar.work_calendar()  # warm the engine cache
    with django_assert_num_queries(2):  # the tickets, their clocks with calendars and policies
        tickets = list(with_clocks(Ticket.objects.all()))
        html = render("{% for t in tickets %}{% sla_badges t %}{% endfor %}", tickets=tickets)
    assert html.count(">FR</abbr>") == 5


def test_the_panel_shows_each_clock_in_the_viewers_time_zone_and_the_segment_history(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy(name="Standard request", first_response_target=2 * H)
    at(2026, 2, 13, 17, 30)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 9, 15)
    services.ticket_reply(ticket, body="On it", actor=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 11, 0)
    services.ticket_receive_customer_message(ticket, body="Here", channel="email")
    with timezone.override("Europe/Berlin"):
        html = render("{% sla_panel ticket %}", ticket=Ticket.objects.get(pk=ticket.pk))
    assert "Standard request" in html and "Almaty office (Asia/Almaty)" in html
    assert "First response" in html and "Resolution" in html and "met" in html
    # Resolution consumed 0:30 + 1:00 = 1:30 of 24 h; due Thursday 09:30 Almaty = 05:30 in Berlin.
    assert "22 h 30 min left" in html
    assert "19 Feb, 05:30" in html and "2026-02-19T05:30:00+01:00" in html
    assert "Segment history" in html
    for label in ("Started", "Stopped", "Paused", "Resumed", "Waiting for the customer", "customer message"):
        assert label in html, label
    assert "Engineer" in html  # who paused it


def test_the_panel_says_no_sla_when_no_policy_matches(dispatcher, queue):
    ticket = create(dispatcher, queue)
    html = render("{% sla_panel ticket %}", ticket=ticket)
    assert "No SLA" in html and "Segment history" not in html


def test_the_panel_of_a_ticket_that_lost_its_policy_says_no_sla_and_keeps_the_history(
    make_policy, dispatcher, queue, at
):
    from tests.factories import TicketTypeFactory

    standard, other = TicketTypeFactory(slug="standard"), TicketTypeFactory(slug="other")
    make_policy(ticket_type=standard)
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, ticket_type=standard)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=other)
    html = render("{% sla_panel ticket %}", ticket=Ticket.objects.get(pk=ticket.pk))
    assert "No SLA" in html and "Segment history" in html and "no SLA any more" in html
    assert SLAClock.objects.filter(ticket=ticket, policy__isnull=True).count() == 3  # FR, RES, deadline


def test_running_badges_carry_the_due_instant_for_the_countdown_and_paused_ones_do_not(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 30)
    view = clock_view(SLAClock.objects.filter(ticket=ticket, kind="first_response").get(), timezone.now())
    assert view.due_iso.endswith("Z") and len(view.due_iso) == 20  # UTC, seconds, no microseconds
    html = render("{% sla_badges ticket %}", ticket=ticket)
    assert f'data-sla-due="{view.due_iso}"' in html and 'data-sla-left="1800"' in html
    assert 'data-sla-target="7200"' in html and 'data-sla-over="0"' in html
    assert '<span class="sla-time">30 min</span>' in html
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    html = render("{% sla_badges ticket %}", ticket=Ticket.objects.get(pk=ticket.pk))
    assert "sla-is-paused" in html and "data-sla-due" not in html.split("sla-is-paused")[1].split("</span>")[0]


def test_the_countdown_config_carries_the_servers_unit_words_in_russian(db):
    with translation.override("ru"):
        html = render("{% sla_countdown_config as c %}{{ c|json_script:'cfg' }}")
    assert "\\u043c\\u0438\\u043d" in html and '"yellow": 50' in html and '"orange": 80' in html
