"""History sentences for escalation events, registered into the ticket page's sentence table at start-up."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sla.models import SLAClock


def _clock(kind: str | None) -> str:
    try:
        return str(SLAClock.Kind(kind).label)
    except ValueError:
        return kind or ""


def _escalated(e, who, lk, ticket) -> str:
    text = _("Escalation “%(level)s” fired on the %(clock)s clock.") % {
        "level": e.data.get("level_name", ""),
        "clock": _clock(e.data.get("clock")).lower(),
    }
    if e.data.get("errors"):
        text += " " + _("Not done: %(errors)s.") % {"errors": "; ".join(e.data["errors"])}
    return text


def _escalated_manually(e, who, lk, ticket) -> str:
    if e.data.get("escalation_kind") == "functional":
        return _("%(who)s escalated the ticket to the queue “%(queue)s”: %(reason)s") % {
            "who": who,
            "queue": lk.queue(e.data.get("to_queue")),
            "reason": e.data.get("reason", ""),
        }
    return _("%(who)s escalated the ticket to %(person)s: %(reason)s") % {
        "who": who,
        "person": (e.data.get("to") or {}).get("name", "—"),
        "reason": e.data.get("reason", ""),
    }


def _follow_up(e, who, lk, ticket) -> str:
    return _("A root-cause review task #%(number)s was created.") % {"number": e.data.get("follow_up")}


SENTENCES = {
    "ticket.escalated": _escalated,
    "ticket.escalated_manually": _escalated_manually,
    "ticket.follow_up_created": _follow_up,
}


def register() -> None:
    from tickets.templatetags.opsdesk import HISTORY_SENTENCES

    for kind, renderer in SENTENCES.items():
        HISTORY_SENTENCES.setdefault(kind, renderer)
