"""The task force at work: members joining and leaving, status updates on the cadence, the action plan.

A public update is also a public reply on every affected ticket; a task of the plan is an ordinary
ticket for its performer, linked to the case with the role *task*.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.people import user_ref as _ref
from escalations.cases.common import (
    affected_links,
    cadence_for,
    case_title,
    check_person,
    notify_people,
    participant,
    record,
    require,
)
from escalations.cases.opening import add_member, link_ticket
from escalations.models import CaseEvent, CaseMember, CaseStatus, CaseTicket, CaseUpdate, EscalationCase
from notifications.models import Urgency
from tickets import access as ticket_access
from tickets import services as ticket_services
from tickets.models import Queue, Status, Ticket, display_name

# --- Members ---------------------------------------------------------------------------------------


@transaction.atomic
def case_add_member(case: EscalationCase, *, user, actor) -> EscalationCase:
    """Add a person to the task force; they are told."""
    participant(case, actor)
    require(user.pk != case.owner_id, _("The owner leads the case already."))
    require(add_member(case, user, actor=actor), _("This person is already a member."))
    membership = CaseMember.objects.get(case=case, user=user)
    notify_people([user], case, kind="case.member_added", key=f"member:{membership.pk}",
                  actor=actor, urgency=Urgency.IMPORTANT,
                  title=case_title(case, gettext_lazy("You joined escalation case {reference}: {title}")),
                  body=format_lazy(gettext_lazy("{who} added you to the task force."), who=display_name(actor)))
    return case


@transaction.atomic
def case_remove_member(case: EscalationCase, *, user, actor) -> EscalationCase:
    participant(case, actor)
    deleted, _rows = CaseMember.objects.filter(case=case, user=user).delete()
    require(bool(deleted), _("This person is not a member."))
    record(case, "case.member_removed", actor, member=_ref(user))
    return case


# --- Communication -----------------------------------------------------------------------------------------


@transaction.atomic
def case_post_update(case: EscalationCase, *, actor, body: str, public: bool, token: str,
                     now: datetime | None = None) -> CaseUpdate:
    """Post a status update once per ``token``; a repeated token returns the update already posted.

    Members and the owner are notified; a public update is also a public reply on every affected
    linked ticket that is not canceled (``counts_as_response=True``: it is a real answer to the
    customer) and on which the author may reply (``tickets.access.can_work``). The others are skipped,
    never half-done: the update is posted whole, ``update.skipped`` lists the ids of the tickets it did
    not reach and the timeline says how many. The next update falls due one cadence later.
    """
    body = (body or "").strip()
    require(bool(body), _("The update is empty."))
    token = (token or "").strip()[:64]
    require(bool(token), _("The form expired: reload the page and post again."))
    participant(case, actor)
    existing = CaseUpdate.objects.filter(case=case, token=token).first()
    if existing is not None:
        posted = CaseEvent.objects.filter(case=case, kind="case.update_posted", data__update=existing.pk).first()
        existing.skipped = list((posted.data if posted else {}).get("skipped_tickets") or [])
        return existing
    require(case.status == CaseStatus.OPEN, _("Updates are posted while the case is open."))
    now = now or timezone.now()
    late = case.next_update_due is not None and now > case.next_update_due
    update = CaseUpdate.objects.create(case=case, author=actor, body=body, public=public, token=token, late=late,
                                       created_at=now)
    replies, skipped = 0, []
    if public:
        for link in affected_links(case):
            if link.ticket.status == Status.CANCELED:
                continue
            if not ticket_access.can_work(actor, link.ticket):  # only who may reply reaches the customer
                skipped.append(link.ticket_id)
                continue
            ticket_services.ticket_reply(link.ticket, body=body, actor=actor, counts_as_response=True)
            replies += 1
        update.replies = replies
        update.save(update_fields=["replies"])
    update.skipped = skipped
    previous_due = case.next_update_due
    case.next_update_due = now + cadence_for(case.severity).update_every
    fields = ["next_update_due"]
    if case.first_update_at is None:
        case.first_update_at = now
        fields.append("first_update_at")
    case.save(update_fields=fields)
    record(case, "case.update_posted", actor, at=now, update=update.pk, public=public, late=late, replies=replies,
           skipped=len(skipped), skipped_tickets=skipped,
           previous_due=previous_due.isoformat() if previous_due else None, next_due=case.next_update_due.isoformat())
    people = [case.owner] + [m.user for m in CaseMember.objects.filter(case=case).select_related("user")]
    notify_people(people, case, kind="case.update", key=f"update:{update.pk}", actor=actor,
                  title=case_title(case, gettext_lazy("Update on {reference}: {title}")), body=body)
    return update


# --- The action plan -----------------------------------------------------------------------------------------


@transaction.atomic
def case_add_task(case: EscalationCase, *, actor, title: str, queue: Queue, performer, due: datetime,
                  description: str = "") -> Ticket:
    """A task of the plan: an ordinary ticket (SLA, "My work") for ``performer`` due at ``due``."""
    participant(case, actor)
    require(case.status == CaseStatus.OPEN, _("Tasks are planned while the case is open."))
    require(bool((title or "").strip()), _("A task needs a title."))
    ticket_services.check_date_in_range(due)
    require(due is not None and due > timezone.now(), _("The due time must be in the future."))
    check_person(performer)
    customer = case.customers.order_by("pk").first()
    require(customer is not None, _("Link an affected customer or ticket before planning tasks."))
    text = _("Task of escalation case %(reference)s “%(title)s”.") % {"reference": case.reference,
                                                                      "title": case.title}
    task = ticket_services.ticket_create(
        actor=actor, title=title.strip(), customer=customer, queue=queue, performer=performer, deadline=due,
        description="",
    )
    ticket_services.ticket_add_note(task, body=f"{text}\n{description}".strip(), actor=actor)
    link_ticket(case, task, role=CaseTicket.Role.TASK, actor=actor)
    record(case, "case.task_added", actor, ticket=task.pk, title=task.title, performer=_ref(performer),
           due=due.isoformat())
    return task


def plan(case: EscalationCase) -> list[Ticket]:
    return [link.ticket for link in CaseTicket.objects.filter(case=case, role=CaseTicket.Role.TASK)
            .select_related("ticket__performer__profile", "ticket__queue")]
