"""Demo deadline deferrals (an ``opsdesk.demo.DEMO_SEEDERS`` hook).

A few open tickets get a deferral request from their performer through the real services: three stay
pending on the managers' desks (``/deferrals/``), three are decided, two objective and one subjective,
so the approvals screen, the ticket history, the deadline clock and the discipline report have
something to show on a fresh demo. Idempotent: nothing is added once any deferral request exists.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from deferrals.models import DeferralCause, DeferralRequest
from deferrals.services import deferral_decide, deferral_request
from tickets.models import OPEN_STATUSES, Ticket
from tickets.services import TicketError

# What happens to each request, in order: left pending, or decided with this verdict.
PLAN = ("pending", "pending", "pending", "objective", "objective", "subjective")
EXPLANATIONS = {
    "en": (
        "The part we ordered arrives two days later than the supplier promised.",
        "The customer has not sent the access details we asked for yesterday.",
        "I took over the urgent outage on the other queue and could not finish this one.",
    ),
    "ru": (
        "Заказанная деталь придёт на два дня позже, чем обещал поставщик.",
        "Клиент не прислал доступы, которые мы запросили вчера.",
        "Я переключился на срочную аварию в другой очереди и не успел закончить эту заявку.",
    ),
}
COMMENTS = {
    "objective": {"en": "Agreed: outside your control.", "ru": "Согласен: от вас это не зависело."},
    "subjective": {"en": "Plan your day so this does not repeat.",
                   "ru": "Планируйте день так, чтобы это не повторялось."},
}


def _language(user) -> str:
    profile = getattr(user, "profile", None)
    return "ru" if getattr(profile, "language", "") == "ru" else "en"


def seed_demo_deferrals(ctx=None) -> int:
    """Open the demo's deferral requests (and decide some); returns how many were opened."""
    if DeferralRequest.objects.exists():
        return 0
    causes = list(DeferralCause.objects.filter(is_active=True).order_by("position", "pk"))
    if not causes:
        return 0
    now = timezone.now()
    candidates = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, performer__isnull=False, deadline__isnull=False)
        .select_related("performer__profile", "ticket_type")
        .order_by("pk")
    )
    opened = 0
    for ticket in candidates.iterator(chunk_size=200):
        if opened == len(PLAN):
            break
        step, language = PLAN[opened], _language(ticket.performer)
        proposed = max(ticket.deadline, now) + timedelta(days=2)
        try:
            with transaction.atomic():
                deferral = deferral_request(
                    ticket, actor=ticket.performer, cause=causes[opened % len(causes)],
                    explanation=EXPLANATIONS[language][opened % 3], proposed_deadline=proposed,
                )
                if step != "pending":
                    deferral_decide(deferral, actor=deferral.addressed_to, verdict=step, new_deadline=proposed,
                                    comment=COMMENTS[step][_language(deferral.addressed_to)])
        except TicketError:
            continue  # no manager to ask, type without deferral…: the next ticket
        opened += 1
    return opened
