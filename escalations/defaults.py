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
| level 3 | 200 % | service director | critical | notify, root-cause review task (an internal task) |
| next reply | 80 % of the *next-reply* clock | performer | routine | notify |
| next reply late | 100 % of the next-reply clock | performer + shift lead | important | notify |

Every level but "deadline passed" and the two next-reply levels watches ``any`` clock: first
response or resolution, acting once per ticket whichever crossed it. "Deadline passed"
watches the deadline clock (the internal deadline in force, ``Ticket.deadline``):
it fires when the deadline passes and again after each deferral or override
moves it; the manager is the one who decides deferrals (docs/deferrals.md).

VIP ladder (for the tiers that escalate on threat, ``VipTier.escalate_on_threat``):
reaches the customer's account manager and the manager on *threat*, before
breach: 50 % account manager, performer and manager (important), 80 % the same
(critical, urgent mark, priority high), 100 % account manager and head of
department (critical, reassign to the shift lead, an apology to the customer),
200 % director (critical, root-cause review task), the same "deadline passed"
level and the next reply's two levels.

When a level's audience is nobody (an unassigned ticket has no performer and no
performer's manager), the notice goes to the queue's dispatchers, else to the
queue's manager (``escalations.audience.with_fallback``).

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

# The next reply's own short ladder: the performer is reminded, then the shift lead hears. Never the director,
# never a reassignment: a customer's "thank you" starts a next-reply clock and must not climb the resolution ladder.
NEXT_REPLY_LEVELS = [
    {"order": 50, "clock": "next_reply", "trigger_percent": 80, "urgency": "routine", "to_performer": True},
    {"order": 55, "clock": "next_reply", "trigger_percent": 100, "urgency": "important",
     "to_performer": True, "to_shift_lead": True},
]

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
        *NEXT_REPLY_LEVELS,
    ],
    VIP_LADDER: [
        {"order": 10, "trigger_percent": 50, "urgency": "important",
         "to_account_manager": True, "to_performer": True, "to_manager": True},
        {"order": 20, "trigger_percent": 80, "urgency": "critical",
         "to_account_manager": True, "to_manager": True, "to_performer": True, "mark_urgent": True,
         "raise_priority_to": 3},
        DEADLINE_PASSED,
        {"order": 30, "trigger_percent": 100, "urgency": "critical",
         "to_account_manager": True, "to_head": True, "to_manager": True, "reassign": "shift_lead", "auto_reply": True,
         "auto_reply_en": _APOLOGY_EN, "auto_reply_ru": _APOLOGY_RU},
        {"order": 40, "trigger_percent": 200, "urgency": "critical",
         "to_director": True, "create_follow_up": True},
        *NEXT_REPLY_LEVELS,
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
    """The level's fields the (historical) model has, with its Russian name where it has that field."""
    names = {field.name for field in model._meta.get_fields()}
    spec = {key: value for key, value in spec.items() if key in names}
    if "name_ru" in names:
        return {**spec, "name_ru": LEVEL_NAMES_RU.get(spec.get("name", ""), "")}
    return spec


def add_next_reply_levels(apps) -> None:
    """Data migration: the shipped ladders of an existing install get the next reply's own levels.

    Levels on "any" clock no longer watch the next reply, so without these an install would stop
    escalating late next replies. Skipped on a ladder that already has a next-reply level or uses the
    orders.
    """
    EscalationPolicy = apps.get_model("escalations", "EscalationPolicy")
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    for policy in EscalationPolicy.objects.filter(name__in=list(LADDERS)):
        levels = EscalationLevel.objects.filter(policy=policy)
        orders = {spec["order"] for spec in NEXT_REPLY_LEVELS}
        if levels.filter(clock="next_reply").exists() or levels.filter(order__in=orders).exists():
            continue
        EscalationLevel.objects.bulk_create(
            EscalationLevel(policy=policy, **_level(EscalationLevel, spec)) for spec in NEXT_REPLY_LEVELS
        )


def reach_account_managers(apps) -> None:
    """Data migration: the shipped VIP ladder's threat and breach levels address the account manager, and the tiers
    listed on active ladders escalate on threat (what those ladders did before the setting was honoured)."""
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    EscalationPolicy = apps.get_model("escalations", "EscalationPolicy")
    VipTier = apps.get_model("tickets", "VipTier")
    orders = [spec["order"] for spec in LADDERS[VIP_LADDER] if spec.get("to_account_manager")]
    EscalationLevel.objects.filter(policy__name=VIP_LADDER, order__in=orders).update(to_account_manager=True)
    tiers = EscalationPolicy.vip_tiers.through.objects.filter(escalationpolicy__is_active=True).values("viptier_id")
    VipTier.objects.filter(pk__in=tiers).update(escalate_on_threat=True)


def fill_russian_level_names(apps) -> None:
    """Data migration: default-named levels without a Russian name get the shipped one."""
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    for name, name_ru in LEVEL_NAMES_RU.items():
        EscalationLevel.objects.filter(name=name, name_ru="").update(name_ru=name_ru)
