"""The sweep's batch path and ``notify_many``: same outcome as one at a time, in a constant number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from escalations import sweep as sweep_module
from escalations.audience import EXPECTED
from escalations.models import ContactRole, EscalationLevel, Firing, QueueEscalationContact, TicketEscalationState
from escalations.sweep import sweep
from notifications.models import Delivery, Notification, Urgency
from notifications.service import Notice, notify, notify_many
from sla.models import SLAClock
from sla.selectors import format_duration
from tests.factories import CustomerFactory, UserFactory, VipTierFactory
from tickets.models import Priority, Status, Ticket, TicketEvent

from .ladders import ladder, office_calendar, sla_policy

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY_10 = datetime(2026, 3, 16, 10, 0, tzinfo=ALMATY)
SATURDAY_10 = datetime(2026, 3, 21, 10, 0, tzinfo=ALMATY)


def statements(queries: CaptureQueriesContext) -> int:
    """Statements run; one bulk INSERT that SQLite's 999-parameter limit splits into chunks counts once."""
    count, previous = 0, None
    for query in queries.captured_queries:
        sql = query["sql"]
        head = sql.split("(", 1)[0] if sql.startswith("INSERT") else None
        if head is None or head != previous:
            count += 1
        previous = head
    return count


# --- notify_many ------------------------------------------------------------------------------------


@pytest.fixture
def readers(db, set_prefs):
    """Four people with different preferences: defaults, email digests, quiet hours off shift, in-app off."""
    calendar = office_calendar("Readers' office")
    plain = UserFactory(username="plain", role="engineer")
    digesting = UserFactory(username="digesting", role="engineer", profile__language="ru")
    set_prefs(digesting, routine=["in_app", "email"], digest_window_minutes=15)
    quiet = UserFactory(username="quiet", role="engineer", profile__work_calendar=calendar)
    set_prefs(quiet, important=["in_app", "email", "sms"], quiet_hours=True)
    silent = UserFactory(username="silent", role="engineer")
    set_prefs(silent, routine=[], important=["webhook"], digest_window_minutes=0)
    gone = UserFactory(username="gone", role="engineer", is_active=False)
    return plain, digesting, quiet, silent, gone


def _notices(readers, ticket) -> list[Notice]:
    plain, digesting, quiet, silent, gone = readers
    notices = []
    for n, user in enumerate((plain, digesting, quiet, silent, gone, None, digesting, quiet)):
        for urgency in Urgency.values:
            notices.append(Notice(user, kind=f"test.{n}", urgency=urgency, title=f"Title {n} {urgency}",
                                  body="Body", ticket=ticket, dedupe_key=f"k{n % 4}:{urgency}"))
    notices.append(Notice(plain, kind="test.nokey", urgency=Urgency.ROUTINE, title="A", body=""))
    notices.append(Notice(plain, kind="test.nokey", urgency=Urgency.ROUTINE, title="A", body=""))
    return notices


def _rows() -> tuple[list, list]:
    notifications = list(Notification.objects.order_by("pk"))
    order = {n.pk: i for i, n in enumerate(notifications)}
    return (
        [(n.recipient_id, n.kind, n.urgency, n.title, n.body, n.ticket_id, n.dedupe_key, n.in_app, n.created_at)
         for n in notifications],
        sorted((order[d.notification_id], d.recipient_id, d.channel, d.digestible, d.status, d.next_attempt_at)
               for d in Delivery.objects.all()),
    )


