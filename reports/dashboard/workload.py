"""The dashboard's workload: open now, taken and done in the period, per person and per queue."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from reports.dashboard.common import bilingual, period_params, ticket_list_url, ticket_records
from reports.dashboard.now import OpenGroup, open_per, open_tickets
from reports.dashboard.scoping import in_scope, scope
from reports.models import TicketFact
from reports.selectors import Period
from tickets.models import Queue, Status, TicketEvent


def workload(user, period: Period, groups: list[OpenGroup] | None = None) -> dict:
    """Per person: open now, taken (assigned to them) and done in the period; per queue: open, created, done.

    The open work comes from ``reports.dashboard.now.open_tickets`` (``groups`` when the caller has read it).
    """
    tickets = scope(user)
    params = period_params(period)
    if groups is None:
        groups = open_tickets(user, timezone.now())
    open_by_person = {pk: n for pk, n in open_per(groups, "performer_id").items() if pk is not None}
    done_in = tickets.filter(Q(status=Status.DONE, done_at__gte=period.start, done_at__lt=period.end))
    records = ticket_records(user, period)
    if records is not None:
        done_by_person = records.count("performer_id", TicketFact.Kind.DONE)
        taken = records.count("person_id", TicketFact.Kind.TAKEN)
    else:
        done_by_person = dict(
            done_in.filter(performer__isnull=False).values_list("performer_id").annotate(n=Count("pk")).order_by()
        )
        taken = dict(
            in_scope(
                TicketEvent.objects.filter(
                    kind="ticket.assigned", created_at__gte=period.start, created_at__lt=period.end
                ),
                user,
            )
            .values_list("data__performer__id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    done_by_person = {pk: n for pk, n in done_by_person.items() if pk is not None}
    taken = {int(k): v for k, v in taken.items() if k is not None}
    person_ids = set(open_by_person) | set(done_by_person) | set(taken)
    names = {
        u.pk: (u.profile.display_name if hasattr(u, "profile") and u.profile.display_name else u.get_username())
        for u in get_user_model().objects.filter(pk__in=person_ids).select_related("profile")
    }
    people = sorted(
        (
            {
                "name": names.get(pk, str(pk)),
                "open": open_by_person.get(pk, 0),
                "taken": taken.get(pk, 0),
                "done": done_by_person.get(pk, 0),
                "open_url": ticket_list_url(open=True, performer=pk),
                "done_url": ticket_list_url(done_in_period=True, performer=pk, **params),
            }
            for pk in person_ids
        ),
        key=lambda r: (-r["open"], r["name"]),
    )
    counts: dict[str, dict] = {
        "open": open_per(groups, "queue_id"),
    }
    if records is not None:
        counts["created"] = records.count("queue_id", TicketFact.Kind.CREATED)
        counts["done"] = records.count("queue_id", TicketFact.Kind.DONE)
    else:
        counts["created"] = dict(
            tickets.filter(created_at__gte=period.start, created_at__lt=period.end)
            .values_list("queue_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts["done"] = dict(done_in.values_list("queue_id").annotate(n=Count("pk")).order_by())
    queue_names = Queue.objects.in_bulk({pk for found in counts.values() for pk in found if pk is not None})
    per_queue: dict = {}
    for label, found in counts.items():
        for queue_id, n in found.items():
            queue = queue_names.get(queue_id)
            if queue is None or not n:
                continue
            entry = per_queue.setdefault(
                queue_id,
                {
                    "name": bilingual(queue.name, queue.name_ru),
                    "open": 0,
                    "created": 0,
                    "done": 0,
                    "open_url": ticket_list_url(open=True, queue=queue_id),
                    "created_url": ticket_list_url(created_in_period=True, queue=queue_id, **params),
                    "done_url": ticket_list_url(done_in_period=True, queue=queue_id, **params),
                },
            )
            entry[label] = n
    queues = sorted(per_queue.values(), key=lambda r: (-r["open"], r["name"]))
    return {"people": people, "queues": queues}
