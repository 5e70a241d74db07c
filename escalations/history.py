"""The history kinds escalations write on a ticket: shapes and sentences (declared in ``EscalationsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from escalations.case_selectors import ticket_case_sentence
from escalations.models import level_default_name
from sla.models import SLAClock
from tickets import history
from tickets.models.base import bilingual


def _clock(kind: str | None) -> str:
    try:
        return str(SLAClock.Kind(kind).label)
    except ValueError:
        return kind or ""


def _level_name(data: dict) -> str:
    """The level's name then: its custom name, else the one derived from its trigger then, in the reader's language."""
    naming = data.get("level_naming")
    if data.get("level_name") or not naming:
        return bilingual(data.get("level_name", ""), data.get("level_name_ru", ""))
    return level_default_name(naming.get("clock", ""), naming.get("percent"), naming.get("offset"),
                              naming.get("audience", []))


def _escalated(e, who, lk, ticket) -> str:
    text = _("Escalation “%(level)s” fired on the %(clock)s clock.") % {
        "level": _level_name(e.data),
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


PERSON = history.PERSON

KINDS = {
    "ticket.escalated": ({
        "level": "escalation level id", "level_name": "its name then (empty: derived)",
        "level_name_ru": "its Russian name then (empty: the same)",
        "level_naming": "clock, percent, offset (s), audience flags: the derived name's parts",
        "order": "its order", "clock": "clock kind",
        "clock_id": "SLA clock id", "generation": "the clock's generation", "percent": "share of the target used",
        "urgency": "notice urgency", "recipients": "user ids notified", "actions": "actions done",
        "errors": "actions that failed, with why",
        "clocks": "every clock kind that crossed the level in this sweep (one acted for all)",
        "fallback": "'dispatchers' or 'queue_manager': the audience was nobody, the notice went to them",
    }, ("level", "level_name", "order", "clock", "clock_id", "generation", "percent", "urgency", "recipients"),
        _escalated),
    "ticket.escalated_manually": ({
        "escalation_kind": "functional or hierarchical", "reason": "free text", "escalation": "manual escalation id",
        "from_queue": "queue slug", "to_queue": "queue slug", "to": PERSON, "assigned": "assigned to them too",
    }, ("escalation_kind", "reason", "escalation"), _escalated_manually),
    "ticket.follow_up_created": ({"follow_up": "the root-cause task's ticket id"}, ("follow_up",), _follow_up),
    "ticket.case_linked": ({
        "case": "escalation case id", "reference": "its reference", "role": "affected or task",
    }, ("case", "reference", "role"), ticket_case_sentence),
}


def declare() -> None:
    history.declare_all("escalations", KINDS)
