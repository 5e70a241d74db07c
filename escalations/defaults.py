"""The seed's escalation ladders, shipped as data.

``install_default_ladders()`` creates the two ladders when missing (found by
name; an admin's later edits are never overwritten) and returns them. It runs
from a data migration on real installs (with the migration's ``apps``) and
from ``seed_demo`` (which also attaches them to the demo SLA policies and
names the contacts).

Default ladder (DOMAIN "Automatic escalation"):

| level | trigger | who | urgency | actions |
|---|---|---|---|---|
| warning | 50 % | performer | routine (in-app) | notify |
| reminder | 30 min before due | performer | routine | notify ("30 min left") |
| level 1 | 80 % | performer + shift lead | important (email) | notify, urgent mark |
| deadline passed | 100 % of the *deadline* clock | performer + performer's manager | important | notify |
| level 2 | 100 % (breach) | head of department + shift lead | critical | notify, reassign to the shift lead |
| level 3 | 200 % | service director | critical | notify, root-cause review task |

Every level but "deadline passed" watches ``any`` SLA clock. "Deadline passed"
watches the deadline clock (the internal deadline in force, ``Ticket.deadline``):
it fires when the deadline passes and again after each deferral or override
moves it; the manager is the one who decides deferrals (docs/deferrals.md).

VIP ladder: reaches the manager on *threat*, before breach: 50 % performer and
manager (important), 80 % manager (critical, urgent mark, priority high),
100 % head of department (critical, reassign to the shift lead, an apology to
the customer), 200 % director (critical, root-cause review task), and the same
"deadline passed" level.

Levels ship without a name: each is named after its trigger, clock and audience in the reader's
language ("Warning: 50 % of the target used — performer"), so a trigger an admin changes never leaves a
stale name. Migration 0008 empties the names earlier versions shipped where an admin left them unchanged.

Installs that already have the ladders keep them as they are (an admin may
have edited them): the deadline level reaches new installs and fresh demos,
and an admin adds it elsewhere in Django admin.
"""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps as global_apps

DEFAULT_LADDER = "Default ladder"
VIP_LADDER = "VIP ladder"

DEADLINE_PASSED = {
    "order": 25, "clock": "deadline", "trigger_percent": 100, "urgency": "important",
    "to_performer": True, "to_manager": True,
}

_APOLOGY_EN = (
    "We are sorry for the delay with your request {ticket}. It is now under a manager's control, "
    "and we will come back to you as soon as possible."
)
_APOLOGY_RU = (
    "Приносим извинения за задержку по вашему обращению {ticket}. Оно находится на контроле "
    "у руководителя, мы свяжемся с вами в ближайшее время."
)

LADDERS: dict[str, list[dict]] = {
    DEFAULT_LADDER: [
        {"order": 10, "trigger_percent": 50, "urgency": "routine",
         "to_performer": True},
        {"order": 15, "trigger_offset": -timedelta(minutes=30), "urgency": "routine",
         "to_performer": True},
        {"order": 20, "trigger_percent": 80, "urgency": "important",
         "to_performer": True, "to_shift_lead": True, "mark_urgent": True},
        DEADLINE_PASSED,
        {"order": 30, "trigger_percent": 100, "urgency": "critical",
         "to_head": True, "to_shift_lead": True, "reassign": "shift_lead"},
        {"order": 40, "trigger_percent": 200, "urgency": "critical",
         "to_director": True, "create_follow_up": True},
    ],
    VIP_LADDER: [
        {"order": 10, "trigger_percent": 50, "urgency": "important",
         "to_performer": True, "to_manager": True},
        {"order": 20, "trigger_percent": 80, "urgency": "critical",
         "to_manager": True, "to_performer": True, "mark_urgent": True, "raise_priority_to": 3},
        DEADLINE_PASSED,
        {"order": 30, "trigger_percent": 100, "urgency": "critical",
         "to_head": True, "to_manager": True, "reassign": "shift_lead", "auto_reply": True,
         "auto_reply_en": _APOLOGY_EN, "auto_reply_ru": _APOLOGY_RU},
        {"order": 40, "trigger_percent": 200, "urgency": "critical",
         "to_director": True, "create_follow_up": True},
    ],
}

# The Russian names of the levels above (``name_ru``; the data migration that added the field fills
# them on the rows an earlier release created, where they still carry these English names).
LEVEL_NAMES_RU = {
    "Deadline passed": "Срок истёк",
    "Warning: 50 % used": "Предупреждение: израсходовано 50 %",
    "30 minutes left": "Осталось 30 минут",
    "Level 1: 80 % used": "Уровень 1: израсходовано 80 %",
    "Level 2: breached": "Уровень 2: срок нарушен",
    "Level 3: overdue by 100 %": "Уровень 3: просрочено на 100 %",
    "VIP threat: 50 % used": "Угроза VIP: израсходовано 50 %",
    "VIP threat: 80 % used": "Угроза VIP: израсходовано 80 %",
    "VIP breached": "VIP: срок нарушен",
    "VIP overdue by 100 %": "VIP: просрочено на 100 %",
}


def install_default_ladders(apps=None) -> dict[str, object]:
    """Create the default and VIP ladders if missing; returns ``{name: EscalationPolicy}``. Idempotent.

    ``apps``: the migration's historical models; without it, the installed ones (``seed_demo``, tests). The
    models are looked up, not imported, so the data migration never loads today's model classes.
    """
    apps = apps if apps is not None else global_apps
    EscalationPolicy = apps.get_model("escalations", "EscalationPolicy")
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    result = {}
    for name, levels in LADDERS.items():
        policy, created = EscalationPolicy.objects.get_or_create(name=name)
        if created:
            EscalationLevel.objects.bulk_create(
                EscalationLevel(policy=policy, **_level(EscalationLevel, spec)) for spec in levels
            )
        result[name] = policy
    return result


def _level(model, spec: dict) -> dict:
    """The level's fields, with its Russian name where the (historical) model has the field."""
    if any(field.name == "name_ru" for field in model._meta.get_fields()):
        return {**spec, "name_ru": LEVEL_NAMES_RU.get(spec.get("name", ""), "")}
    return spec


def fill_russian_level_names(apps) -> None:
    """Data migration: default-named levels without a Russian name get the shipped one."""
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    for name, name_ru in LEVEL_NAMES_RU.items():
        EscalationLevel.objects.filter(name=name, name_ru="").update(name_ru=name_ru)