def test_notify_many_writes_the_same_rows_as_notify_called_once_per_notice(readers, ticket):
    notices = _notices(readers, ticket)
    with time_machine.travel(SATURDAY_10, tick=False):  # the quiet reader is off shift
        with transaction.atomic():
            one_by_one = [notify(**vars(n)) for n in notices]
            expected = _rows()
            transaction.set_rollback(True)
        assert Notification.objects.count() == 0
        batched = notify_many(notices)
    assert _rows() == expected
    assert [n is None for n in batched] == [n is None for n in one_by_one]
    assert len(expected[0]) > 10 and len(expected[1]) > 5
    # Digest: the Russian reader's routine emails are held together; quiet hours wait for Monday 09:00.
    digest_times = {d.next_attempt_at for d in Delivery.objects.filter(recipient=readers[1], digestible=True)}
    assert digest_times == {SATURDAY_10 + timedelta(minutes=15)}
    quiet_email = Delivery.objects.get(recipient=readers[2], channel="email", notification__urgency="important",
                                      notification__kind="test.2")
    assert quiet_email.next_attempt_at == datetime(2026, 3, 23, 9, tzinfo=ALMATY)


def test_notify_many_takes_the_same_number_of_queries_for_ten_or_a_hundred_notices(readers, ticket):
    counts = []
    for size in (10, 100):
        notices = [
            Notice(readers[i % 3], kind="test", urgency=Urgency.values[i % 3], title=f"T{i}", body="",
                   ticket=ticket, dedupe_key=f"{size}:{i}")
            for i in range(size)
        ]
        for notice in notices:  # fresh user objects: settings and profiles are read in bulk
            notice.recipient = type(notice.recipient).objects.get(pk=notice.recipient.pk)
        with CaptureQueriesContext(connection) as queries:
            assert all(notify_many(notices))
        counts.append(statements(queries))
    assert counts[0] == counts[1] <= 10


def test_notify_many_renders_each_notice_in_its_recipients_language(readers):
    from django.utils.translation import gettext_lazy

    plain, digesting = readers[0], readers[1]
    made = notify_many([Notice(u, kind="t", urgency="routine", title=gettext_lazy("January"), body="")
                        for u in (plain, digesting, plain)])
    assert [n.title for n in made] == ["January", "Январь", "January"]


def test_notify_many_without_results_writes_the_same_rows_and_says_which_notices_made_one(readers, ticket):
    notices = _notices(readers, ticket)
    with time_machine.travel(SATURDAY_10, tick=False):
        with transaction.atomic():
            made = notify_many(notices)
            expected = _rows()
            transaction.set_rollback(True)
        flags = notify_many(notices, results=False)
    assert _rows() == expected
    assert flags == [True if n is not None else None for n in made]


# --- The sweep's batch path ------------------------------------------------------------------------


@pytest.fixture
def calendar(db):
    return office_calendar()


@pytest.fixture
def standard(calendar):
    return sla_policy(calendar, name="Standard request")


@pytest.fixture
def urgent_ladder(standard, dispatcher):
    """50 %: the performer (routine); 80 %: performer and shift lead (important), urgent mark."""
    QueueEscalationContact.objects.create(queue=None, role=ContactRole.SHIFT_LEAD, user=dispatcher)
    return ladder("Batch", [
        {"name": "Half", "trigger_percent": 50, "urgency": "routine", "to_performer": True},
        {"name": "Most", "trigger_percent": 80, "urgency": "important", "to_performer": True,
         "to_shift_lead": True, "mark_urgent": True},
    ], sla_policies=[standard])


def due_tickets(count: int, *, policy, queue, performers, started: datetime, customer=None) -> list[Ticket]:
    """``count`` tickets with a running first-response clock (2 business hours) started at ``started``."""
    customer = customer or CustomerFactory()
    tickets = Ticket.objects.bulk_create(
        Ticket(title=f"T{i}", customer=customer, queue=queue, status=Status.ASSIGNED,
               performer=performers[i % len(performers)], created_at=started, status_changed_at=started)
        for i in range(count)
    )
    SLAClock.objects.bulk_create(
        SLAClock(ticket=t, kind="first_response", policy=policy, calendar=policy.calendar,
                 target=timedelta(hours=2), state="running", consumed=timedelta(0), state_changed_at=started,
                 started_at=started, due_at=started + timedelta(hours=2),
                 next_escalation_at=started + timedelta(hours=1))
        for t in tickets
    )
    return tickets


