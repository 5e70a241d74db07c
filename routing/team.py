"""A queue's team as routing sees it: who is in it and their routing state now, read in a constant number of queries.

``agent_states`` serves routing (``routing.assignment``: plain columns, no user objects) and the queue monitor
(``routing.queue_monitor``: with the users). The routing read is one statement whatever the team's size:
memberships with each agent's profile columns, their open-ticket count (stored: ``tickets.workload``) and today's
absence and substitute; working calendars come in one more query only when someone has one, skills only when asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Case, Exists, F, OuterRef, Subquery, When
from django.utils import timezone

from core import rowcache
from routing.models import AgentSkill
from routing.strategies import NO_SKILLS, Agent
from sla.models import Calendar
from tickets.models import Absence, Profile, QueueMembership, Workload


class Member(NamedTuple):
    user: object
    role: str
    agent: Agent


def on_shift(profile: Profile | None, now: datetime) -> bool:
    if profile is None or profile.work_calendar_id is None:
        return True
    return _calendar_on_shift(profile.work_calendar, now)


def _calendar_on_shift(calendar: Calendar | None, now: datetime) -> bool:
    if calendar is None:  # deleted since the team was read: the profile's calendar is being cleared
        return True
    try:
        return calendar.work_calendar().is_working(now)
    except ValueError:  # an invalid calendar: treat the person as off shift rather than crash routing
        return False


def agent_states(
    queue_ids: Iterable[int], *, now: datetime | None = None, skills: bool = False, users: bool = True
) -> dict[int, list[Member]]:
    """Members (agents and dispatchers) of the queues with their routing state, in four or five queries.

    ``users=False`` (routing) leaves ``Member.user`` empty and reads only the columns routing needs, in one
    query (plus one for working calendars when someone has one, one for skills when asked).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not users:
        return _routing_states(list(queue_ids), now, today, skills)
    memberships = list(
        QueueMembership.objects.filter(queue_id__in=list(queue_ids), user__is_active=True)
        .order_by("queue_id", "user_id")
        .select_related("user__profile__work_calendar")
    )
    user_ids = {m.user_id for m in memberships}
    workloads = {
        user_id: (n, last)
        for user_id, n, last in Workload.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "open_tickets", "last_assigned_at"
        )
    }
    absences = {
        a.user_id: a.substitute_id
        for a in Absence.objects.filter(user_id__in=user_ids, starts_on__lte=today, ends_on__gte=today).order_by(
            "starts_on", "pk"
        )
    }
    agent_skills = _skills(user_ids) if skills else {}
    result: dict[int, list[Member]] = defaultdict(list)
    for m in memberships:
        profile = getattr(m.user, "profile", None)
        open_n, last = workloads.get(m.user_id, (0, None))
        agent = Agent(
            user_id=m.user_id,
            on_shift=on_shift(profile, now),
            away=bool(profile and profile.is_away),
            absent=m.user_id in absences,
            substitute_id=absences.get(m.user_id),
            open_tickets=open_n,
            capacity=m.capacity if m.role == QueueMembership.Role.AGENT else None,
            last_assigned_at=last,
            skills=agent_skills.get(m.user_id, NO_SKILLS),
        )
        result[m.queue_id].append(Member(m.user, m.role, agent))
    return result


def _routing_states(queue_ids: list[int], now: datetime, today: date, skills: bool) -> dict[int, list[Member]]:
    """Routing's read (``users=False``): one query for the members, their stored open-ticket count
    (``tickets.workload``) and today's absence (correlated subqueries on the (user, dates) index), whatever the
    number of agents; each row becomes its ``Agent`` at once (every decision reads the whole team)."""
    rows = _team_rows(queue_ids, today)
    calendars = _calendars({row[4] for row in rows if row[4] is not None})
    agent_skills = _skills({row[1] for row in rows}) if skills else {}
    agent_role = QueueMembership.Role.AGENT
    result: dict[int, list[Member]] = defaultdict(list)
    for queue_id, user_id, role, capacity, calendar_id, away, last, open_n, absent, substitute in rows:
        agent = Agent(
            user_id,
            True if calendar_id is None else _calendar_on_shift(calendars.get(calendar_id), now),
            bool(away),
            bool(absent),  # EXISTS: True/False, or 1/0 on SQLite
            substitute if absent else None,
            open_n or 0,
            capacity if role == agent_role else None,
            _aware(last),
            agent_skills.get(user_id, NO_SKILLS),
        )
        result[queue_id].append(Member(None, role, agent))
    return result


