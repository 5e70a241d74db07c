"""The wiring between the floors is pinned here, and docs/architecture.md cannot drift from it.

Changing who reacts to what (or who answers a port) is a conscious change to this file, to
``opsdesk/wiring.py`` and, through ``make docs``, to docs/architecture.md.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.events import bus
from escalations.sweep import sweep
from opsdesk import wiring
from opsdesk.management.commands.architecture_docs import doc_path, render, section
from tickets import events, history
from tickets.models import TicketEvent

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "tickets", "sla", "notifications", "routing", "deferrals", "escalations", "reports", "intake",
        "channels", "portal", "opsdesk")

EXPECTED_TABLE = [
    ("TicketClassified", ["routing.handlers.record_classification"]),
    ("TicketQueued", ["routing.handlers.route", "routing.handlers.announce_waiting"]),
    ("PerformerChanged", ["notifications.handlers.performer_changed"]),
    ("PeopleChanged", ["notifications.handlers.people_changed"]),
    ("StatusChanged", ["sla.handlers.follow_status", "sla.handlers.record_wait",
                       "notifications.handlers.status_changed", "deferrals.handlers.withdraw_on_close",
                       "channels.handlers.send_survey"]),
    ("BlockingReasonChanged", ["sla.handlers.follow_reason", "sla.handlers.record_wait"]),
    ("PublicReplyAdded", ["channels.handlers.deliver_reply"]),
    ("PublicMessageDelivered", ["sla.handlers.stop_on_reply"]),
    ("CustomerWrote", ["sla.handlers.customer_wrote", "notifications.handlers.customer_wrote"]),
    ("ApprovalDecided", ["notifications.handlers.approval_decided"]),
    ("Reclassified", ["routing.handlers.learn_from_correction", "sla.handlers.rematch"]),
    ("DeadlineChanged", ["sla.handlers.follow_deadline"]),
    ("SatisfactionRated", ["notifications.handlers.satisfaction_rated"]),
]

EXPECTED_PROVIDERS = [
    ("tickets.plan_clocks", "sla.handlers.plan_clocks"),
    ("tickets.classify", "routing.assignment.classify_text"),
    ("sla.escalation_planner", "escalations.planner.LadderPlanner"),
    ("tickets.reply_route", "channels.routes.reply_route"),
    ("tickets.email_addressing", "channels.email.addressing"),
]


# --- (a) the table is pinned -----------------------------------------------------------------------


def test_who_reacts_to_what_is_exactly_the_pinned_table():
    assert wiring.table() == EXPECTED_TABLE


def test_the_ports_are_answered_by_the_pinned_providers():
    assert wiring.providers() == EXPECTED_PROVIDERS


def test_the_running_bus_and_ports_are_the_table():
    for event_type, handlers in wiring.SUBSCRIBERS:
        assert bus.handlers(event_type) == handlers, event_type.__name__
    for port, provider in wiring.PROVIDERS:
        assert port.provider is provider, port.name


def test_every_ticket_event_is_in_the_table():
    declared = {name for name in events.__all__ if dataclasses.is_dataclass(getattr(events, name))}
    assert declared == {name for name, _handlers in wiring.table()}


# --- (b) the document is generated from the code -------------------------------------------------------


def test_the_doc_shows_exactly_the_wiring_table():
    text = doc_path().read_text(encoding="utf-8")
    assert section(text, "wiring").strip() == wiring.markdown().strip(), "run `make docs`"


def test_the_doc_shows_exactly_the_declared_history_kinds():
    text = doc_path().read_text(encoding="utf-8")
    assert section(text, "history").strip() == history.markdown().strip(), "run `make docs`"


def test_make_docs_rewrites_only_the_marked_sections_and_is_stable():
    text = ("intro\n<!-- wiring:start -->\nstale\n<!-- wiring:end -->\nmiddle\n"
            "<!-- history:start --><!-- history:end -->\nend\n")
    fresh = render(text)
    assert fresh.startswith("intro\n<!-- wiring:start -->") and "<!-- wiring:end -->\nmiddle\n" in fresh
    assert fresh.endswith("<!-- history:end -->\nend\n") and "stale" not in fresh
    assert section(fresh, "wiring").strip() == wiring.markdown().strip()
    assert section(fresh, "history").strip() == history.markdown().strip()
    assert render(fresh) == fresh


def test_the_docs_command_finds_the_doc_current():
    out = StringIO()
    call_command("architecture_docs", "--check", stdout=out)
    assert "current" in out.getvalue()


# --- (c) every history kind written is declared ---------------------------------------------------------


_KIND = re.compile(r"ticket\.[a-z_]+")


def _kind_literals() -> dict[str, str]:
    """Every ``"ticket.<kind>"`` string in the project's code, with where it is (reads and writes alike)."""
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and _KIND.fullmatch(node.value):
                    found.setdefault(node.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_history_kind_the_code_names_is_declared():
    undeclared = {kind: where for kind, where in _kind_literals().items() if kind not in history.SHAPES}
    assert undeclared == {}


@pytest.mark.django_db
def test_every_history_row_of_a_demo_and_a_late_sweep_has_its_declared_shape():
    # The demo writes its rows in bulk, bypassing ``history.record``; the sweep writes set-based.
    call_command("seed_demo", tickets=40, seed=7, force=True, stdout=StringIO())
    sweep(timezone.now() + timedelta(days=30))
    rows = list(TicketEvent.objects.values_list("pk", "kind", "data"))
    assert rows
    wrong = []
    for pk, kind, data in rows:
        try:
            history.shape_of(kind).check(data)
        except ValueError as error:
            wrong.append((pk, str(error)))
    assert wrong == []
