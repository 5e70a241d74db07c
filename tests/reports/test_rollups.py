"""Report rollups (``reports.rollups``, ``reports.clockfigures``): the dashboard's clock figures read from
``ClockFact``/``ClockDay`` equal those read from the clocks, after a rebuild and after incremental refreshes,
in every zone, for every kind of viewer, with exact percentiles (docs/reports.md, "Scale").

Here: the rollup path is taken (or not), incremental refreshes, the command, the schedule, admin and the demo.
Time zones and viewers: test_rollups_zones.py; exact percentiles: test_rollups_percentiles.py.
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from reports import rollups
from reports.models import ClockDay, ClockFact, RollupState, RollupZone, TicketDay, TicketFact
from reports.selectors import Period
from routing.vip import evaluate_customers
from sla.models import SLAClock
from tests.factories import MembershipFactory, UserFactory, VipTierFactory
from tests.reports.conftest import ALMATY, almaty
from tests.reports.rollup_helpers import (
    KOLKATA,
    ON_THE_WEEK,
    PERIODS,
    WEEK,
    assert_rollups_equal_clocks,
    assert_same,
    assert_same_as_a_rebuild,
    clock_figures,
    day_rows,
    fact_rows,
    move,
    stopped_days,
    uses_rollups,
)
from tickets import services
from tickets.models import Status, Ticket, TicketEvent

# --- the rollup path is taken (or not) ----------------------------------------------------------------------------


@ON_THE_WEEK
def test_after_a_rebuild_the_dashboard_reads_the_rollups_not_the_clocks(week, viewer):
    assert not uses_rollups(viewer, WEEK)  # nothing built yet: the clocks answer
    result = rollups.rebuild()
    assert result["facts"] == ClockFact.objects.count() == 11  # FR: T0–T3, T7–T9; RES: T0–T3
    assert "Asia/Almaty" in result["zones"] and rollups.zone_ready("Asia/Almaty")
    assert uses_rollups(viewer, WEEK)

    def queries(**overrides) -> list[str]:
        with override_settings(**overrides), CaptureQueriesContext(connection) as captured:
            clock_figures(viewer, WEEK)
        return [q["sql"] for q in captured.captured_queries]

    on_rollups, on_clocks_only = queries(), queries(REPORTS_USE_ROLLUPS=False)
    # One request (one user object) asks whether its zone is built once, not once per figure.
    assert sum("reports_rollupzone" in sql for sql in on_rollups) == 1
    assert any("sla_slaclock" in sql for sql in on_clocks_only)
    assert not any("sla_slaclock" in sql for sql in on_rollups)  # every clock figure from the rollups
    assert any("reports_clockday" in sql and "GROUP BY" in sql for sql in on_rollups)  # summed in the database
    assert_rollups_equal_clocks([viewer])


@ON_THE_WEEK
def test_the_clocks_answer_when_rollups_are_off_or_the_viewers_zone_is_not_built(week, viewer, settings):
    rollups.rebuild()
    settings.REPORTS_USE_ROLLUPS = False
    assert not uses_rollups(viewer, WEEK)
    settings.REPORTS_USE_ROLLUPS = True
    in_kolkata = Period(WEEK.first, WEEK.last, KOLKATA)
    assert not RollupZone.objects.filter(zone="Asia/Kolkata").exists()
    assert not uses_rollups(viewer, in_kolkata)
    with override_settings(REPORTS_USE_ROLLUPS=False):
        expected = clock_figures(viewer, in_kolkata)
    assert_same(clock_figures(viewer, in_kolkata), expected)


# --- incremental upkeep --------------------------------------------------------------------------------------------


def change_everything(week, time_machine, *, queue, other_queue, engineer, dispatcher, manager) -> dict:
    """On Monday 9 March, through the services: every kind of change the upkeep must follow."""
    tickets = week["tickets"]
    newcomer = UserFactory(username="newcomer", role="engineer", profile__manager=manager)
    MembershipFactory(queue=queue, user=newcomer)

    # A new ticket, answered and done: FR 45 min, RES 2 h, both on Monday 9 March.
    move(time_machine, 2026, 3, 9, 9, 0)
    fresh_ticket = services.ticket_create(actor=dispatcher, title="T10 scanner", customer=week["customer"],
                                         queue=queue, ticket_type=week["type"], description="Broken.",
                                         performer=engineer)
    move(time_machine, 2026, 3, 9, 9, 45)
    services.ticket_reply(fresh_ticket, body="On it.", actor=engineer)
    move(time_machine, 2026, 3, 9, 11, 0)
    services.ticket_change_status(fresh_ticket, status=Status.DONE, actor=engineer)

    # Reopened: T1's resolution (stopped Monday 2 March) runs again and must leave that day.
    move(time_machine, 2026, 3, 9, 11, 5)
    services.ticket_change_status(tickets["T1"], status=Status.IN_PROGRESS, actor=engineer)
    # Reopened and done again: T2's resolution moves from Wednesday 4 to Monday 9 March.
    services.ticket_change_status(tickets["T2"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 11, 20)
    services.ticket_change_status(tickets["T2"], status=Status.DONE, actor=engineer)

    # T7's first response stopped on Friday: another performer, then another queue.
    move(time_machine, 2026, 3, 9, 11, 30)
    services.ticket_assign(tickets["T7"], performer=newcomer, actor=dispatcher)
    services.ticket_update(tickets["T7"], actor=dispatcher, queue=other_queue)
    # T8: another owner of the result and an approver.
    services.ticket_set_people(tickets["T8"], actor=manager, owner=newcomer, approver=dispatcher)

    # Acme (T0, T1, T3, T6–T9) becomes Gold, as the VIP evaluation does it (CustomerTierChange + update).
    move(time_machine, 2026, 3, 9, 11, 40)
    gold = VipTierFactory(name="Gold", rank=1)
    customer = week["customer"]
    customer.manual_tier = gold
    customer.save(update_fields=["manual_tier"])
    assert len(evaluate_customers(date(2026, 3, 9), customer_ids=[customer.pk], actor=manager).changes) == 1

    # T9 canceled: its first response (stopped on Friday) no longer counts for compliance.
    move(time_machine, 2026, 3, 9, 11, 50)
    services.ticket_change_status(tickets["T9"], status=Status.CANCELED, actor=engineer)
    return {"new": fresh_ticket, "newcomer": newcomer, "gold": gold}


@ON_THE_WEEK
def test_a_refresh_follows_every_change_made_through_the_services(
    week, viewer, time_machine, queue, other_queue, engineer, dispatcher, manager, admin_user
):
    rollups.rebuild()
    before = {(f.ticket_id, f.kind): f for f in ClockFact.objects.all()}
    changed = change_everything(week, time_machine, queue=queue, other_queue=other_queue, engineer=engineer,
                                dispatcher=dispatcher, manager=manager)
    move(time_machine, 2026, 3, 9, 12, 0)
    result = rollups.refresh()
    assert result["tickets"] >= 6

    tickets = week["tickets"]
    facts = {(f.ticket_id, f.kind): f for f in ClockFact.objects.all()}
    fr, res = SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION
    assert (changed["new"].pk, fr) in facts and (changed["new"].pk, res) in facts
    assert (tickets["T1"].pk, res) not in facts and (tickets["T1"].pk, fr) in facts
    assert facts[(tickets["T2"].pk, res)].stopped_at.astimezone(ALMATY).date() == date(2026, 3, 9)
    assert before[(tickets["T2"].pk, res)].stopped_at.astimezone(ALMATY).date() == date(2026, 3, 4)
    t7 = facts[(tickets["T7"].pk, fr)]
    assert (t7.performer_id, t7.queue_id) == (changed["newcomer"].pk, other_queue.pk)
    assert (facts[(tickets["T8"].pk, fr)].owner_id, facts[(tickets["T8"].pk, fr)].approver_id) == (
        changed["newcomer"].pk, dispatcher.pk)
    assert {f.tier_id for (pk, _kind), f in facts.items() if pk == tickets["T0"].pk} == {changed["gold"].pk}
    assert (tickets["T9"].pk, fr) not in facts
    # The days the facts left are summed again: Monday 2 March lost T1's resolution, Wednesday 4 March T2's.
    assert stopped_days("Asia/Almaty", res).get(date(2026, 3, 4)) is None
    assert stopped_days("Asia/Almaty", res)[date(2026, 3, 2)] == 1  # T3 alone
    # Ticket facts follow as well: T1 reopened is no longer done, T2 is done on Monday 9 March, T7 was
    # taken by the newcomer (and keeps its earlier assignments), and each carries the current queue.
    done = dict(TicketFact.objects.filter(kind="done").values_list("ticket_id", "at"))
    assert tickets["T1"].pk not in done
    assert done[tickets["T2"].pk].astimezone(ALMATY).date() == date(2026, 3, 9)
    t7_taken = TicketFact.objects.filter(ticket=tickets["T7"], kind="taken")
    assert changed["newcomer"].pk in set(t7_taken.values_list("person_id", flat=True))
    assert set(t7_taken.values_list("queue_id", flat=True)) == {other_queue.pk}
    assert TicketFact.objects.filter(ticket=changed["new"], kind="created").count() == 1

    assert_rollups_equal_clocks([viewer, dispatcher, admin_user])
    assert_rollups_equal_clocks([admin_user], [PERIODS[1]], queue=other_queue)
    assert_rollups_equal_clocks([manager], [PERIODS[1]], ticket_type=week["type"])
    assert_same_as_a_rebuild()


@ON_THE_WEEK
def test_a_change_committed_up_to_ten_minutes_before_the_previous_run_is_still_applied(
    week, viewer, time_machine, engineer
):
    move(time_machine, 2026, 3, 9, 9, 0)
    rollups.rebuild()
    # A long transaction that began before the rebuild commits after it, with the instants of its start.
    move(time_machine, 2026, 3, 9, 8, 52)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 1)
    rollups.refresh()
    assert not ClockFact.objects.filter(ticket=week["tickets"]["T1"], kind=SLAClock.Kind.RESOLUTION).exists()
    assert_rollups_equal_clocks([viewer], [WEEK])
    assert_same_as_a_rebuild()


@ON_THE_WEEK
def test_refresh_is_idempotent_and_nothing_changed_writes_nothing(week, viewer, time_machine, engineer):
    rollups.rebuild()
    move(time_machine, 2026, 3, 9, 9, 0)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 5)
    rollups.refresh()
    days, facts = day_rows(), fact_rows()
    move(time_machine, 2026, 3, 9, 9, 6)
    again = rollups.refresh()  # the look-back sees the same change again: the same rows
    assert (day_rows(), fact_rows()) == (days, facts)
    assert again["tickets"] == 1
    move(time_machine, 2026, 3, 9, 10, 0)
    rollups.refresh()  # ten minutes before the previous run (09:06) is 08:56: the change is seen once more
    move(time_machine, 2026, 3, 9, 10, 1)
    quiet = rollups.refresh()  # from 09:50: nothing changed
    assert (quiet["tickets"], quiet["rollup_rows"]) == (0, 0)
    assert (day_rows(), fact_rows()) == (days, facts)
    assert RollupState.objects.get().refreshed_at == almaty(2026, 3, 9, 10, 1)


@ON_THE_WEEK
def test_the_first_refresh_without_any_state_builds_everything(week, viewer, time_machine):
    assert not RollupState.objects.exists()
    result = rollups.refresh()
    assert result["facts"] == 11
    state = RollupState.objects.get()
    assert state.synced_to == state.facts_built_at == state.refreshed_at == almaty(2026, 3, 7, 10)
    assert set(RollupZone.objects.values_list("zone", flat=True)) == set(rollups.zones())
    assert_rollups_equal_clocks([viewer], [WEEK])
    assert_same_as_a_rebuild()


# --- the command, the schedule, admin, the demo -----------------------------------------------------------------------


@ON_THE_WEEK
def test_rebuild_rollups_prints_one_json_line(week, viewer):
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert (result["facts"], result["zones"]) == (11, rollups.zones())
    assert result["rollup_rows"] == ClockDay.objects.count() + TicketDay.objects.count()
    assert ClockDay.objects.exists() and TicketDay.objects.exists()
    # The week's tickets: each created once; done ones once more; each assignment once (history).
    tickets = Ticket.objects.filter(pk__in=[t.pk for t in week["tickets"].values()])
    expected = tickets.count() + tickets.filter(status="done").count() + TicketEvent.objects.filter(
        kind="ticket.assigned", ticket__in=tickets).count()
    assert result["ticket_facts"] == TicketFact.objects.count() == expected
    assert rollups.zone_ready("Asia/Almaty")


@ON_THE_WEEK
def test_rebuild_rollups_refresh_applies_only_the_changes(week, viewer, time_machine, engineer):
    call_command("rebuild_rollups", stdout=StringIO())
    move(time_machine, 2026, 3, 9, 9, 0)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 1)
    out = StringIO()
    call_command("rebuild_rollups", "--refresh", stdout=out)
    result = json.loads(out.getvalue())
    assert result["tickets"] == 1 and "facts" not in result
    assert_same_as_a_rebuild()


def test_the_refresh_is_scheduled_every_minute(db):
    from django_q.models import Schedule

    from opsdesk.schedules import register_schedules

    register_schedules()
    schedule = Schedule.objects.get(name="reports.rollups")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "reports.rollups.refresh_task", Schedule.MINUTES, 1, -1)


def test_the_task_entry_point_refreshes(db):
    from django_q.tasks import async_task

    async_task("reports.rollups.refresh_task")  # sync in tests
    assert RollupState.objects.get().refreshed_at is not None
    assert rollups.zone_ready(django_settings.TIME_ZONE)


@pytest.mark.parametrize("model", ["rollupstate", "rollupzone"])
def test_admins_see_the_rollup_state_and_zones_but_cannot_edit_them(client, admin_user, model):
    rollups.rebuild()
    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:reports_{model}_changelist"))
    assert changelist.status_code == 200
    obj = (RollupState if model == "rollupstate" else RollupZone).objects.get()
    assert client.get(reverse(f"admin:reports_{model}_add")).status_code == 403
    change_url = reverse(f"admin:reports_{model}_change", args=[obj.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and b'type="submit"' not in page.content.split(b'id="content-main"')[-1]
    assert client.post(change_url, {}).status_code == 403
    assert client.get(reverse(f"admin:reports_{model}_delete", args=[obj.pk])).status_code == 403
    assert client.post(reverse(f"admin:reports_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert (RollupState if model == "rollupstate" else RollupZone).objects.filter(pk=obj.pk).exists()


def test_seed_demo_builds_the_rollups(db, settings):
    call_command("seed_demo", tickets=40, seed=42, force=True, stdout=StringIO())
    assert rollups.zone_ready(settings.TIME_ZONE)
    assert set(RollupZone.objects.values_list("zone", flat=True)) == set(rollups.zones())
    assert ClockFact.objects.count() == SLAClock.objects.filter(
        kind__in=rollups.KINDS, state=SLAClock.State.STOPPED, counts_for_compliance=True).count() > 0
    assert RollupState.objects.get().synced_to is not None
