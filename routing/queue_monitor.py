"""The live queue monitor (the queue order itself is ``routing.queue_order``).

``queue_stats(user)`` builds the monitor page in a constant number of queries
whatever the number of queues and agents; ``evaluate_alerts`` turns threshold
crossings into one notification per crossing (the crossing instant is stored
on the queue and cleared when the queue is back under its thresholds). Only the
``routing.queue_alerts`` schedule evaluates alerts: the monitor page is read-only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.formatting import format_duration
from notifications.service import notify
from routing.models import TicketSkip
from routing.queue_order import waiting
from routing.team import agent_states
from tickets import access
from tickets.models import Queue, QueueMembership, Status, Ticket

# --- Monitor ------------------------------------------------------------------------------------


@dataclass
class AgentLoad:
    user: object
    on_shift: bool
    away: bool
    absent: bool
    open_tickets: int
    capacity: int | None

    @property
    def available(self) -> bool:
        return self.on_shift and not self.away and not self.absent

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.open_tickets >= self.capacity


@dataclass
class QueueStats:
    queue: Queue
    waiting: int = 0
    average_wait: timedelta | None = None
    oldest_wait: timedelta | None = None
    closed_last_hour: int = 0
    agents: list[AgentLoad] = field(default_factory=list)
    dispatchers: list = field(default_factory=list)

    @property
    def on_shift(self) -> list[AgentLoad]:
        return [a for a in self.agents if a.available]

    @property
    def waiting_alert(self) -> bool:
        return self.queue.max_waiting is not None and self.waiting > self.queue.max_waiting

    @property
    def oldest_alert(self) -> bool:
        limit = self.queue.max_oldest_wait
        return limit is not None and self.oldest_wait is not None and self.oldest_wait > limit

    @property
    def alerts(self) -> list[str]:
        result = []
        if self.waiting_alert:
            result.append(
                str(
                    _("%(count)d waiting, over the limit of %(limit)d.")
                    % {"count": self.waiting, "limit": self.queue.max_waiting}
                )
            )
        if self.oldest_alert:
            result.append(
                str(
                    _("The oldest ticket waits longer than %(limit)s.")
                    % {"limit": format_duration(self.queue.max_oldest_wait)}
                )
            )
        return result


def monitored_queues(user) -> QuerySet:
    """The queues ``user`` watches: dispatchers their dispatched queues, managers and admins every active one."""
    queues = Queue.objects.filter(is_active=True)
    if access.roles_of(user) & {access.MANAGER, access.ADMIN} or access.sees_everything(user):
        return queues
    return queues.filter(
        pk__in=QueueMembership.objects.filter(user=user, role=QueueMembership.Role.DISPATCHER).values("queue_id")
    )


def queue_stats(queues: QuerySet | list[Queue], now: datetime | None = None) -> list[QueueStats]:
    """Live numbers of ``queues``; a constant number of queries (five, plus a calendar's first load)."""
    now = now or timezone.now()
    queues = list(queues)
    stats = {q.pk: QueueStats(queue=q) for q in queues}
    ids = list(stats)
    waits: dict[int, list[timedelta]] = defaultdict(list)
    for queue_id, since in waiting().filter(queue_id__in=ids).values_list("queue_id", "status_changed_at"):
        waits[queue_id].append(max(now - since, timedelta(0)))
    for queue_id, values in waits.items():
        s = stats[queue_id]
        s.waiting = len(values)
        s.oldest_wait = max(values)
        s.average_wait = sum(values, timedelta(0)) / len(values)
    hour_ago = now - timedelta(hours=1)
    closed = (
        Ticket.objects.filter(queue_id__in=ids)
        .filter(Q(status=Status.DONE, done_at__gte=hour_ago) | Q(status=Status.CANCELED, canceled_at__gte=hour_ago))
        .values("queue_id")
        .annotate(n=Count("pk"))
    )
    for row in closed:
        stats[row["queue_id"]].closed_last_hour = row["n"]
    for queue_id, members in agent_states(ids, now=now).items():
        for member in members:
            if member.role == QueueMembership.Role.DISPATCHER:
                stats[queue_id].dispatchers.append(member.user)
                continue
            a = member.agent
            stats[queue_id].agents.append(
                AgentLoad(member.user, a.on_shift, a.away, a.absent, a.open_tickets, a.capacity)
            )
    return [stats[q.pk] for q in queues]


def evaluate_alerts(all_stats: list[QueueStats], now: datetime | None = None) -> int:
    """Notify each queue's dispatchers once per threshold crossing; returns notifications sent.

    The crossing instant is stored on the queue by a conditional update (only one evaluator wins it) and
    cleared when the queue is back under the threshold, so the next crossing notifies again.
    """
    now = now or timezone.now()
    sent = 0
    for s in all_stats:
        q = s.queue
        for crossed, attr, title in (
            (
                s.waiting_alert,
                "alert_waiting_since",
                format_lazy(_("{queue}: {count} tickets waiting"), queue=q.label, count=s.waiting),
            ),
            (s.oldest_alert, "alert_oldest_since", format_lazy(_("{queue}: a ticket waits too long"), queue=q.label)),
        ):
            since = getattr(q, attr)
            if crossed and since is None:
                won = Queue.objects.filter(pk=q.pk, **{f"{attr}__isnull": True}).update(**{attr: now})
                setattr(q, attr, now)
                if not won:
                    continue
                body = " ".join(s.alerts)
                for user in s.dispatchers:
                    created = notify(
                        user,
                        kind="queue.threshold",
                        urgency="important",
                        title=title,
                        body=body,
                        url=_monitor_url(),
                        dedupe_key=f"queue-{q.pk}-{attr}-{now.isoformat()}",
                    )
                    sent += created is not None
            elif not crossed and since is not None:
                Queue.objects.filter(pk=q.pk).update(**{attr: None})
                setattr(q, attr, None)
    return sent


def _monitor_url() -> str:
    return reverse("tickets:queue_monitor")


def evaluate_all_alerts(now: datetime | None = None) -> int:
    """The scheduled check over every active queue with a threshold."""
    queues = Queue.objects.filter(is_active=True).filter(
        Q(max_waiting__isnull=False)
        | Q(max_oldest_wait__isnull=False)
        | Q(alert_waiting_since__isnull=False)
        | Q(alert_oldest_since__isnull=False)
    )
    return evaluate_alerts(queue_stats(queues, now=now), now=now)


def evaluate_alerts_task() -> int:
    return evaluate_all_alerts()


def skip_summary(queues: list[Queue], *, days: int = 30, now: datetime | None = None, limit: int = 20) -> list[dict]:
    """Who skips what in pull queues over the last ``days``: per agent and queue, count and latest reasons."""
    now = now or timezone.now()
    rows = (
        TicketSkip.objects.filter(queue__in=queues, created_at__gte=now - timedelta(days=days))
        .select_related("user__profile", "queue", "ticket")
        .order_by("-created_at", "-pk")[:500]
    )
    summary: dict[tuple[int, int], dict] = {}
    for skip in rows:
        entry = summary.setdefault(
            (skip.user_id, skip.queue_id), {"user": skip.user, "queue": skip.queue, "count": 0, "latest": []}
        )
        entry["count"] += 1
        if len(entry["latest"]) < 3:
            entry["latest"].append(skip)
    return sorted(summary.values(), key=lambda e: -e["count"])[:limit]