def run(when: datetime, **kwargs) -> dict:
    with time_machine.travel(when, tick=False):
        return sweep(when, **kwargs)


def test_a_batch_costs_the_same_queries_for_ten_or_a_hundred_due_clocks(urgent_ladder, standard, queue, dispatcher):
    performers = [UserFactory(username=f"batch-{i}", role="engineer") for i in range(7)]
    standard.calendar.work_calendar()  # built once per process, not per sweep
    counts = []
    for count, started in ((10, MONDAY_10), (100, MONDAY_10 + timedelta(hours=1))):
        SLAClock.objects.update(next_escalation_at=None)  # the first round's breach checks are not due here
        due_tickets(count, policy=standard, queue=queue, performers=performers, started=started)
        when = started + timedelta(hours=1, minutes=40)  # 50 % and 80 % both due
        with CaptureQueriesContext(connection) as queries:
            result = run(when)
        assert (result["due"], result["fired"], result["failed"]) == (count, 2 * count, 0)
        counts.append(statements(queries))
    assert counts[0] == counts[1] <= 36  # of which 7 load the ladder, 7 claim (clocks, their rows, calendars …)
    assert Firing.objects.count() == 220
    assert TicketEscalationState.objects.filter(urgent_since__isnull=False).count() == 110
    assert TicketEvent.objects.filter(kind="ticket.escalated").count() == 220
    assert Notification.objects.filter(recipient=dispatcher).count() == 110
    assert Delivery.objects.filter(channel="email").count() == 220  # the 80 % notices: important → email
    # The second round's clocks wait for their breach check (12:00 + 1 h lunch + 1 s).
    assert SLAClock.objects.filter(next_escalation_at=datetime(2026, 3, 16, 14, 0, 1, tzinfo=ALMATY)).count() == 100


