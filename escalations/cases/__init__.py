"""Escalation cases: every write to a case goes through here (see docs/escalation-cases.md).

Each service takes the case and an explicit ``actor``, runs in a transaction,
locks the case row, checks who may do it (``escalations.access``, the one access
module for cases), and appends a ``CaseEvent`` to the case's immutable
timeline. Ticket changes (public replies, task tickets, closing tickets) go
through ``tickets.services``; notices through ``notify()``. Domain errors are
``TicketError`` with a message fit for the person who caused them.

Split by responsibility; import the services from here (``from escalations import cases``,
``cases.case_open(...)``) whatever module holds them:

| module | what it holds |
|---|---|
| ``common`` | the update cadence, the timeline (``record``), the guards, who is told and how |
| ``opening`` | ``case_open``; linking tickets, customers, services (``case_add_ticket/customer/service``) |
| ``taskforce`` | members, status updates (``case_post_update``), the action plan (``case_add_task``, ``plan``) |
| ``hierarchy`` | escalation up the management line, by hand and by the plan's timing |
| ``closure`` | the resolution, the root-cause analysis, closing the case and its tickets |
"""

from escalations.cases.closure import (
    CLOSE_TICKET,
    HAND_BACK,
    case_announce_resolution,
    case_approve_customer_rca,
    case_close,
    case_write_rca,
    rca_complete,
)
from escalations.cases.common import DEFAULT_CADENCE, Cadence, cadence_for, record
from escalations.cases.hierarchy import (
    MAX_LEVEL,
    case_escalate,
    case_escalate_automatically,
    due_level,
    escalation_target,
)
from escalations.cases.opening import case_add_customer, case_add_service, case_add_ticket, case_open
from escalations.cases.taskforce import case_add_member, case_add_task, case_post_update, case_remove_member, plan

__all__ = [
    "CLOSE_TICKET",
    "DEFAULT_CADENCE",
    "HAND_BACK",
    "MAX_LEVEL",
    "Cadence",
    "cadence_for",
    "case_add_customer",
    "case_add_member",
    "case_add_service",
    "case_add_task",
    "case_add_ticket",
    "case_announce_resolution",
    "case_approve_customer_rca",
    "case_close",
    "case_escalate",
    "case_escalate_automatically",
    "case_open",
    "case_post_update",
    "case_remove_member",
    "case_write_rca",
    "due_level",
    "escalation_target",
    "plan",
    "rca_complete",
    "record",
]
