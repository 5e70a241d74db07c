"""SLA reads for pages: prefetching clocks, what a clock looks like now, the calendar preview.

``clock_view`` is pure (no queries when the clock's calendar is loaded, as
``with_clocks`` does): lists call it for every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import router
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from core.formatting import format_dt, format_duration
from core.rowcache import Precompiled, set_prefetched
from sla import policies
from sla.models import Calendar, SLAClock, SLAClockEvent, SLAPolicy, TargetUnit
from tickets.models import OPEN_STATUSES, BlockingReason, Message, Status, display_name

ZERO = timedelta(0)
State = SLAClock.State
Kind = SLAClock.Kind

KIND_ORDER = {Kind.FIRST_RESPONSE: 0, Kind.RESOLUTION: 1, Kind.NEXT_REPLY: 2, Kind.DEADLINE: 3}
SHORT_LABELS = {
    Kind.FIRST_RESPONSE: gettext_lazy("FR"),
    Kind.RESOLUTION: gettext_lazy("RES"),
    Kind.NEXT_REPLY: gettext_lazy("NR"),
    Kind.DEADLINE: gettext_lazy("DL"),
}

# Share of the target consumed at which the colour changes (DOMAIN: escalation by share of SLA).
YELLOW_FROM = 50
ORANGE_FROM = 80


def target_text(policy: SLAPolicy, kind: str) -> str:
    """A policy's target as people say it: "2 h", "3 business days", "by the end of the next business day"."""
    target = policy.target_for(kind)
    if target is None:
        return "—"
    unit = policy.unit_for(kind)
    if unit == TargetUnit.BUSINESS_DAYS:
        return ngettext("%(n)d business day", "%(n)d business days", target.days) % {"n": target.days}
    if unit == TargetUnit.END_OF_DAY:
        if target.days == 0:
            return _("by the end of the business day")
        if target.days == 1:
            return _("by the end of the next business day")
        return _("by the end of the business day %(n)d business days later") % {"n": target.days}
    return format_duration(target)


def target_preview(policy: SLAPolicy, kind: str, now: datetime | None = None) -> str:
    """ "created now → due Tue 18:00" in the current time zone (the admin's preview of a target)."""
    due = policies.due_from(policy, kind, now or timezone.now())
    if due is None:
        return "—"
    return _("created now → due %(when)s") % {"when": date_format(timezone.localtime(due), "D j M, H:i")}


def under_sla_q() -> Exists:
    """The ticket has an SLA clock in force: first response, resolution or next reply, attached to a policy
    and not stopped (a paused clock is still in force). Open tickets without one are under no control."""
    return Exists(
        SLAClock.objects.filter(
            ticket_id=OuterRef("pk"),
            kind__in=SLAClock.SLA_KINDS,
            policy__isnull=False,
            state__in=[SLAClock.State.RUNNING, SLAClock.State.PAUSED],
        )
    )


def red_zone_q(now: datetime) -> Q:
    """Tickets in the red zone at ``now``: open, with a clock whose stored red-zone instant has come.

    The rule is ``sla.redzone.red_zone_from``, stored as ``SLAClock.red_at`` by ``sla.clocks``; here it
    is one comparison through the partial index ``sla_clock_red_at``, whatever the number of open tickets.
    """
    return Q(status__in=OPEN_STATUSES, pk__in=SLAClock.objects.filter(red_at__lte=now).values("ticket_id"))


def without_sla(queryset: QuerySet) -> QuerySet:
    """The open tickets of ``queryset`` with no SLA clock in force (the dashboard's "Without SLA")."""
    return queryset.filter(status__in=OPEN_STATUSES).exclude(under_sla_q())


def _clocks() -> QuerySet:
    """The clocks as the pages read them: with their calendars, policies and pause reasons, oldest first."""
    return SLAClock.objects.select_related("calendar", "policy", "pause_reason").order_by("started_at", "pk")


def with_clocks(queryset: QuerySet) -> QuerySet:
    """Tickets with their SLA clocks (and the clocks' calendars, policies, pause reasons) prefetched."""
    return queryset.prefetch_related(Prefetch("sla_clocks", queryset=_clocks()))


ATTACHED_AT_MOST = 10  # tickets whose clocks one compiled statement reads (the ticket page: 1, its other tickets: 10)


