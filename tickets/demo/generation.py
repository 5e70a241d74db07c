"""The demo ticket generator and its bulk writing (``seed_tickets``).

Ticket ``i`` of seed ``S`` comes from its own random stream; its story (``story.Story``) is
planned step by step (``_Plan``), then chunks of stories are inserted with ``core.bulk``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection

from core.bulk import RowWriter as _RowWriter
from core.bulk import reserve_ids as _reserve_ids
from tickets import workload
from tickets.demo.catalogue import TYPE_SPECS
from tickets.demo.context import HISTORY_DAYS, TZ, DemoContext
from tickets.demo.story import Story, TicketRow
from tickets.demo.texts import (
    ACKS,
    APPROVAL_NOTES,
    APPROVED,
    ASKS,
    CANCEL_COMMENTS,
    CANCEL_REPLIES,
    CUSTOMER_ANSWERS,
    CUSTOMER_CANCELS,
    CUSTOMER_FOLLOWUPS,
    DISPATCH_ACKS,
    EN,
    FOLLOWUP_REPLIES,
    MONTHS,
    NEXT_STEPS,
    PRODUCTS,
    REASON_NOTES,
    RESUMES,
    RU,
    SCENARIOS,
    WORK_NOTES,
)
from tickets.models import Channel, Language, Message, Priority, RelatedObject, Status, Ticket, TicketEvent

CHUNK = 5000  # tickets built in memory before each round of bulk inserts


_CHANNELS = [Channel.EMAIL, Channel.MESSENGER, Channel.WEB, Channel.PHONE, Channel.PORTAL]
_CHANNEL_WEIGHTS = [35, 25, 15, 15, 10]
_FORCED = [Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ON_APPROVAL, Status.DONE,
           Status.CANCELED]
_STATUS_WEIGHTS = {  # by the ticket's age: recent tickets are mostly open, old ones mostly closed
    "recent": [18, 16, 28, 12, 6, 16, 4],
    "week": [4, 6, 18, 14, 7, 45, 6],
    "old": [1, 1, 4, 4, 2, 80, 8],
}


def _snap_to_work(at: datetime, rng: random.Random) -> datetime:
    """Move a staff action that falls at night or on a weekend to the next working morning (Almaty)."""
    local = at.astimezone(TZ)
    if local.weekday() < 5 and 9 <= local.hour < 19:
        return at
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 9, tzinfo=TZ) + timedelta(minutes=rng.randrange(5, 50))
    return morning.astimezone(at.tzinfo)


class _Plan:
    """A list of steps with delays; times are fixed first (and squeezed before *now*), then applied in order."""

    def __init__(self, start: datetime, rng: random.Random):
        self.start = start
        self.rng = rng
        self.steps: list[tuple[float, bool, Callable[[datetime], None]]] = []

    def add(self, minutes: float, staff: bool, action: Callable[[datetime], None]) -> None:
        self.steps.append((max(int(minutes * 60), 60), staff, action))

    def _times(self, snap: bool) -> list[datetime]:
        times, at = [], self.start
        for seconds, staff, _action in self.steps:
            at = at + timedelta(seconds=seconds)
            if staff and snap:
                at = _snap_to_work(at, self.rng)
            times.append(at)
        return times

    def run(self, limit: datetime) -> None:
        times = self._times(snap=True)
        if times and times[-1] > limit:  # a recent ticket: staff worked off hours rather than in the future
            times = self._times(snap=False)
        if times and times[-1] > limit:
            room, span = (limit - self.start).total_seconds(), (times[-1] - self.start).total_seconds()
            times = [self.start + timedelta(seconds=int((t - self.start).total_seconds() * room / span)) for t in times]
        for at, (_s, _staff, action) in zip(times, self.steps, strict=True):
            action(at)


def _texts(pairs, lang: int, rng: random.Random, **values) -> str:
    return rng.choice(pairs)[lang].format(**values)


def _build_ticket(ctx: DemoContext, refs: dict, seed: int, index: int) -> Story:
    rng = random.Random(f"opsdesk-demo:{seed}:{index}")
    now = ctx.now
    users = ctx.users
    dispatcher = users["dispatcher"]

    # When, and therefore (mostly) how far the ticket got.
    if index < len(_FORCED):
        age = timedelta(hours=rng.uniform(6, 72))
        status = _FORCED[index]
    else:
        age = timedelta(days=rng.uniform(0, HISTORY_DAYS))
        bucket = "recent" if age < timedelta(days=2) else "week" if age < timedelta(days=10) else "old"
        status = rng.choices(_FORCED, weights=_STATUS_WEIGHTS[bucket])[0]
    created = now - age
    if rng.random() < 0.75:  # most requests arrive in office hours
        local = created.astimezone(TZ)
        created = local.replace(hour=rng.randrange(9, 19), minute=rng.randrange(60)).astimezone(created.tzinfo)
        if created > now - timedelta(minutes=30):
            created -= timedelta(days=1)
    created = min(created, now - timedelta(minutes=10)).replace(second=rng.randrange(60), microsecond=0)

    scenario = rng.choice(SCENARIOS)
    customer = rng.choice(ctx.customers)
    lang = EN if customer.language == Language.EN else RU
    queue = ctx.queues[scenario.queue] if rng.random() < 0.92 else rng.choice(list(ctx.queues.values()))
    ticket_type = ctx.ticket_types[scenario.ticket_type]
    type_spec = TYPE_SPECS[scenario.ticket_type]
    agents = ctx.agents[queue.slug]
    performer = rng.choice(agents)
    objects = ctx.related.get(customer.pk, {})
    orders = objects.get(RelatedObject.Kind.ORDER) or [None]
    order = rng.choice(orders)
    contract = (objects.get(RelatedObject.Kind.CONTRACT) or [None])[0]
    deal = (objects.get(RelatedObject.Kind.DEAL) or [order])[0]
    related = {"order": order, "contract": contract, "deal": deal}.get(scenario.object_kind or "")
    product = rng.choice(PRODUCTS)[lang]
    month = MONTHS[(created.astimezone(TZ).month - 2) % 12][lang]
    values = {
        "order": order.external_ref if order else "—",
        "contract": contract.external_ref if contract else "—",
        "product": product,
        "product_cap": product[:1].upper() + product[1:],
        "qty": rng.choice([20, 50, 100, 200]),
        "amount": f"{rng.randrange(45, 2500) * 1000:,}".replace(",", " "),
        "month": month,
        "phone": customer.phone,
        "customer": customer.name,
    }

    # Priority, deadline (wall-clock approximation of the business-time targets).
    if type_spec.slug == "critical-incident":
        priority = Priority.CRITICAL if rng.random() < 0.6 else Priority.HIGH
    elif type_spec.slug == "simple-question":
        priority = Priority.LOW if rng.random() < 0.3 else Priority.NORMAL
    else:
        priority = rng.choices([Priority.LOW, Priority.NORMAL, Priority.HIGH], weights=[10, 70, 20])[0]
    resolution_hours = type_spec.resolution_hours
    if customer.vip_tier_id:
        priority = min(priority + 1, Priority.CRITICAL)
        resolution_hours = min(resolution_hours, 4)
    wall = 1 if type_spec.around_the_clock else 3
    target = timedelta(hours=resolution_hours * wall)
    deadline = created + target if (status != Status.NEW or rng.random() < 0.8) else None
    frt = type_spec.first_response_minutes * (1 if type_spec.around_the_clock else 2) * rng.uniform(0.3, 1.6)
    pace = target.total_seconds() / 60 * rng.uniform(0.2, 1.15)

    channel = rng.choices(_CHANNELS, weights=_CHANNEL_WEIGHTS)[0]
    created_by = dispatcher if channel in (Channel.PHONE, Channel.PORTAL) else None
    intake = {Channel.EMAIL: ctx.intake_channels.get("Email bridge"),
              Channel.MESSENGER: ctx.intake_channels.get("Telegram bot")}.get(channel)
    ticket = TicketRow(
        title=scenario.title[lang].format(**values)[:200],
        description=scenario.body[lang].format(**values),
        customer=customer,
        related_object=related,
        queue=queue,
        ticket_type=ticket_type,
        channel=channel,
        priority=priority,
        status=Status.NEW,
        deadline=deadline,
        created_by=created_by,
        created_at=created,
        status_changed_at=created,
    )
    story = Story(ticket, refs)
    story.create(demo_seed=seed, demo_index=index, intake=intake)
    if rng.random() < 0.15:
        story.observers.append(queue.manager or users["manager"])

    plan = _Plan(created, rng)
    manager = users["manager"]

    def staff_lang(user) -> int:
        return EN if getattr(user.profile, "language", "ru") == Language.EN else RU

    def say(pairs) -> str:
        return _texts(pairs, lang, rng, **values)

    def note(pairs, user) -> str:
        return _texts(pairs, staff_lang(user), rng, **values)

    def start_work() -> None:
        plan.add(frt * rng.uniform(0.1, 0.5), True, lambda at: story.assign(at, performer=performer, actor=dispatcher))
        plan.add(frt * rng.uniform(0.2, 1.0), True,
                 lambda at: story.reply(at, body=say(ACKS), actor=story.ticket.performer))
        if rng.random() < 0.4:
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.add_note(at, body=note(WORK_NOTES, story.ticket.performer),
                                               actor=story.ticket.performer))
        if rng.random() < 0.3:
            plan.add(pace * rng.uniform(0.05, 0.2), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_FOLLOWUPS), intake=intake))
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.reply(at, body=say(FOLLOWUP_REPLIES), actor=story.ticket.performer))
        if len(agents) > 1 and rng.random() < 0.08:
            other = rng.choice([a for a in agents if a.pk != performer.pk])
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.assign(at, performer=other, actor=users["lead"]))

    def wait_for(reason_code: str) -> None:
        reason = ctx.reasons[reason_code]
        if reason_code in ASKS:
            plan.add(pace * rng.uniform(0.03, 0.15), True,
                     lambda at: story.reply(at, body=say(ASKS[reason_code]), actor=story.ticket.performer))
        else:
            plan.add(pace * rng.uniform(0.03, 0.15), True,
                     lambda at: story.add_note(at, body=note(REASON_NOTES[reason_code], story.ticket.performer),
                                               actor=story.ticket.performer))
        plan.add(rng.uniform(1, 5), True,
                 lambda at: story.change_status(at, status=Status.WAITING, actor=story.ticket.performer,
                                                reason=reason))

    def wait_and_resume(reason_code: str) -> None:
        wait_for(reason_code)
        reason = ctx.reasons[reason_code]
        if reason.waits_for_customer:
            plan.add(pace * rng.uniform(0.1, 0.5), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_ANSWERS), intake=intake))
        else:
            plan.add(pace * rng.uniform(0.1, 0.5), True,
                     lambda at: story.change_status(at, status=Status.IN_PROGRESS, actor=story.ticket.performer,
                                                    comment=note([RESUMES.get(reason_code, RESUMES["no-stock"])],
                                                                 story.ticket.performer)))

    def ask_approval():
        approver = ctx.managers.get(performer.pk, manager)
        plan.add(pace * rng.uniform(0.05, 0.2), True,
                 lambda at: story.add_note(at, body=note(APPROVAL_NOTES, story.ticket.performer),
                                           actor=story.ticket.performer))
        plan.add(rng.uniform(1, 3), True,
                 lambda at: story.set_approver(at, approver=approver, actor=story.ticket.performer))
        plan.add(rng.uniform(1, 3), True,
                 lambda at: story.change_status(at, status=Status.ON_APPROVAL, actor=story.ticket.performer))
        return approver

    def next_step(probability: float) -> None:
        if rng.random() < probability:
            text = note(NEXT_STEPS, performer)
            due = timedelta(minutes=rng.randrange(4 * 60, 72 * 60, 30))
            plan.add(rng.uniform(2, 30), True,
                     lambda at: story.set_next_step(at, text=text, due=at + due,
                                                    actor=story.ticket.performer))

    if status == Status.NEW:
        if rng.random() < 0.25:
            plan.add(frt * rng.uniform(0.2, 1.0), True,
                     lambda at: story.reply(at, body=say(DISPATCH_ACKS), actor=dispatcher))
    elif status == Status.ASSIGNED:
        plan.add(frt * rng.uniform(0.1, 0.6), True, lambda at: story.assign(at, performer=performer, actor=dispatcher))
        if rng.random() < 0.3:
            plan.add(rng.uniform(1, 10), True, lambda at: story.reply(at, body=say(DISPATCH_ACKS), actor=dispatcher))
        next_step(0.3)
    elif status == Status.IN_PROGRESS:
        start_work()
        if rng.random() < 0.2:
            wait_and_resume(rng.choice(scenario.reasons))
        next_step(0.65)
    elif status == Status.WAITING:
        start_work()
        wait_for(rng.choice(scenario.reasons))
        next_step(0.5)
    elif status == Status.ON_APPROVAL:
        start_work()
        ask_approval()
        next_step(0.4)
    elif status == Status.DONE:
        start_work()
        if rng.random() < 0.25:
            wait_and_resume(rng.choice(scenario.reasons))
        if rng.random() < 0.15:
            approver = ask_approval()
            plan.add(pace * rng.uniform(0.05, 0.3), True,
                     lambda at: story.change_status(at, status=Status.IN_PROGRESS, actor=approver,
                                                    comment=note(APPROVED, approver)))
        plan.add(pace * rng.uniform(0.1, 0.4), True,
                 lambda at: story.reply(at, body=say([scenario.resolution]), actor=story.ticket.performer))
        plan.add(rng.uniform(1, 15), True,
                 lambda at: story.change_status(at, status=Status.DONE, actor=story.ticket.performer))
    elif status == Status.CANCELED:
        if rng.random() < 0.45:
            if rng.random() < 0.5:
                plan.add(rng.uniform(10, 240), False,
                         lambda at: story.receive_customer_message(at, body=say(CUSTOMER_CANCELS), intake=intake))
            plan.add(frt * rng.uniform(0.2, 1.0), True,
                     lambda at: story.change_status(at, status=Status.CANCELED, actor=dispatcher,
                                                    comment=note(CANCEL_COMMENTS, dispatcher)))
        else:
            start_work()
            plan.add(pace * rng.uniform(0.1, 0.4), False,
                     lambda at: story.receive_customer_message(at, body=say(CUSTOMER_CANCELS), intake=intake))
            plan.add(pace * rng.uniform(0.02, 0.1), True,
                     lambda at: story.reply(at, body=say(CANCEL_REPLIES), actor=story.ticket.performer))
            plan.add(rng.uniform(1, 10), True,
                     lambda at: story.change_status(at, status=Status.CANCELED, actor=story.ticket.performer,
                                                    comment=note(CANCEL_COMMENTS[1:2], story.ticket.performer)))

    plan.run(limit=now - timedelta(minutes=1))
    ticket.updated_at = story.last
    return story


def existing_demo_indices(seed: int) -> set[int]:
    """Indices of the demo tickets of ``seed`` already in the database (from their creation events)."""
    rows = TicketEvent.objects.filter(kind="ticket.created", data__demo_seed=seed).values_list(
        "data__demo_index", flat=True
    )
    return {int(i) for i in rows if i is not None}


def seed_tickets(ctx: DemoContext, *, count: int, seed: int) -> tuple[int, int]:
    """Create the missing demo tickets ``0 .. count-1`` of ``seed``; returns (created, already present)."""
    present = existing_demo_indices(seed)
    missing = [i for i in range(count) if i not in present]
    refs = {u.pk: {"id": u.pk, "name": u.profile.display_name or u.get_username()} for u in ctx.users.values()}
    writers = {model: _RowWriter(model) for model in (Ticket, Message, TicketEvent, Ticket.observers.through)}
    with _bulk_session():
        for start in range(0, len(missing), CHUNK):
            stories = [_build_ticket(ctx, refs, seed, i) for i in missing[start : start + CHUNK]]
            _write(stories, writers)
    workload.recount(log=False)  # the stories wrote their tickets directly: the open-ticket counts follow them
    return len(missing), len([i for i in present if i < count])


def _write(stories: list[Story], writers: dict) -> None:
    """Insert a chunk of stories: tickets, messages, events (pointing at their messages), observers."""
    for story, pk in zip(stories, _reserve_ids(Ticket, len(stories)), strict=True):
        story.ticket.pk = pk
    writers[Ticket].insert([s.ticket.values() for s in stories])
    messages = []
    for story in stories:
        for message in story.messages:
            message["ticket_id"] = story.ticket.pk
        messages.extend(story.messages)
    for message, pk in zip(messages, _reserve_ids(Message, len(messages)), strict=True):
        message["id"] = pk
    writers[Message].insert(messages)
    events = []
    for story in stories:
        for data, message in story.links:
            data["message"] = message["id"]
        for event in story.events:
            event["ticket_id"] = story.ticket.pk
        events.extend(story.events)
    writers[TicketEvent].insert(events)
    writers[Ticket.observers.through].insert(
        [{"ticket_id": s.ticket.pk, "user_id": u.pk} for s in stories for u in s.observers]
    )


@contextmanager
def _bulk_session():
    """A bigger page cache on SQLite while the seed writes (index pages stay in memory)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
