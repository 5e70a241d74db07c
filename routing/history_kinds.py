"""The history kinds routing writes on a ticket (declared in ``RoutingConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from routing import strategies as routing
from routing.assignment import STRATEGY_LABELS, describe_reason, name_of
from tickets import history


def _routed(e, who, lk, ticket) -> str:
    data = e.data or {}
    if data.get("reason") == routing.R_TAKE_NEXT:
        return _("%(who)s took the ticket as the next in the queue.") % {"who": who}
    strategy = STRATEGY_LABELS.get(data.get("strategy"), lambda: str(data.get("strategy")))()
    return _("Routed to %(person)s by %(strategy)s: %(reason)s.") % {
        "person": name_of(data.get("performer")),
        "strategy": strategy,
        "reason": describe_reason(data),
    }


def _skipped(e, who, lk, ticket) -> str:
    return _("%(who)s skipped the ticket in the pull queue: %(reason)s") % {"who": who, "reason": e.data.get("reason")}


def _classified(e, who, lk, ticket) -> str:
    return _("Classified by keywords as %(type)s.") % {"type": lk.ticket_type(e.data.get("type"))}


PERSON = history.PERSON

KINDS = {
    "ticket.routed": ({
        "trigger": "created, returned, offer, take_next…", "performer": PERSON, "strategy": "routing strategy",
        "reason": "why this agent (strategy reason code)", "open": "their open tickets then",
        "capacity": "their capacity", "skills": "matched skills", "score": "skills score",
        "substitute_for": PERSON + " (the absent member they stand in for)",
    }, ("trigger", "performer", "strategy", "reason"), _routed),
    "ticket.skipped": ({"reason": "why the agent skipped it"}, ("reason",), _skipped),
    "ticket.classified": ({"rule": "classification rule id", "type": "type slug", "type_id": "type id"},
                          ("rule", "type"), _classified),
}


def declare() -> None:
    history.declare_all("routing", KINDS)
