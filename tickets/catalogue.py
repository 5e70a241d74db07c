"""Reference data every OpsDesk installation has: role groups and blocking reasons.

``ensure_reference_data`` is idempotent. It runs from a migration on a new
database and from ``post_migrate`` (which also fires after the table flush of
transactional tests), so the rows always exist. Admins may rename reasons or
add custom ones; existing rows are never overwritten.
"""

from __future__ import annotations

from tickets import access
from tickets.models import BlockingReason

# code, English, Russian, waits for the customer, position
BLOCKING_REASONS: list[tuple[str, str, str, bool, int]] = [
    ("customer", "Waiting for the customer", "Ожидание клиента", True, 10),
    ("documents", "Waiting for documents", "Ожидание документов", True, 20),
    ("no-stock", "No stock", "Нет на складе", False, 30),
    ("manager-decision", "Needs a manager's decision", "Нужно решение руководителя", False, 40),
    ("payment", "Awaiting payment", "Ожидание оплаты", True, 50),
]


# Time "on approval" is measured like a wait with this reason (sla/waits.py), so the delay report shows it.
# It is never offered for "waiting for external action" (inactive): approval is its own status.
APPROVAL_REASON: tuple[str, str, str, int] = ("approval", "On approval", "На согласовании", 60)

# Reasons that pause the SLA resolution clock by default (the ball is on the customer's side).
PAUSES_RESOLUTION: frozenset[str] = frozenset({"customer"})


def ensure_blocking_reasons(model) -> None:
    # Migration 0002 passes a historical model that predates ``pauses_resolution`` (added in 0003).
    has_pause_flag = any(f.name == "pauses_resolution" for f in model._meta.get_fields())
    for code, name, name_ru, customer, position in BLOCKING_REASONS:
        defaults = {"name": name, "name_ru": name_ru, "waits_for_customer": customer, "position": position}
        if has_pause_flag:
            defaults["pauses_resolution"] = code in PAUSES_RESOLUTION
        model.objects.get_or_create(code=code, defaults=defaults)
    code, name, name_ru, position = APPROVAL_REASON
    model.objects.get_or_create(code=code, defaults={"name": name, "name_ru": name_ru, "position": position,
                                                     "is_active": False})


def ensure_reference_data() -> None:
    access.sync_roles()
    ensure_blocking_reasons(BlockingReason)
