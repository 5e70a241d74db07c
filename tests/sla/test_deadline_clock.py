"""The deadline clock: it follows ``Ticket.deadline`` (the deadline in force), pauses like resolution, never counts.

Frozen time on the Almaty office calendar (Mon–Fri 09:00–13:00, 14:00–18:00). Monday 16 February 2026.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from reports.dashboard.breakdowns import breakdown
from reports.dashboard.clocks import clock_stats
from reports.dashboard.now import red_zone_ticket_ids
from reports.dashboard.period import period_figures
from reports.dashboard.trends import daily_compliance
from reports.selectors import Period
from sla.breaches import clock_mark_breaches
from sla.clocks import ClockState, replay
from sla.lifecycle import backfill_clocks
from sla.models import SLAClock, SLAClockEvent
from sla.selectors import live_consumed, ticket_sla_history, with_clocks
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory
from tickets import services
from tickets.models import Priority, Status, Ticket

from .conftest import ALMATY, almaty

H = timedelta(hours=1)
RES = SLAClock.Kind.RESOLUTION
DL = SLAClock.Kind.DEADLINE
RETARGET = SLAClockEvent.Kind.RETARGET


def create(actor, queue, **kwargs):
    return services.ticket_create(
        actor=actor, title="Printer jam", customer=kwargs.pop("customer", None) or CustomerFactory(), queue=queue,
        description="It jams.", **kwargs
    )


def clock(ticket, kind=DL) -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, kind=kind)


def assert_replays(ticket):
    for c in SLAClock.objects.filter(ticket=ticket):
        assert replay(c) == ClockState.of(c), c.kind


def test_a_ticket_with_a_deadline_gets_a_deadline_clock_that_never_counts(make_policy, dispatcher, queue, at):
    make_policy()  # first response 2 h, resolution 24 h
    at(2026, 2, 16, 9, 0)
    defaulted = create(dispatcher, queue)
    dl = clock(defaulted)
    assert defaulted.deadline == almaty(2026, 2, 18, 18, 0)  # the resolution due
    assert (dl.state, dl.target, dl.due_at) == ("running", 24 * H, defaulted.deadline)
    assert not dl.counts_for_compliance and dl.policy == clock(defaulted, RES).policy
    start = dl.events.get()
    assert start.data["cause"] == "sla_default"
    assert datetime.fromisoformat(start.data["deadline"]) == defaulted.deadline

    given = create(dispatcher, queue, deadline=almaty(2026, 2, 17, 12, 0))
    dl = clock(given)
    assert dl.target == 11 * H and dl.due_at == almaty(2026, 2, 17, 12, 0)  # 8 h on Monday, 3 h on Tuesday
    assert_replays(given)


def test_a_ticket_without_sla_has_no_deadline_clock(dispatcher, queue, at):
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, deadline=almaty(2026, 2, 17, 12, 0))
    assert not SLAClock.objects.filter(ticket=ticket).exists()


def test_it_pauses_resumes_and_stops_exactly_like_resolution(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    dl = clock(ticket)
    assert (dl.state, dl.pause_reason, dl.due_at, dl.next_escalation_at) == ("paused", waiting_reason, None, None)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    dl, res = clock(ticket), clock(ticket, RES)
    assert dl.due_at == res.due_at == almaty(2026, 2, 19, 10, 0)  # an hour after the deadline: the pause
    at(2026, 2, 16, 15, 0)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    dl = clock(ticket)
    assert (dl.state, dl.stopped_at, dl.consumed) == ("stopped", almaty(2026, 2, 16, 15, 0), 4 * H)
    assert_replays(ticket)


def test_moving_the_deadline_retargets_with_a_new_generation_and_recomputes_the_breach(
    make_policy, dispatcher, admin_user, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, deadline=almaty(2026, 2, 16, 12, 0))
    at(2026, 2, 16, 12, 30)
    clock_mark_breaches()
    assert clock(ticket).breached_at == almaty(2026, 2, 16, 12, 0)

    services.ticket_override_deadline(ticket, deadline=almaty(2026, 2, 17, 12, 0), actor=admin_user,
                                      reason="Parts arrive on Tuesday")
    dl = clock(ticket)
    assert (dl.generation, dl.breached_at, dl.target, dl.due_at) == (1, None, 11 * H, almaty(2026, 2, 17, 12, 0))
    assert dl.next_escalation_at == almaty(2026, 2, 17, 12, 0, 1)  # the breach check under the new deadline
    event = dl.events.get(kind=RETARGET)
    assert (event.actor, event.at, event.generation) == (admin_user, almaty(2026, 2, 16, 12, 30), 1)
    moved = {key: datetime.fromisoformat(event.data[key]) for key in ("from_deadline", "deadline", "from_breached_at")}
    assert moved == {"from_deadline": almaty(2026, 2, 16, 12, 0), "deadline": almaty(2026, 2, 17, 12, 0),
                     "from_breached_at": almaty(2026, 2, 16, 12, 0)}
    assert event.data["cause"] == "override"
    assert clock(ticket, RES).generation == 0  # the SLA clocks never move with the deadline

    at(2026, 2, 17, 12, 30)
    clock_mark_breaches()
    assert clock(ticket).breached_at == almaty(2026, 2, 17, 12, 0)  # breached again, in the new generation
    assert list(dl.events.filter(kind="breach").values_list("generation", "at")) == [
        (0, almaty(2026, 2, 16, 12, 0)), (1, almaty(2026, 2, 17, 12, 0)),
    ]
    # Back to an earlier deadline that has passed: breached at once, where the clock reached the new target.
    services.ticket_override_deadline(ticket, deadline=almaty(2026, 2, 16, 17, 0), actor=admin_user, reason="No")
    dl = clock(ticket)
    assert (dl.generation, dl.breached_at, dl.target) == (2, almaty(2026, 2, 16, 17, 0), 7 * H)
    assert_replays(ticket)


def test_clearing_the_deadline_stops_the_clock_and_setting_it_again_starts_from_the_ticket_start(
    make_policy, dispatcher, engineer, admin_user, queue, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 11, 0)
    services.ticket_override_deadline(ticket, deadline=None, actor=admin_user, reason="Open-ended")
    assert clock(ticket).state == "stopped"
    at(2026, 2, 16, 12, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    assert clock(ticket).state == "stopped"  # no deadline, nothing to follow
    at(2026, 2, 17, 9, 0)
    services.ticket_override_deadline(ticket, deadline=almaty(2026, 2, 19, 18, 0), actor=admin_user, reason="Now")
    dl, res = clock(ticket), clock(ticket, RES)
    now = timezone.now()
    assert dl.state == "running" and dl.generation == 1
    # From the start, through the wait: a deadline a person set holds through waits (docs/sla.md).
    assert live_consumed(dl, now) == 8 * H and live_consumed(res, now) == 6 * H
    assert dl.target == 32 * H and dl.due_at == almaty(2026, 2, 19, 18, 0) == ticket.deadline
    assert SLAClock.objects.filter(ticket=ticket, kind=DL).count() == 1
    assert_replays(ticket)


def test_the_deadline_clock_follows_the_resolution_policy_and_leaves_with_it(
    make_policy, around_the_clock, dispatcher, queue, at
):
    standard_type, other_type = TicketTypeFactory(slug="standard"), TicketTypeFactory(slug="other")
    make_policy(name="Standard", ticket_type=standard_type)
    urgent = make_policy(name="Urgent", precedence=10, priority=Priority.HIGH, calendar=around_the_clock,
                         retarget_mode="carry_over")
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, ticket_type=standard_type)
    at(2026, 2, 16, 10, 0)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH)
    dl = clock(ticket)
    assert (dl.policy, dl.calendar, dl.generation) == (urgent, around_the_clock, 1)
    res = clock(ticket, RES)
    # Nobody set the deadline: it follows the resolution clock onto the urgent policy and its calendar.
    assert dl.target == res.target == 24 * H and dl.due_at == res.due_at == ticket.deadline
    assert dl.events.get(kind=RETARGET).data["cause"] == "policy_matched"
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.NORMAL, ticket_type=other_type)
    dl = clock(ticket)
    assert (dl.policy, dl.state) == (None, "stopped")
    assert_replays(ticket)


def test_the_backfill_gives_every_open_ticket_with_a_deadline_its_deadline_clock(
    make_policy, admin_user, queue, at
):
    make_policy(ticket_type=None)
    at(2026, 2, 18, 9, 0)
    created = almaty(2026, 2, 16, 9, 0)
    given = TicketFactory(queue=queue, created_at=created, status_changed_at=created,
                          deadline=almaty(2026, 2, 16, 12, 0), deadline_set_by_person=True)
    defaulted = TicketFactory(queue=queue, created_at=created, status_changed_at=created)
    done_at = almaty(2026, 2, 16, 15, 0)
    done = TicketFactory(queue=queue, created_at=created, status=Status.DONE, status_changed_at=done_at,
                         done_at=done_at, deadline=almaty(2026, 2, 16, 12, 0), deadline_set_by_person=True)
    assert backfill_clocks(Ticket.objects.all()) == 3
    assert clock(given).breached_at == almaty(2026, 2, 16, 12, 0) and clock(given).target == 3 * H
    defaulted.refresh_from_db()
    assert defaulted.deadline == almaty(2026, 2, 18, 18, 0) and clock(defaulted).due_at == defaulted.deadline
    assert clock(defaulted).events.get().data["cause"] == "backfill"
    # A closed ticket gets none (it could never escalate), and its deadline is final (issue 16): even an
    # admin's override is refused, so "closed on time" never changes after closure.
    assert not SLAClock.objects.filter(ticket=done, kind=DL).exists()
    with pytest.raises(services.TicketError, match="closed"):
        services.ticket_override_deadline(done, deadline=almaty(2026, 2, 16, 16, 0), actor=admin_user, reason="Fix")
    assert not SLAClock.objects.filter(ticket=done, kind=DL).exists()
    for ticket in (given, defaulted):
        assert_replays(ticket)


# --- reports and display -----------------------------------------------------------------------------


def test_the_dashboard_compliance_figures_are_the_same_with_and_without_deadline_clocks(
    make_policy, dispatcher, engineer, admin_user, queue, at
):
    make_policy(first_response_target=2 * H, resolution_target=8 * H)
    at(2026, 2, 16, 9, 0)
    met = create(dispatcher, queue, performer=engineer)
    late = create(dispatcher, queue, performer=engineer)
    tight = create(dispatcher, queue, performer=engineer, deadline=almaty(2026, 2, 16, 10, 0))
    open_ = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 9, 30)
    for ticket in (met, late, tight, open_):
        services.ticket_reply(ticket, body="On it", actor=engineer)
    services.ticket_override_deadline(open_, deadline=almaty(2026, 2, 16, 10, 0), actor=admin_user, reason="VIP")
    at(2026, 2, 16, 12, 0)
    services.ticket_change_status(met, status=Status.DONE, actor=engineer)
    services.ticket_change_status(tight, status=Status.DONE, actor=engineer)  # SLA met, its deadline missed
    at(2026, 2, 17, 10, 0)
    fresh = create(dispatcher, queue, performer=engineer, deadline=almaty(2026, 2, 17, 11, 0))
    services.ticket_reply(fresh, body="On it", actor=engineer)
    at(2026, 2, 17, 12, 0)
    clock_mark_breaches()
    services.ticket_change_status(late, status=Status.DONE, actor=engineer)
    assert SLAClock.objects.filter(kind=DL, breached_at__isnull=False).count() == 4  # late, tight, open_, fresh
    period = Period(almaty(2026, 2, 16).date(), almaty(2026, 2, 17).date(), ALMATY)

    def figures():
        now = timezone.now()
        with timezone.override(ALMATY):
            return (
                clock_stats(admin_user, period),
                period_figures(admin_user, period),
                red_zone_ticket_ids(Ticket.objects.values("pk"), now),
                breakdown(admin_user, period, "queue"),
                daily_compliance(admin_user, period),
            )

    with_deadline_clocks = figures()
    stats = with_deadline_clocks[0]
    assert {kind for _bucket, kind in stats} == {"first_response", "resolution"}
    assert (stats[(1, "resolution")].total, stats[(1, "resolution")].met) == (3, 2)
    assert with_deadline_clocks[2] == {open_.pk}  # resolution breached; fresh only missed its deadline
    assert clock(fresh).breached_at is not None and clock(fresh, RES).breached_at is None
    SLAClock.objects.filter(kind=DL).delete()
    assert figures() == with_deadline_clocks


def render(source: str, **context) -> str:
    return Template("{% load sla_tags %}" + source).render(Context(context))


def test_the_panel_shows_the_deadline_clock_and_the_list_badges_leave_it_out(
    make_policy, dispatcher, admin_user, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue)
    services.ticket_override_deadline(ticket, deadline=almaty(2026, 2, 19, 18, 0), actor=admin_user, reason="Late")
    ticket = with_clocks(Ticket.objects.filter(pk=ticket.pk)).get()
    badges = render("{% sla_badges ticket %}", ticket=ticket)
    assert "Deadline in force" not in badges and ">DL<" not in badges and ">RES<" in badges
    panel = render("{% sla_panel ticket %}", ticket=ticket)
    assert "sla-clock-deadline" in panel and "Deadline in force" in panel and "not counted for compliance" in panel
    assert panel.index("sla-clock-resolution") < panel.index("sla-clock-deadline")
    [moved] = [e for e in ticket_sla_history(ticket) if e.event.kind == RETARGET]
    assert moved.clock_label == "Deadline in force" and moved.actor
    assert "deadline 18 Feb, 18:00 → 19 Feb, 18:00" in moved.details
    assert "overridden by an administrator" in moved.details


def test_the_deadline_clock_reads_in_russian(make_policy, dispatcher, queue, at):
    from django.utils import translation

    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue)
    with translation.override("ru"):
        panel = render("{% sla_panel ticket %}", ticket=with_clocks(Ticket.objects.filter(pk=ticket.pk)).get())
    assert "Действующий срок" in panel and "срок установлен по нормативу решения" in panel


def test_start_deadline_clocks_gives_older_open_tickets_theirs_once(make_policy, dispatcher, engineer, queue,
                                                                     waiting_reason, at):
    """Tickets from before the upgrade: the command starts their clock as a first deadline would."""
    import json
    from io import StringIO

    from django.core.management import call_command

    make_policy()
    at(2026, 2, 16, 9, 0)
    older = create(dispatcher, queue, performer=engineer, deadline=almaty(2026, 2, 17, 12, 0))
    done = create(dispatcher, queue, performer=engineer, deadline=almaty(2026, 2, 17, 12, 0))
    no_deadline = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(older, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(older, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_change_status(done, status=Status.DONE, actor=engineer)
    SLAClock.objects.filter(kind=DL).delete()  # as before the upgrade (events go with their clocks)
    Ticket.objects.filter(pk=no_deadline.pk).update(deadline=None)

    out = StringIO()
    call_command("start_deadline_clocks", stdout=out)
    assert json.loads(out.getvalue())["started"] == 1  # the open ticket with a deadline; not the done one
    dl = clock(older)
    assert (dl.state, dl.target, dl.started_at) == ("running", 11 * H, almaty(2026, 2, 16, 9))
    assert dl.due_at == almaty(2026, 2, 17, 12, 0)  # a deadline a dispatcher set holds through the hour it waited
    assert dl.events.first().data["cause"] == "backfill"
    assert not SLAClock.objects.filter(kind=DL, ticket__in=[done, no_deadline]).exists()
    assert_replays(older)

    again = StringIO()
    call_command("start_deadline_clocks", stdout=again)
    assert json.loads(again.getvalue())["started"] == 0
    assert clock(older).generation == dl.generation