def _skills(user_ids: set[int]) -> dict[int, dict[str, int]]:
    agent_skills: dict[int, dict[str, int]] = defaultdict(dict)
    for user_id, code, level in AgentSkill.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "skill__code", "level"
    ):
        agent_skills[user_id][code] = level
    return agent_skills


# The team query of a routing decision is the same statement every time but for the queue and the day: it is
# compiled once per process and database (building and compiling it cost three times what running it does) and
# run with the queue's id and today's date put in place of the placeholders it was compiled with.
_TEAM_COLUMNS = (
    "queue_id",
    "user_id",
    "role",
    "capacity",
    "user__profile__work_calendar_id",
    "user__profile__is_away",
    "user__workload__last_assigned_at",
    "open_n",
    "absent",
    "substitute",
)
_PLACEHOLDER_DAY = date(1900, 1, 1)
_compiled_team: dict[tuple[str, str, int], tuple[str, tuple]] = {}


def _team_query(queue_ids: list[int], today: date):
    absence = Absence.objects.filter(user_id=OuterRef("user_id"), starts_on__lte=today, ends_on__gte=today)
    return (
        QueueMembership.objects.filter(queue_id__in=queue_ids, user__is_active=True)
        .order_by("queue_id", "user_id")
        .annotate(
            open_n=F("user__workload__open_tickets"),
            absent=Exists(absence),
            # Looked up only for someone absent (CASE evaluates its branch only when its condition holds): one index
            # probe and sort per absent member instead of per member.
            substitute=Case(
                When(Exists(absence), then=Subquery(absence.order_by("-starts_on", "-pk").values("substitute_id")[:1]))
            ),
        )
        .values_list(*_TEAM_COLUMNS)
    )


def _team_rows(queue_ids: list[int], today: date, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """The rows of ``_team_query`` (raw values: SQLite gives booleans as 0/1 and datetimes as text)."""
    connection = connections[using]
    key = (using, connection.vendor, len(queue_ids))
    compiled = _compiled_team.get(key)
    if compiled is None:
        placeholders = [-1 - i for i in range(len(queue_ids))]  # ids no queue has
        sql, params = _team_query(placeholders, _PLACEHOLDER_DAY).query.get_compiler(using).as_sql()
        day = connection.ops.adapt_datefield_value(_PLACEHOLDER_DAY)
        slots = tuple(
            ("day", None) if p == day else ("queue", placeholders.index(p)) if p in placeholders else ("value", p)
            for p in params
        )
        if sum(kind == "day" for kind, _ in slots) != 6 or sum(kind == "queue" for kind, _ in slots) != len(queue_ids):
            raise RuntimeError("the team query's placeholders did not compile as expected")  # pragma: no cover
        compiled = _compiled_team[key] = (sql, slots)
    sql, slots = compiled
    day = connection.ops.adapt_datefield_value(today)
    params = [day if kind == "day" else queue_ids[value] if kind == "queue" else value for kind, value in slots]
    # Prepared on PostgreSQL: no partial index's condition among its values, so one plan serves every queue and day.
    with rowcache.cursor(connection, prepare=True) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _aware(value) -> datetime | None:
    """A datetime column read raw: PostgreSQL gives an aware datetime, SQLite UTC text."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _calendars(ids: set[int]) -> dict:
    """The agents' working calendars in one query (``Calendar.work_calendar`` caches each engine by version)."""
    if not ids:
        return {}
    return Calendar.objects.in_bulk(list(ids))
