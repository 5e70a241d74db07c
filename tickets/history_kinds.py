"""The history kinds the ticket lifecycle writes: what each row carries and how it reads.

Declared at start-up (``TicketsConfig.ready``). Person references are ``{"id", "name"}``
(``core.people.user_ref``); instants are ISO 8601 strings; queues and types are slugs,
blocking reasons codes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from tickets import history, sentences
from tickets.models import Channel, Priority, Status


def _created(e, who, lk, ticket) -> str:
    if e.data.get("internal"):
        return _with_files(e, _("%(who)s created the internal task in %(queue)s.") % {
            "who": who, "queue": lk.queue(e.data.get("queue")),
        })
    return _with_files(e, _("%(who)s created the ticket in %(queue)s (channel: %(channel)s).") % {
        "who": who,
        "queue": lk.queue(e.data.get("queue")),
        "channel": sentences.label(Channel, e.data.get("channel")),
    })


def _assigned(e, who, lk, ticket) -> str:
    if e.data.get("previous"):
        return _("%(who)s reassigned the ticket from %(previous)s to %(performer)s.") % {
            "who": who,
            "previous": sentences.ref_name(e.data.get("previous")),
            "performer": sentences.ref_name(e.data.get("performer")),
        }
    return _("%(who)s assigned the ticket to %(performer)s.") % {
        "who": who,
        "performer": sentences.ref_name(e.data.get("performer")),
    }


def _unassigned(e, who, lk, ticket) -> str:
    return _("%(who)s returned the ticket to the queue (it was with %(previous)s).") % {
        "who": who,
        "previous": sentences.ref_name(e.data.get("previous")),
    }


def _person_changed(role: str) -> Callable:
    def render(e, who, lk, ticket) -> str:
        to = e.data.get("to")
        if role == "owner":
            if to:
                return _("%(who)s made %(person)s the owner of the result.") % {
                    "who": who, "person": sentences.ref_name(to)}
            return _("%(who)s removed the owner of the result.") % {"who": who}
        if to:
            return _("%(who)s made %(person)s the approver.") % {"who": who, "person": sentences.ref_name(to)}
        return _("%(who)s removed the approver.") % {"who": who}

    return render


def _observers(e, who, lk, ticket) -> str:
    return _("%(who)s changed the observers (%(added)d added, %(removed)d removed).") % {
        "who": who,
        "added": len(e.data.get("added") or ()),
        "removed": len(e.data.get("removed") or ()),
    }


def _status(e, who, lk, ticket) -> str:
    old, new = sentences.label(Status, e.data.get("from")), sentences.label(Status, e.data.get("to"))
    cause = e.data.get("cause")
    if cause == "customer_message":
        return _("The customer's message moved the ticket from “%(old)s” to “%(new)s”.") % {"old": old, "new": new}
    if cause == "reply":
        return _("%(who)s's reply moved the ticket from “%(old)s” to “%(new)s”.") % {
            "who": who,
            "old": old,
            "new": new,
        }
    if cause == "bad_rating":
        return _("The customer's bad rating reopened the ticket: “%(old)s” to “%(new)s”.") % {"old": old, "new": new}
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


def _with_files(e, sentence: str) -> str:
    names = e.data.get("attachments") or ()
    if not names:
        return sentence
    return sentence + " " + ngettext("File: %(names)s.", "Files: %(names)s.", len(names)) % {"names": ", ".join(names)}


def _replied(e, who, lk, ticket) -> str:
    if e.data.get("first"):
        return _with_files(e, _("%(who)s replied to the customer (first response).") % {"who": who})
    return _with_files(e, _("%(who)s replied to the customer.") % {"who": who})


_ROUTES = {
    "email": lambda: _("by email"),
    "gateway": lambda: _("through the gateway"),
    "phone": lambda: _("by phone (logged call)"),
}


def _route(e) -> str:
    return _ROUTES.get(e.data.get("route"), lambda: e.data.get("route") or "")()


def _reply_delivered(e, who, lk, ticket) -> str:
    if e.data.get("first"):
        return _("The reply reached the customer %(route)s (first response).") % {"route": _route(e)}
    return _("The reply reached the customer %(route)s.") % {"route": _route(e)}


def _reply_failed(e, who, lk, ticket) -> str:
    return _("The reply could not be delivered %(route)s: %(error)s") % {"route": _route(e),
                                                                       "error": e.data.get("error", "")}


_SKIP_REASONS = {
    "internal": lambda: _("an internal task has no customer to ask"),
    "no_route": lambda: _("no channel reaches the customer"),
}
_RATINGS = {"good": lambda: _("good"), "neutral": lambda: _("neutral"), "bad": lambda: _("bad")}


def _survey_skipped(e, who, lk, ticket) -> str:
    reason = _SKIP_REASONS.get(e.data.get("reason"), lambda: e.data.get("reason") or "")()
    return _("No satisfaction survey was sent: %(reason)s.") % {"reason": reason}


def _survey_sent(e, who, lk, ticket) -> str:
    return _("The satisfaction survey reached the customer %(route)s.") % {"route": _route(e)}


def _survey_failed(e, who, lk, ticket) -> str:
    return _("The satisfaction survey could not be delivered %(route)s: %(error)s") % {
        "route": _route(e), "error": e.data.get("error", ""),
    }


def _survey_resent(e, who, lk, ticket) -> str:
    return _("%(who)s sent the satisfaction survey again %(route)s.") % {"who": who, "route": _route(e)}


def _rated(e, who, lk, ticket) -> str:
    rating = _RATINGS.get(e.data.get("rating"), lambda: e.data.get("rating") or "")()
    return _("The customer rated the resolution: %(rating)s.") % {"rating": rating}


def _noted(e, who, lk, ticket) -> str:
    return _with_files(e, _("%(who)s added an internal note.") % {"who": who})


def _customer_wrote(e, who, lk, ticket) -> str:
    return _with_files(e, _("%(customer)s wrote (%(channel)s).") % {
        "customer": ticket.customer.name if ticket is not None else _("The customer"),
        "channel": sentences.label(Channel, e.data.get("channel")),
    })


def _next_step(e, who, lk, ticket) -> str:
    text = e.data.get("text")
    if not text:
        return _("%(who)s cleared the next step.") % {"who": who}
    if e.data.get("due"):
        return _("%(who)s set the next step “%(text)s” due %(due)s.") % {
            "who": who,
            "text": text,
            "due": sentences.when(e.data.get("due")),
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
            old, new = sentences.label(Priority, old), sentences.label(Priority, new)
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
        "old": sentences.when(e.data.get("previous")) or "—",
        "new": sentences.when(e.data.get("to")) or "—",
        "reason": e.data.get("reason", ""),
    }


def _approved(e, who, lk, ticket) -> str:
    if e.data.get("closed"):
        text = _("%(who)s approved and closed the ticket.") % {"who": who}
    else:
        text = _("%(who)s approved; the ticket is back in work.") % {"who": who}
    return f"{text} {e.data['comment']}" if e.data.get("comment") else text


def _rejected(e, who, lk, ticket) -> str:
    return _("%(who)s rejected: %(comment)s") % {"who": who, "comment": e.data.get("comment", "")}


_FOLLOW_WHY = {
    "paused": lambda: _("the resolution clock paused"),
    "resumed": lambda: _("the resolution clock runs again"),
    "policy": lambda: _("another SLA policy applies"),
    "no_policy": lambda: _("no SLA policy applies any more"),
    "calendar": lambda: _("the working calendar changed"),
}


def _deadline_followed(e, who, lk, ticket) -> str:
    why = _FOLLOW_WHY.get(e.data.get("why") or "")
    new = sentences.when(e.data.get("to"))
    if not new:
        text = _("The deadline in force that follows the SLA is on hold")
    else:
        text = _("The deadline in force follows the SLA resolution due: %(old)s → %(new)s") % {
            "old": sentences.when(e.data.get("previous")) or "—", "new": new}
    return f"{text} ({why()})." if why else f"{text}."


PERSON = history.PERSON
INSTANT = history.INSTANT
FILES = "names of the files attached to the message (absent without files)"

KINDS: dict[str, tuple[dict[str, str], tuple[str, ...], Callable]] = {
    "ticket.created": ({
        "channel": "channel code", "queue": "queue slug", "priority": "priority number", "deadline": INSTANT,
        "deadline_source": "'sla' when the SLA gave the deadline", "demo_seed": "demo data: generator seed",
        "demo_index": "demo data: ticket index", "attachments": FILES, "internal": "true for an internal task",
    }, ("channel", "queue", "priority", "deadline"), _created),
    "ticket.assigned": ({"performer": PERSON, "previous": PERSON + " or null"}, ("performer",), _assigned),
    "ticket.unassigned": ({"previous": PERSON, "reason": "free text"}, ("previous",), _unassigned),
    "ticket.owner_changed": ({"previous": PERSON + " or null", "to": PERSON + " or null"}, ("previous", "to"),
                             _person_changed("owner")),
    "ticket.approver_changed": ({"previous": PERSON + " or null", "to": PERSON + " or null"}, ("previous", "to"),
                                _person_changed("approver")),
    "ticket.observers_changed": ({"added": "user ids", "removed": "user ids"}, ("added", "removed"), _observers),
    "ticket.status_changed": ({
        "from": "status", "to": "status", "reason": "blocking reason code", "comment": "free text",
        "cause": "why the system changed it (reply, customer_message, returned_to_queue…)",
    }, ("from", "to"), _status),
    "ticket.reason_changed": ({"previous": "reason code or null", "reason": "reason code", "comment": "free text"},
                              ("reason",), _reason_changed),
    "ticket.replied": ({"message": "message id", "first": "the first public reply", "automatic": "sent by the system",
                        "attachments": FILES},
                       ("message",), _replied),
    "ticket.reply_delivered": ({
        "message": "message id", "route": "email, gateway or phone", "first": "the first response delivered",
        "delay": "seconds from the click to the sending instant", "automatic": "sent by the system",
    }, ("message", "route"), _reply_delivered),
    "ticket.reply_failed": ({"message": "message id", "route": "email, gateway or none", "error": "why"},
                            ("message", "route"), _reply_failed),
    "ticket.noted": ({"message": "message id", "attachments": FILES}, ("message",), _noted),
    "ticket.survey_skipped": ({"reason": "internal or no_route"}, ("reason",), _survey_skipped),
    "ticket.survey_sent": ({"route": "email or gateway"}, ("route",), _survey_sent),
    "ticket.survey_failed": ({"route": "email or gateway", "error": "why"}, ("route",), _survey_failed),
    "ticket.survey_resent": ({"route": "email or gateway"}, ("route",), _survey_resent),
    "ticket.rated": ({"rating": "good, neutral or bad", "comment": "the customer's words",
                      "reopened": "the bad rating reopened the ticket"}, ("rating",), _rated),
    "ticket.customer_wrote": ({"message": "message id", "channel": "channel code", "attachments": FILES}, ("message",),
                              _customer_wrote),
    "ticket.next_step_set": ({"text": "what happens next", "due": INSTANT}, ("text",), _next_step),
    "ticket.updated": ({"changes": "{field: {from, to}} (queue and type as slugs)"}, ("changes",), _updated),
    "ticket.deadline_overridden": ({"previous": INSTANT, "to": INSTANT, "reason": "free text"},
                                   ("previous", "to", "reason"), _deadline_overridden),
    "ticket.approved": ({"comment": "free text", "closed": "approved and closed at once",
                         "since": "when the ticket went on approval: " + INSTANT}, ("closed",), _approved),
    "ticket.approval_rejected": ({"comment": "free text (required)", "closed": "always false",
                                  "since": "when the ticket went on approval: " + INSTANT}, ("comment",), _rejected),
    "ticket.deadline_followed": ({
        "previous": INSTANT + " or null", "to": INSTANT + " or null (on hold while the resolution clock is paused)",
        "why": "paused, resumed, policy, no_policy or calendar",
    }, ("previous", "to"), _deadline_followed),
}


def declare() -> None:
    history.declare_all("tickets", KINDS)