def attach_clocks(tickets: list) -> None:
    """What :func:`with_clocks` leaves on loaded tickets, read afterwards by a statement compiled once per process
    and number of tickets (one query; none without tickets). The ticket page reads its ticket's clocks and those of
    the customer's other tickets this way: compiling the prefetch cost more than running it."""
    tickets = [ticket for ticket in tickets if "sla_clocks" not in getattr(ticket, "_prefetched_objects_cache", {})]
    if not tickets:
        return
    by_ticket: dict[int, list[SLAClock]] = {ticket.pk: [] for ticket in tickets}  # one placeholder per ticket id
    if len(by_ticket) > ATTACHED_AT_MOST:
        prefetch_related_objects(tickets, Prefetch("sla_clocks", queryset=_clocks()))
        return
    statement = _ATTACHED.get(len(by_ticket))
    if statement is None:
        placeholders = [-7_100_800 - n for n in range(len(by_ticket))]  # no ticket has these ids
        statement = _ATTACHED[len(by_ticket)] = Precompiled(
            lambda *ids: _clocks().filter(ticket_id__in=ids).order_by("ticket_id", "started_at", "pk"), *placeholders
        )
    for clock in statement.objects(*by_ticket, using=router.db_for_read(SLAClock)):
        by_ticket[clock.ticket_id].append(clock)
    for ticket in tickets:
        set_prefetched(ticket, "sla_clocks", by_ticket[ticket.pk])


_ATTACHED: dict[int, Precompiled] = {}


@dataclass(frozen=True)
class ClockView:
    """One clock as the UI shows it at ``now``."""

    clock: SLAClock
    kind: str
    label: str
    short_label: str
    state: str
    state_label: str
    target: timedelta
    consumed: timedelta
    remaining: timedelta  # business time left (zero when over)
    overdue: timedelta  # business time past the target (zero when not over)
    due_at: datetime | None  # only while running
    percent: int  # share of the target consumed, not capped
    colour: str  # green | yellow | orange | red
    breached: bool
    pause_reason: str

    @property
    def running(self) -> bool:
        return self.state == State.RUNNING

    @property
    def paused(self) -> bool:
        return self.state == State.PAUSED

    @property
    def stopped(self) -> bool:
        return self.state == State.STOPPED

    @property
    def due_iso(self) -> str:
        """The due instant for the browser's countdown: UTC, seconds ("2026-12-06T15:30:52Z"); empty unless running.

        Paused and stopped clocks carry none, so they do not count down."""
        if self.due_at is None or self.state != State.RUNNING:
            return ""
        return self.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def meter(self) -> int:
        return min(self.percent, 100)

    @property
    def target_text(self) -> str:
        return format_duration(self.target)

    @property
    def consumed_text(self) -> str:
        return format_duration(self.consumed)

    @property
    def remaining_text(self) -> str:
        return format_duration(self.remaining)

    @property
    def overdue_text(self) -> str:
        return format_duration(self.overdue)

    @property
    def summary(self) -> str:
        """One line: "First response: 1 h 30 min left", "Resolution: 20 min overdue, paused (…)"."""
        if self.breached or self.overdue > ZERO:
            text = _("%(clock)s: %(time)s overdue") % {"clock": self.label, "time": self.overdue_text}
        elif self.stopped:
            text = _("%(clock)s: met") % {"clock": self.label}
        else:
            text = _("%(clock)s: %(time)s left") % {"clock": self.label, "time": self.remaining_text}
        if self.paused:
            paused = _("paused: %(reason)s") % {"reason": self.pause_reason} if self.pause_reason else _("paused")
            text += " · " + paused
        elif self.stopped:
            text += " · " + _("stopped")
        return text


def live_consumed(clock: SLAClock, now: datetime) -> timedelta:
    """Business time consumed at ``now``: the stored checkpoint plus the running segment."""
    if clock.state != State.RUNNING or now <= clock.state_changed_at:
        return clock.consumed
    return clock.consumed + clock.calendar.work_calendar().between(clock.state_changed_at, now)


_LABELS: dict[tuple[str | None, str, str], tuple[str, str, str]] = {}


def _labels(kind: str, state: str) -> tuple[str, str, str]:
    """(label, short label, state label) of a clock in the active language, translated once per process."""
    key = (get_language(), kind, state)
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = (str(Kind(kind).label), str(SHORT_LABELS[kind]), str(State(state).label))
    return labels


