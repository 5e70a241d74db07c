"""Reference data every OpsDesk installation has: role groups and the blocking-reason catalogue.

``ensure_reference_data`` is idempotent. It runs from a migration on a new
database and from ``post_migrate`` (which also fires after the table flush of
transactional tests), so the rows always exist. Admins may rename reasons or
add custom ones; existing rows are never overwritten.
"""

from __future__ import annotations

# code, English, Russian, waits for the customer, position
BLOCKING_REASONS: list[tuple[str, str, str, bool, int]] = [
    ("customer", "Waiting for the customer", "Ожидание клиента", True, 10),
    ("documents", "Waiting for documents", "Ожидание документов", True, 20),
    ("no-stock", "No stock", "Нет на складе", False, 30),
    ("manager-decision", "Needs a manager's decision", "Нужно решение руководителя", False, 40),
    ("payment", "Awaiting payment", "Ожидание оплаты", True, 50),
]


def ensure_blocking_reasons(model) -> None:
    for code, name, name_ru, customer, position in BLOCKING_REASONS:
        model.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_ru": name_ru, "waits_for_customer": customer, "position": position},
        )


def ensure_reference_data() -> None:
    from . import access
    from .models import BlockingReason

    access.sync_roles()
    ensure_blocking_reasons(BlockingReason)
