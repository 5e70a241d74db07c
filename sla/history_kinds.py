"""The history kinds the SLA writes on a ticket (declared in ``SlaConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tickets import history, sentences
from tickets.models.base import bilingual


def _sla_changed(e, who, lk, ticket) -> str:
    to = e.data.get("to") or {}
    new = bilingual(to.get("name", ""), to.get("name_ru", ""))
    if new:
        return _("%(who)s's change made the SLA policy “%(policy)s” apply.") % {"who": who, "policy": new}
    return _("%(who)s's change left the ticket without an SLA policy.") % {"who": who}


def _deadline_defaulted(e, who, lk, ticket) -> str:
    return _("The deadline was set to the SLA's resolution due, %(deadline)s.") % {
        "deadline": sentences.when(e.data.get("deadline")) or "—"}


POLICY = "SLA policy reference {id, name, name_ru if set} or null"

KINDS = {
    "ticket.sla_changed": ({"from": POLICY, "to": POLICY, "mode": "how running clocks were retargeted"},
                           ("from", "to", "mode"), _sla_changed),
    "ticket.deadline_defaulted": ({"deadline": "ISO 8601 instant", "source": "'sla'"}, ("deadline",),
                                  _deadline_defaulted),
}


def declare() -> None:
    history.declare_all("sla", KINDS)
