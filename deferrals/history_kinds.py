"""The history kinds the deferral workflow writes on a ticket (declared in ``DeferralsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tickets import history, sentences


def _deferral_requested(e, who, lk, ticket) -> str:
    approver = sentences.ref_name(e.data.get("approver"))
    if e.data.get("automatic"):
        return _("The deadline %(deadline)s passed: a deferral request was opened automatically for %(approver)s.") % {
            "deadline": sentences.when(e.data.get("deadline")) or "—",
            "approver": approver,
        }
    return _("%(who)s asked %(approver)s to move the deadline from %(old)s to %(new)s: %(explanation)s") % {
        "who": who,
        "approver": approver,
        "old": sentences.when(e.data.get("deadline")) or "—",
        "new": sentences.when(e.data.get("proposed")) or "—",
        "explanation": e.data.get("explanation", ""),
    }


def _deferral_cause_given(e, who, lk, ticket) -> str:
    return _("%(who)s explained the missed deadline and proposed %(new)s: %(explanation)s") % {
        "who": who,
        "new": sentences.when(e.data.get("proposed")) or "—",
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
        "old": sentences.when(e.data.get("previous")) or "—",
        "new": sentences.when(e.data.get("to")) or "—",
        "requester": sentences.ref_name(e.data.get("requester")),
        "verdict": verdict,
    }, e)


def _deferral_declined(e, who, lk, ticket) -> str:
    text = _("%(who)s declined the deferral requested by %(requester)s; the deadline stays %(deadline)s.")
    return _with_comment(text % {
        "who": who,
        "requester": sentences.ref_name(e.data.get("requester")),
        "deadline": sentences.when(e.data.get("deadline")) or "—",
    }, e)


def _deferral_withdrawn(e, who, lk, ticket) -> str:
    if e.data.get("status") == "canceled":
        text = _("The ticket was canceled: the pending deferral request of %(requester)s was withdrawn.")
    else:
        text = _("The ticket was done: the pending deferral request of %(requester)s was withdrawn.")
    return text % {"requester": sentences.ref_name(e.data.get("requester"))}


PERSON = history.PERSON
INSTANT = history.INSTANT

KINDS = {
    "ticket.deferral_requested": ({
        "request": "deferral request id", "automatic": "opened by the system when the deadline passed",
        "requester": PERSON, "approver": PERSON, "deadline": INSTANT, "proposed": INSTANT,
        "cause": "deferral cause code", "explanation": "free text",
    }, ("request",), _deferral_requested),
    "ticket.deferral_cause_given": ({
        "request": "deferral request id", "cause": "deferral cause code", "explanation": "free text",
        "proposed": INSTANT,
    }, ("request",), _deferral_cause_given),
    "ticket.deadline_deferred": ({
        "request": "deferral request id", "automatic": "the request was automatic", "requester": PERSON,
        "decider": PERSON, "verdict": "objective or subjective", "previous": INSTANT, "to": INSTANT,
        "comment": "free text",
    }, ("request", "verdict", "previous", "to"), _deadline_deferred),
    "ticket.deferral_declined": ({
        "request": "deferral request id", "automatic": "the request was automatic", "requester": PERSON,
        "decider": PERSON, "deadline": INSTANT, "comment": "free text",
    }, ("request",), _deferral_declined),
    "ticket.deferral_withdrawn": ({
        "request": "deferral request id", "automatic": "the request was automatic", "requester": PERSON,
        "status": "done or canceled: the status that closed the ticket",
    }, ("request", "status"), _deferral_withdrawn),
}


def declare() -> None:
    history.declare_all("deferrals", KINDS)
