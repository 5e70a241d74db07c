"""Reference data of the deferral workflow: the cause catalogue ("other" must always exist).

``ensure_reference_data`` is idempotent. It runs from ``post_migrate`` (which also fires after the
table flush of transactional tests), so the rows always exist. Admins may rename causes or add custom
ones; existing rows are never overwritten.
"""

from __future__ import annotations

from deferrals.models import DeferralCause

# Deferral causes (deferrals.services): code, English, Russian, position. "other" must always exist.
DEFERRAL_CAUSES: list[tuple[str, str, str, int]] = [
    ("customer", "The customer delayed", "Задержка со стороны клиента", 10),
    ("supplier", "A supplier or contractor delayed", "Задержка поставщика или подрядчика", 20),
    ("other-department", "Waiting for another department", "Ожидание другого подразделения", 30),
    ("scope", "The scope of work grew", "Увеличился объём работ", 40),
    ("workload", "Higher-priority work came first", "Более приоритетные задачи", 50),
    ("estimate", "The effort was underestimated", "Трудоёмкость была недооценена", 60),
    ("other", "Other", "Другое", 1000),
]


def ensure_deferral_causes(model) -> None:
    for code, name, name_ru, position in DEFERRAL_CAUSES:
        model.objects.get_or_create(code=code, defaults={"name": name, "name_ru": name_ru, "position": position})


def ensure_reference_data() -> None:
    ensure_deferral_causes(DeferralCause)
