"""Template helpers of the portal: dates in the viewer's zone, people, status pills, history sentences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from routing.assignment import history_sentences as routing_history_sentences
from tickets.models import BlockingReason, Channel, Priority, Queue, Status, TicketType, display_name

register = template.Library()


# --- Values ------------------------------------------------------------------------


def format_dt(value: datetime | None) -> str:
    """A short date and time in the active (viewer's) time zone: "22 Nov, 15:30" or "3 Jan 2024, 09:00"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    fmt = "j M, H:i" if local.year == timezone.localtime().year else "j M Y, H:i"
    return formats.date_format(local, fmt)


@register.filter
def dt(value) -> str:
    return format_dt(value)


@register.filter
def iso(value) -> str:
    return value.isoformat() if value else ""


@register.filter
def css_name(value) -> str:
    """``ticket.status_changed`` → ``ticket-status-changed``, for a CSS class."""
    return "".join(ch if ch.isalnum() else "-" for ch in str(value)).lower()


@register.filter
def person(user) -> str:
    return display_name(user)


@register.filter
def initials(user) -> str:
    name = display_name(user).strip()
    parts = [p for p in name.replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def status_pill(status: str) -> str:
    try:
        label = Status(status).label
    except ValueError:
        label = status
    return format_html('<span class="pill pill-{}">{}</span>', status, label)


def priority_mark(priority: int) -> str:
    try:
        label = Priority(priority).label
    except ValueError:
        label = str(priority)
    return format_html('<span class="prio prio-{}">{}</span>', priority, label)


register.simple_tag(status_pill, name="status_pill")
register.simple_tag(priority_mark, name="priority_mark")


# --- History -----------------------------------------------------------------------


class _Lookups:
    """Catalogue names for codes stored in history rows, loaded once per page."""

    def __init__(self) -> None:
        self._queues: dict[str, str] | None = None
        self._types: dict[str, str] | None = None
        self._reasons: dict[str, str] | None = None

    def queue(self, slug) -> str:
        if self._queues is None:
            self._queues = {q.slug: q.label for q in Queue.objects.all()}
        return self._queues.get(slug, str(slug or "—"))

    def ticket_type(self, slug) -> str:
        if self._types is None:
            self._types = {t.slug: t.label for t in TicketType.objects.all()}
        return self._types.get(slug, str(slug or "—"))

    def reason(self, code) -> str:
        if self._reasons is None:
            self._reasons = {r.code: r.label for r in BlockingReason.objects.all()}
        return self._reasons.get(code, str(code or "—"))


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _ref_name(ref) -> str:
    return (ref or {}).get("name") or _("nobody")


def _when(value) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return format_dt(parsed) if parsed else ""


def _created(e, who, lk, ticket) -> str:
    return _("%(who)s created the ticket in %(queue)s (channel: %(channel)s).") % {
        "who": who,
        "queue": lk.queue(e.data.get("queue")),
        "channel": _label(Channel, e.data.get("channel")),
    }


def _assigned(e, who, lk, ticket) -> str:
    if e.data.get("previous"):
        return _("%(who)s reassigned the ticket from %(previous)s to %(performer)s.") % {
            "who": who,
            "previous": _ref_name(e.data.get("previous")),
            "performer": _ref_name(e.data.get("performer")),
        }
    return _("%(who)s assigned the ticket to %(performer)s.") % {
        "who": who,
        "performer": _ref_name(e.data.get("performer")),
    }


def _unassigned(e, who, lk, ticket) -> str:
    return _("%(who)s returned the ticket to the queue (it was with %(previous)s).") % {
        "who": who,
        "previous": _ref_name(e.data.get("previous")),
    }


def _person_changed(role: str) -> Callable:
    def render(e, who, lk, ticket) -> str:
        to = e.data.get("to")
        if role == "owner":
            if to:
                return _("%(who)s made %(person)s the owner of the result.") % {"who": who, "person": _ref_name(to)}
            return _("%(who)s removed the owner of the result.") % {"who": who}
        if to:
            return _("%(who)s made %(person)s the approver.") % {"who": who, "person": _ref_name(to)}
        return _("%(who)s removed the approver.") % {"who": who}

    return render


def _observers(e, who, lk, ticket) -> str:
    return _("%(who)s changed the observers (%(added)d added, %(removed)d removed).") % {
        "who": who,
        "added": len(e.data.get("added") or ()),
        "removed": len(e.data.get("removed") or ()),
    }


def _status(e, who, lk, ticket) -> str:
    old, new = _label(Status, e.data.get("from")), _label(Status, e.data.get("to"))
    cause = e.data.get("cause")
    if cause == "customer_message":
        return _("The customer's message moved the ticket from “%(old)s” to “%(new)s”.") % {"old": old, "new": new}
    if cause == "reply":
        return _("%(who)s's reply moved the ticket from “%(old)s” to “%(new)s”.") % {
            "who": who,
            "old": old,
            "new": new,
        }
    if e.data.get("reason"):
        return _("%(who)s changed the status from “%(old)s” to “%(new)s”: %(reason)s.") % {
            "who": who,
            "old": old,
            "new": new,
            "reason": lk.reason(e.data.get("reason")),
        }
    return _("%(who)s changed the status from “%(old)s” to “%(new)s”.") % {"who": who, "old": old, "new": new}


def _reason_changed(e, who, lk, ticket) -> str:
    return _("%(who)s changed the blocking reason from “%(old)s” to “%(new)s”.") % {
        "who": who,
        "old": lk.reason(e.data.get("previous")),
        "new": lk.reason(e.data.get("reason")),
    }


def _replied(e, who, lk, ticket) -> str:
    if e.data.get("first"):
        return _("%(who)s replied to the customer (first response).") % {"who": who}
    return _("%(who)s replied to the customer.") % {"who": who}


def _noted(e, who, lk, ticket) -> str:
    return _("%(who)s added an internal note.") % {"who": who}


def _customer_wrote(e, who, lk, ticket) -> str:
    return _("%(customer)s wrote (%(channel)s).") % {
        "customer": ticket.customer.name if ticket is not None else _("The customer"),
        "channel": _label(Channel, e.data.get("channel")),
    }


def _next_step(e, who, lk, ticket) -> str:
    text = e.data.get("text")
    if not text:
        return _("%(who)s cleared the next step.") % {"who": who}
    if e.data.get("due"):
        return _("%(who)s set the next step “%(text)s” due %(due)s.") % {
            "who": who,
            "text": text,
            "due": _when(e.data.get("due")),
        }
    return _("%(who)s set the next step “%(text)s”.") % {"who": who, "text": text}


_FIELD_LABELS = {
    "title": lambda: _("title"),
    "priority": lambda: _("priority"),
    "queue": lambda: _("queue"),
    "ticket_type": lambda: _("type"),
    "related_object": lambda: _("related object"),
}


def _updated(e, who, lk, ticket) -> str:
    parts = []
    # jsonb (PostgreSQL) does not keep key order: list the fields in a fixed order.
    rank = {name: i for i, name in enumerate(_FIELD_LABELS)}
    changes = sorted((e.data.get("changes") or {}).items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
    for field, change in changes:
        old, new = change.get("from"), change.get("to")
        if field == "priority":
            old, new = _label(Priority, old), _label(Priority, new)
        elif field == "queue":
            old, new = lk.queue(old), lk.queue(new)
        elif field == "ticket_type":
            old, new = lk.ticket_type(old), lk.ticket_type(new)
        label = _FIELD_LABELS.get(field, lambda f=field: f)()
        old = "—" if old in (None, "") else old
        new = "—" if new in (None, "") else new
        parts.append(_("%(field)s from “%(old)s” to “%(new)s”") % {"field": label, "old": old, "new": new})
    return _("%(who)s changed the %(changes)s.") % {"who": who, "changes": pgettext("list separator", "; ").join(parts)}


def _deadline_overridden(e, who, lk, ticket) -> str:
    return _("%(who)s moved the deadline from %(old)s to %(new)s: %(reason)s.") % {
        "who": who,
        "old": _when(e.data.get("previous")) or "—",
        "new": _when(e.data.get("to")) or "—",
        "reason": e.data.get("reason", ""),
    }


def _deferral_requested(e, who, lk, ticket) -> str:
    approver = _ref_name(e.data.get("approver"))
    if e.data.get("automatic"):
        return _("The deadline %(deadline)s passed: a deferral request was opened automatically for %(approver)s.") % {
            "deadline": _when(e.data.get("deadline")) or "—",
            "approver": approver,
        }
    return _("%(who)s asked %(approver)s to move the deadline from %(old)s to %(new)s: %(explanation)s") % {
        "who": who,
        "approver": approver,
        "old": _when(e.data.get("deadline")) or "—",
        "new": _when(e.data.get("proposed")) or "—",
        "explanation": e.data.get("explanation", ""),
    }


def _deferral_cause_given(e, who, lk, ticket) -> str:
    return _("%(who)s explained the missed deadline and proposed %(new)s: %(explanation)s") % {
        "who": who,
        "new": _when(e.data.get("proposed")) or "—",
        "explanation": e.data.get("explanation", ""),
    }


def _with_comment(text: str, e) -> str:
    comment = (e.data or {}).get("comment")
    return f"{text} “{comment}”" if comment else text


def _deadline_deferred(e, who, lk, ticket) -> str:
    verdict = {"objective": _("objective"), "subjective": _("subjective")}.get(e.data.get("verdict"), "—")
    return _with_comment(_(
        "%(who)s moved the deadline from %(old)s to %(new)s at the request of %(requester)s; verdict: %(verdict)s."
    ) % {
        "who": who,
        "old": _when(e.data.get("previous")) or "—",
        "new": _when(e.data.get("to")) or "—",
        "requester": _ref_name(e.data.get("requester")),
        "verdict": verdict,
    }, e)


def _deferral_declined(e, who, lk, ticket) -> str:
    text = _("%(who)s declined the deferral requested by %(requester)s; the deadline stays %(deadline)s.")
    return _with_comment(text % {
        "who": who,
        "requester": _ref_name(e.data.get("requester")),
        "deadline": _when(e.data.get("deadline")) or "—",
    }, e)


# Other apps may add their own kinds: ``HISTORY_SENTENCES["sla.breached"] = fn(event, who, lookups, ticket)``.
HISTORY_SENTENCES: dict[str, Callable] = {
    "ticket.created": _created,
    "ticket.assigned": _assigned,
    "ticket.unassigned": _unassigned,
    "ticket.owner_changed": _person_changed("owner"),
    "ticket.approver_changed": _person_changed("approver"),
    "ticket.observers_changed": _observers,
    "ticket.status_changed": _status,
    "ticket.reason_changed": _reason_changed,
    "ticket.replied": _replied,
    "ticket.noted": _noted,
    "ticket.customer_wrote": _customer_wrote,
    "ticket.next_step_set": _next_step,
    "ticket.updated": _updated,
    "ticket.deadline_overridden": _deadline_overridden,
    "ticket.deferral_requested": _deferral_requested,
    "ticket.deferral_cause_given": _deferral_cause_given,
    "ticket.deadline_deferred": _deadline_deferred,
    "ticket.deferral_declined": _deferral_declined,
}
HISTORY_SENTENCES.update(routing_history_sentences())  # ticket.routed, ticket.skipped, ticket.classified


def describe_event(event, ticket=None, lookups: _Lookups | None = None) -> str:
    """One history row as a sentence in the active language."""
    who = display_name(event.actor)
    renderer = HISTORY_SENTENCES.get(event.kind)
    if renderer is None:
        return _("%(who)s: %(event)s.") % {"who": who, "event": event.kind}
    return renderer(event, who, lookups or _Lookups(), ticket)


@register.simple_tag(takes_context=True)
def event_sentence(context, event, ticket=None) -> str:
    lookups = context.render_context.get("opsdesk_history_lookups")
    if lookups is None:
        lookups = context.render_context["opsdesk_history_lookups"] = _Lookups()
    return describe_event(event, ticket, lookups)


@register.filter
def event_comment(event) -> str:
    """The free-text part of a history row (a comment or a reason), if any."""
    data = event.data or {}
    if event.kind in ("ticket.status_changed", "ticket.reason_changed"):
        return data.get("comment", "")
    if event.kind == "ticket.unassigned":
        return data.get("reason", "")
    return ""