def clock_view(clock: SLAClock, now: datetime) -> ClockView:
    """Remaining or overdue business time, due instant, share consumed and colour of ``clock`` at ``now``.

    Colour: green under 50 % consumed, yellow from 50 %, orange from 80 %, red when breached
    (``breached_at`` written, or more than the target consumed).
    """
    consumed = live_consumed(clock, now)
    target = clock.target
    percent = int(consumed * 100 // target) if target > ZERO else 100
    breached = clock.breached_at is not None or consumed > target
    if breached:
        colour = "red"
    elif percent >= ORANGE_FROM:
        colour = "orange"
    elif percent >= YELLOW_FROM:
        colour = "yellow"
    else:
        colour = "green"
    label, short_label, state_label = _labels(clock.kind, clock.state)
    return ClockView(
        clock=clock,
        kind=clock.kind,
        label=label,
        short_label=short_label,
        state=clock.state,
        state_label=state_label,
        target=target,
        consumed=consumed,
        remaining=max(target - consumed, ZERO),
        overdue=max(consumed - target, ZERO),
        due_at=clock.due_at if clock.state == State.RUNNING else None,
        percent=percent,
        colour=colour,
        breached=breached,
        pause_reason=str(clock.pause_reason) if clock.state == State.PAUSED and clock.pause_reason else "",
    )


def current_clocks(clocks) -> list[SLAClock]:
    """The clocks a ticket shows: first response, resolution, the latest next reply and the deadline clock.

    Clocks of a ticket that matches no policy any more (``policy`` empty) are not shown.
    """
    shown: dict[str, SLAClock] = {}
    for clock in clocks:
        if clock.policy_id is None:
            continue
        if clock.kind == Kind.NEXT_REPLY:
            previous = shown.get(Kind.NEXT_REPLY)
            if previous is not None and (previous.started_at, previous.pk) > (clock.started_at, clock.pk):
                continue
        shown[clock.kind] = clock
    return sorted(shown.values(), key=lambda c: KIND_ORDER[c.kind])


def ticket_clock_views(ticket, now: datetime | None = None) -> list[ClockView]:
    """Views of the ticket's current clocks from ``ticket.sla_clocks.all()`` (prefetch with ``with_clocks``)."""
    now = now or timezone.now()
    return [clock_view(c, now) for c in current_clocks(ticket.sla_clocks.all())]


# --- the SLA panel of the ticket page --------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    event: SLAClockEvent
    clock_label: str
    label: str
    details: str
    actor: str
    consumed_text: str
    target_text: str


_CAUSES = {
    "reply": gettext_lazy("public reply"),
    "done": gettext_lazy("ticket done"),
    "canceled": gettext_lazy("ticket canceled"),
    "restored": gettext_lazy("ticket restored"),
    "customer_message": gettext_lazy("customer message"),
    "reason_changed": gettext_lazy("blocking reason changed"),
    "returned_to_queue": gettext_lazy("returned to the queue"),
    "policy_matched": gettext_lazy("policy matched"),
    "no_policy": gettext_lazy("no policy matches any more"),
    "no_target": gettext_lazy("the new policy has no such target"),
    "backfill": gettext_lazy("created from the ticket's timestamps"),
    "observed": gettext_lazy("observed past due"),
    "sla_default": gettext_lazy("deadline set to the resolution due"),
    "deferral": gettext_lazy("deadline deferral decided"),
    "override": gettext_lazy("deadline overridden by an administrator"),
    "deadline_cleared": gettext_lazy("deadline cleared"),
    "sla": gettext_lazy("deadline follows the resolution due"),
}
_MODES = {
    "retroactive": gettext_lazy("retroactive from creation"),
    "carry_over": gettext_lazy("consumed time carried over"),
    "detach": gettext_lazy("no SLA any more"),
}
_VERDICTS = {"objective": gettext_lazy("objective"), "subjective": gettext_lazy("subjective")}


def _deadline_text(value) -> str:
    return format_dt(datetime.fromisoformat(value)) if value else "—"


def _event_details(event: SLAClockEvent, names: dict) -> str:
    data = event.data or {}
    parts = []
    if event.kind == SLAClockEvent.Kind.PAUSE:
        reason = names["reasons"].get(data.get("reason_id")) or data.get("reason") or ""
        if reason:
            parts.append(str(reason))
    elif event.kind == SLAClockEvent.Kind.RETARGET and data.get("mode") == "deadline":
        if data.get("from_deadline") != data.get("deadline"):
            parts.append(
                _("deadline %(old)s → %(new)s")
                % {"old": _deadline_text(data.get("from_deadline")), "new": _deadline_text(data.get("deadline"))}
            )
        if data.get("verdict") in _VERDICTS:
            parts.append(str(_VERDICTS[data["verdict"]]))
        if data.get("from_policy") != data.get("policy"):
            parts.append(
                f"{names['policies'].get(data.get('from_policy'), '—')} → "
                f"{names['policies'].get(data.get('policy'), '—')}"
            )
    elif event.kind == SLAClockEvent.Kind.RETARGET:
        old = names["policies"].get(data.get("from_policy"), "—")
        new = names["policies"].get(data.get("policy"), _("no SLA"))
        parts.append(f"{old} → {new}")
        parts.append(str(_MODES.get(data.get("mode"), data.get("mode", ""))))
    elif event.kind == SLAClockEvent.Kind.COMPLIANCE:
        parts.append(_("counts for compliance") if data.get("counts") else _("excluded from compliance"))
    elif event.kind == SLAClockEvent.Kind.START and data.get("policy"):
        parts.append(str(names["policies"].get(data["policy"], "")))
        if data.get("deadline"):
            parts.append(_("deadline %(deadline)s") % {"deadline": _deadline_text(data["deadline"])})
    cause = data.get("cause")
    if cause in _CAUSES:
        parts.append(str(_CAUSES[cause]))
    elif cause in Status.values and event.kind != SLAClockEvent.Kind.PAUSE:
        parts.append(_("status “%(status)s”") % {"status": Status(cause).label})
    return " · ".join(p for p in parts if p)


_TICKET_CLOCK_EVENTS = Precompiled(
    lambda ticket_id: (
        SLAClockEvent.objects.filter(clock__ticket_id=ticket_id)
        .select_related("clock", "actor__profile")
        .order_by("id")
    ),
    -7_100_703,  # stands for the ticket while the SQL is compiled: no ticket has it
)


def ticket_sla_history(ticket) -> list[EventView]:
    """Every clock event of the ticket (the segment history), oldest first."""
    events = _TICKET_CLOCK_EVENTS.objects(ticket.pk, using=router.db_for_read(SLAClockEvent))
    policy_ids = {e.data.get(k) for e in events for k in ("policy", "from_policy") if e.data.get(k)}
    reason_ids = {e.data.get("reason_id") for e in events if e.data.get("reason_id")}
    names = {
        "policies": {p.pk: p.label for p in SLAPolicy.objects.filter(pk__in=policy_ids)},
        "reasons": {r.pk: r.label for r in BlockingReason.objects.filter(pk__in=reason_ids)},
    }
    return [
        EventView(
            event=e,
            clock_label=str(Kind(e.clock.kind).label),
            label=str(SLAClockEvent.Kind(e.kind).label),
            details=_event_details(e, names),
            actor=display_name(e.actor) if e.actor_id else "",
            consumed_text=format_duration(e.consumed),
            target_text=format_duration(e.target),
        )
        for e in events
    ]


# --- admin: the preview of a calendar -------------------------------------------------------------


@dataclass(frozen=True)
class PreviewDay:
    day: date
    windows: list[tuple[str, str]]  # local HH:MM pairs ("24:00" for the end of the day)
    total: timedelta
    note: str  # holiday name or override note

    @property
    def total_text(self) -> str:
        return format_duration(self.total) if self.total else ""


def calendar_preview(calendar: Calendar, *, start: datetime | None = None, days: int = 14) -> list[PreviewDay]:
    """The working windows of the next ``days`` local dates in the calendar's own time zone."""
    work = calendar.work_calendar()
    tz = work.tz
    first = timezone.localtime(start or timezone.now(), tz).date()
    notes = {h.date: h.label or _("Holiday") for h in calendar.holidays.filter(date__gte=first)[:400]}
    notes.update(
        {
            o.date: o.note or (_("Changed hours") if o.windows else _("Day off"))
            for o in calendar.overrides.filter(date__gte=first)[:400]
        }
    )
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        begin = datetime(day.year, day.month, day.day, tzinfo=tz)
        following = day + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=tz)
        windows = []
        total = ZERO
        for s, e in work.windows(begin, end):
            total += e - s
            local_s, local_e = s.astimezone(tz), e.astimezone(tz)
            windows.append((local_s.strftime("%H:%M"), "24:00" if local_e.date() > day else local_e.strftime("%H:%M")))
        result.append(PreviewDay(day=day, windows=windows, total=total, note=str(notes.get(day, ""))))
    return result


def first_reply_sending_delay(ticket) -> timedelta | None:
    """How long the first response took from the click to the sending instant (``None`` before it left).

    The first-response clock stops when the reply is delivered (docs/channels.md): this is the part of
    the consumed time that the outbox, not the agent, spent (a mail server that was down, retries). A ticket
    whose messages were prefetched (the ticket page) answers from them.
    """
    if ticket.first_public_reply_at is None:
        return None
    loaded = (getattr(ticket, "_prefetched_objects_cache", None) or {}).get("messages")
    if loaded is not None:  # the ticket page's conversation: no query of its own
        written = min(
            (
                message.created_at
                for message in loaded
                if message.kind == Message.Kind.PUBLIC_REPLY and message.sent_at == ticket.first_public_reply_at
            ),
            default=None,
        )
    else:
        written = (
            Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY, sent_at=ticket.first_public_reply_at)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
    return ticket.first_public_reply_at - written if written is not None else None
