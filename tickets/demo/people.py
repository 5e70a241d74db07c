"""The demo's people: a user for every role, with profiles (name, zone, language) and direct managers.

The hierarchy matches the escalation contacts (``escalations/demo.py``): the shift lead (``lead``)
hears level 1, the head of department (``manager``) level 2, the service director (``director``)
level 3. Working calendars come from ``sla.demo_people`` (calendars are the SLA's).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from tickets import access
from tickets.demo.context import DemoContext
from tickets.models import Language, Profile

DEMO_PASSWORD = "opsdesk-demo"  # development only, printed by seed_demo


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    label: str
    manager: str | None = None
    language: str = Language.RU
    superuser: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


DEMO_USERS: list[DemoUser] = [
    DemoUser("admin", "Алия", "Ахметова", access.ADMIN, "admin (superuser, Django admin)", superuser=True),
    DemoUser("dispatcher", "Дина", "Касымова", access.DISPATCHER, "dispatcher of all queues", manager="lead"),
    DemoUser("director", "Руслан", "Бекетов", access.MANAGER, "service director (escalation level 3)"),
    DemoUser("manager", "Марат", "Ержанов", access.MANAGER,
             "head of department (escalation level 2), direct manager of the engineers", "director"),
    DemoUser("lead", "Ольга", "Ким", access.MANAGER,
             "shift lead (escalation level 1), manages Service and Tech support", "manager"),
    DemoUser("aigerim", "Айгерим", "Сапарова", access.ENGINEER, "engineer: Sales, Service", "manager"),
    DemoUser("bekzat", "Бекзат", "Нурланов", access.ENGINEER, "engineer: Sales, Tech support", "manager"),
    DemoUser("sergey", "Сергей", "Волков", access.ENGINEER, "engineer: Sales, Service", "manager"),
    DemoUser("dana", "Dana", "Abenova", access.ENGINEER, "engineer: Sales, Service (English)", "manager", "en"),
    DemoUser("timur", "Тимур", "Жаксылыков", access.ENGINEER, "engineer: Sales, Tech support", "manager"),
]


def seed_people(ctx: DemoContext) -> int:
    """The demo users with their role groups and profiles; returns how many users were created."""
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing nine times costs seconds
    groups = {g.name: g for g in Group.objects.filter(name__in=access.ROLES)}
    created_count = 0
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@opsdesk.example",
                "password": password,
                "is_staff": spec.superuser,
                "is_superuser": spec.superuser,
            },
        )
        created_count += created
        user.groups.add(groups[spec.role])
        ctx.users[spec.username] = user
    for spec in DEMO_USERS:
        user = ctx.users[spec.username]
        profile, _ = Profile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": spec.display_name,
                "time_zone": "Asia/Almaty",
                "language": spec.language,
                "manager": ctx.users.get(spec.manager) if spec.manager else None,
            },
        )
        user.profile = profile
    by_pk = {u.pk: u for u in ctx.users.values()}
    for user in ctx.users.values():
        manager = by_pk.get(user.profile.manager_id)
        if manager is not None:
            ctx.managers[user.pk] = manager
    return created_count