def test_the_batch_path_records_what_the_per_clock_path_records(urgent_ladder, standard, queue, engineer):
    [ticket] = due_tickets(1, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    run(MONDAY_10 + timedelta(hours=1, minutes=40))
    firings = list(Firing.objects.filter(ticket=ticket).order_by("pk"))
    assert [f.level.name for f in firings] == ["Half", "Most"]
    assert "actions" not in firings[0].data and firings[1].data["actions"] == ["mark_urgent"]
    assert firings[1].data["recipients"] == [engineer.pk, urgent_ladder.levels.get(name="Most").firings.get().data[
        "recipients"][1]]
    events = list(ticket.events.filter(kind="ticket.escalated").order_by("pk").values_list("data", flat=True))
    assert events == [f.data for f in firings]
    notices = Notification.objects.filter(recipient=engineer).order_by("pk")
    assert [(n.kind, n.dedupe_key) for n in notices] == [
        ("escalation.level_10", f"firing:{firings[0].pk}:{engineer.pk}"),
        ("escalation.level_20", f"firing:{firings[1].pk}:{engineer.pk}"),
    ]
    assert notices[1].title == f"Most: #{ticket.pk} T0"
    state = TicketEscalationState.objects.get(ticket=ticket)
    assert (state.urgent_since, state.urgent_level.name) == (MONDAY_10 + timedelta(hours=1, minutes=40), "Most")


def test_a_firing_someone_else_inserted_produces_no_second_effect(urgent_ladder, standard, queue, engineer,
                                                                  monkeypatch):
    tickets = due_tickets(3, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    assert run(MONDAY_10 + timedelta(hours=1))["fired"] == 3
    SLAClock.objects.update(next_escalation_at=MONDAY_10 + timedelta(hours=1))
    # As if the sweep had not seen the firings (a lost claim): the insert skips them, nothing is repeated.
    monkeypatch.setattr(sweep_module, "fired_levels", lambda clocks: {c.pk: set() for c in clocks})
    result = run(MONDAY_10 + timedelta(hours=1, minutes=1))
    assert (result["due"], result["fired"], result["failed"]) == (3, 0, 0)
    assert Firing.objects.count() == 3
    assert TicketEvent.objects.filter(kind="ticket.escalated").count() == 3
    assert Notification.objects.count() == 3
    assert {c.next_escalation_at for c in SLAClock.objects.filter(ticket__in=tickets)} == {
        MONDAY_10 + timedelta(hours=1, minutes=36)
    }


def test_a_failing_batch_falls_back_to_one_clock_at_a_time_and_fires_each_level_once(
    urgent_ladder, standard, queue, engineer, monkeypatch, caplog
):
    due_tickets(5, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    real = sweep_module.notify_many

    def fails_after_writing(notices, **kwargs):
        real(notices, **kwargs)  # the firings, history and notices are written, then the batch fails
        raise RuntimeError("the mail relay config is broken")

    monkeypatch.setattr(sweep_module, "notify_many", fails_after_writing)
    result = run(MONDAY_10 + timedelta(hours=1, minutes=40))
    assert (result["due"], result["fired"], result["failed"]) == (5, 10, 0)
    assert "firing them one at a time" in caplog.text
    assert Firing.objects.count() == 10
    assert TicketEvent.objects.filter(kind="ticket.escalated").count() == 10
    assert Notification.objects.count() == 15  # 50 %: the performer; 80 %: the performer and the shift lead
    assert TicketEscalationState.objects.count() == 5


def test_clocks_whose_levels_change_the_ticket_go_one_by_one_beside_the_batch(standard, queue, engineer, manager):
    gold = VipTierFactory(name="Gold", escalate_on_threat=True)
    ladder("Everyone", [{"name": "Normal", "trigger_percent": 50, "to_performer": True}], sla_policies=[standard])
    ladder("VIP", [{"name": "Threat", "trigger_percent": 50, "to_manager": True, "urgency": "important",
                    "raise_priority_to": Priority.HIGH}], sla_policies=[standard], vip_tiers=[gold])
    [plain] = due_tickets(1, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    [vip] = due_tickets(1, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10,
                        customer=CustomerFactory(vip_tier=gold))
    result = run(MONDAY_10 + timedelta(hours=1))
    assert (result["due"], result["fired"], result["failed"]) == (2, 2, 0)
    vip.refresh_from_db()
    assert vip.priority == Priority.HIGH
    assert Notification.objects.get(recipient=manager).kind == "escalation.level_10"
    assert Notification.objects.get(recipient=engineer, ticket=plain).kind == "escalation.level_10"
    assert run(MONDAY_10 + timedelta(hours=1, minutes=5))["fired"] == 0


def test_a_firing_row_already_there_is_skipped_and_only_new_ones_come_back(urgent_ladder, standard, queue, engineer):
    [ticket] = due_tickets(1, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    clock = SLAClock.objects.get(ticket=ticket)
    half, most = urgent_ladder.levels.order_by("order")
    row = (clock.pk, half.pk, 0, ticket.pk, MONDAY_10, MONDAY_10, {"level": half.pk})
    first = sweep_module.insert_firings([row])
    assert list(first) == [(clock.pk, half.pk, 0)]
    again = sweep_module.insert_firings([row, (clock.pk, most.pk, 0, ticket.pk, MONDAY_10, MONDAY_10, {})])
    assert list(again) == [(clock.pk, most.pk, 0)]
    assert Firing.objects.get(pk=first[clock.pk, half.pk, 0]).data == {"level": half.pk}
    assert Firing.objects.count() == 2


def _lazy_texts(level_name, clock, threshold, zone):
    """The notice as the sweep wrote it before its texts were cached: lazy formats rendered in the active language."""
    duration = lazy(format_duration, str)
    label = SLAClock.Kind(clock.kind).label
    title = format_lazy(gettext_lazy("{level}: {reference} {title}"), level=level_name,
                        reference=clock.ticket.reference, title=clock.ticket.title)
    expected = EXPECTED[clock.kind]
    due = timezone.localtime(clock.due_at, zone).strftime("%d.%m %H:%M")
    link = f"http://127.0.0.1:8000/tickets/{clock.ticket_id}/"
    if threshold < clock.target:
        body = format_lazy(gettext_lazy("{clock}: {remaining} of business time left. Expected: {expected} by {due}. "
                                        "{link}"), clock=label, remaining=duration(clock.target - threshold),
                           expected=expected, due=due, link=link)
    elif threshold == clock.target:
        body = format_lazy(gettext_lazy("{clock}: the target of {target} is breached (due {due}). Expected: "
                                        "{expected} now. {link}"), clock=label, target=duration(clock.target),
                           expected=expected, due=due, link=link)
    else:
        body = format_lazy(gettext_lazy("{clock}: overdue by {overdue} of business time (due {due}). Expected: "
                                        "{expected} now. {link}"), clock=label,
                           overdue=duration(threshold - clock.target), expected=expected, due=due, link=link)
    return str(title), str(body)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_cached_notice_texts_are_the_lazy_formats_in_the_readers_language_and_zone(standard, queue, language):
    reader = UserFactory(username=f"reader-{language}", role="engineer", profile__language=language,
                         profile__time_zone="Europe/Moscow")
    [ticket] = due_tickets(1, policy=standard, queue=queue, performers=[reader], started=MONDAY_10)
    clock = SLAClock.objects.select_related("ticket", "calendar").get(ticket=ticket)
    ctx = sweep_module.SweepContext(now=MONDAY_10)
    [user] = ctx.load_users([reader.pk])
    for percent in (50, 80, 100, 150, 50):  # the last one from the cache
        level = EscalationLevel(name=f"Step {percent}", order=percent, trigger_percent=percent)
        threshold = clock.target * percent / 100
        texts = ctx.notice_texts(level, clock, threshold, user)
        with translation.override(language):
            assert texts == _lazy_texts(level.name, clock, threshold, ZoneInfo("Europe/Moscow"))
    assert ("осталось" in texts[1]) == (language == "ru")
    assert "16.03 10:00" in texts[1]  # due 12:00 in Almaty is 10:00 in Moscow


def test_the_batch_path_writes_each_notice_in_its_readers_language(urgent_ladder, standard, queue):
    russian = UserFactory(username="russian", role="engineer", profile__language="ru")
    english = UserFactory(username="english", role="engineer")
    due_tickets(2, policy=standard, queue=queue, performers=[russian, english], started=MONDAY_10)
    run(MONDAY_10 + timedelta(hours=1))
    [ru] = Notification.objects.filter(recipient=russian)
    [en] = Notification.objects.filter(recipient=english)
    assert ru.body == (f"Первый ответ: осталось 1 ч рабочего времени. Ожидается: ответить клиенту до 16.03 12:00. "
                       f"http://127.0.0.1:8000/tickets/{ru.ticket_id}/")
    assert en.body == (f"First response: 1 h of business time left. Expected: answer the customer by 16.03 12:00. "
                       f"http://127.0.0.1:8000/tickets/{en.ticket_id}/")
    assert ru.title.startswith("Half: #") and en.title.startswith("Half: #")


def test_a_short_batch_ends_the_sweep_without_another_claim(urgent_ladder, standard, queue, engineer):
    due_tickets(3, policy=standard, queue=queue, performers=[engineer], started=MONDAY_10)
    with CaptureQueriesContext(connection) as queries:
        result = run(MONDAY_10 + timedelta(hours=1), batch_size=5)
    assert (result["due"], result["fired"]) == (3, 3)
    claims = [q for q in queries.captured_queries if '"next_escalation_at" <=' in q["sql"] and "LIMIT" in q["sql"]]
    assert len(claims) == 1
    with CaptureQueriesContext(connection) as queries:
        assert run(MONDAY_10 + timedelta(hours=1, minutes=40), batch_size=3)["fired"] == 3  # a full batch: look again
    claims = [q for q in queries.captured_queries if '"next_escalation_at" <=' in q["sql"] and "LIMIT" in q["sql"]]
    assert len(claims) == 2
