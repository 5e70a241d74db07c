"""Tickets, their messages, their append-only history (``TicketEvent``) and their waiting segments."""

from __future__ import annotations

import functools
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fastinsert
from tickets.choices import (  # noqa: F401 (re-exported)
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Channel,
    Priority,
    Status,
    TicketKind,
)
from tickets.models.base import AppendOnlyModel
from tickets.models.catalogue import BlockingReason, Customer, Queue, RelatedObject, TicketType
from tickets.querysets import TicketQuerySet


def closed_rank() -> models.Case:
    """0 for an open ticket, 1 for a closed one: a customer's tickets are listed open first, then the newest
    (``portal.customer_selectors.open_first``), read off the index ``ticket_customer_open_first``."""
    return models.Case(
        models.When(status__in=OPEN_STATUSES, then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )


# ``Ticket.vip_queue_priority`` of a customer without a tier: below every tier's (``VipTier.queue_priority`` >= 0).
NO_TIER_PRIORITY = -1


class Ticket(models.Model):
    """A customer's request, or an internal task (``kind``): work with an owner, a deadline, a status and an SLA.

    An internal task has a requester inside the company (``requester_user`` and/or ``requester_queue``,
    the department) instead of a customer; its ``customer`` is the one internal record
    (``Customer.is_internal``), so every reader of ``ticket.customer`` keeps working, no customer's
    history lists it and no VIP tier applies. It is never delivered: public replies are refused.
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TicketKind.choices, default=TicketKind.CUSTOMER)
    # No index of its own (nor performer's and owner's): (customer, status) and the others below lead with it, and
    # every index of this table is written again for each new version of a row.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_tasks",
    )
    requester_queue = models.ForeignKey(
        Queue,
        verbose_name=_("requesting department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_tasks",
    )
    follow_up_of = models.ForeignKey(
        "self",
        verbose_name=_("root-cause review of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
        help_text=_("Set by a merge (tickets.merge): this ticket is closed and its conversation lives there."),
    )
    related_object = models.ForeignKey(
        RelatedObject,
        verbose_name=_("related object"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="tickets")
    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PORTAL)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    blocking_reason = models.ForeignKey(
        BlockingReason,
        verbose_name=_("blocking reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of the result"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_tickets",
        db_index=False,  # (…, status) below leads with it
    )
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="performed_tickets",
        db_index=False,  # (…, status) below leads with it
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approved_tickets",
    )
    observers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("observers"), blank=True, related_name="observed_tickets"
    )
    # The deadline in force (docs/sla.md): the SLA resolution due, kept up to date by the SLA, until a person
    # sets it (a deadline on creation, a deferral decision, an admin override); then the set value holds.
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_set_by_person = models.BooleanField(
        _("deadline set by a person"),
        default=False,
        help_text=_("Off: the deadline follows the SLA resolution due. On: a person set it and it holds."),
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateTimeField(_("next step due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    first_public_reply_at = models.DateTimeField(_("first public reply"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled"), null=True, blank=True)
    # The earliest due instant of the ticket's running SLA clocks (first response, resolution, next reply): the
    # queue order's "time left to the SLA breach" (routing.queue_order). Written by the SLA alone
    # (sla.clocks.store_next_due, on every clock change and calendar re-projection), never by a ticket save (see
    # save()): the intake board sorts its waiting tickets on this column instead of a subquery per ticket.
    sla_next_due = models.DateTimeField(_("next SLA due"), null=True, blank=True, editable=False)
    # The customer's VIP tier queue priority (``VipTier.queue_priority``; ``NO_TIER_PRIORITY``, below every tier's,
    # without a tier), the first key of the queue order (routing.queue_order). A copy kept by
    # ``tickets.queue_priority`` alone (when the ticket is created, and whenever a customer's tier or a tier's
    # priority changes), never by a ticket save (see save()): with it and ``sla_next_due`` on the row, the index
    # ``ticket_queue_order`` hands the intake board its first page instead of a sort of every waiting ticket
    # joined to its customer and tier. Never NULL: SQLite cannot build an index whose NULLs sort last. The default
    # is the database's too, for rows written by SQL alone (the benchmarks' seeding).
    vip_queue_priority = models.SmallIntegerField(
        _("VIP queue priority"), default=NO_TIER_PRIORITY, db_default=NO_TIER_PRIORITY, editable=False
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            ("assign_ticket", _("Can assign tickets")),
            ("set_deadline", _("Can set the deadline of a new ticket")),
            ("override_deadline", _("Can override the deadline of an existing ticket")),
            ("view_all_tickets", _("Can view every ticket")),
        ]
        indexes = [
            models.Index(fields=["status", "queue"], name="ticket_status_queue"),
            models.Index(fields=["performer", "status"], name="ticket_performer_status"),
            models.Index(fields=["owner", "status"], name="ticket_owner_status"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status"),
            models.Index(fields=["deadline"], name="ticket_deadline"),
            # My work's order (deadline) over the open tickets alone: PostgreSQL walks it for one person's open tickets
            # and stops after the page, instead of walking every ticket's deadline past the closed ones (20,000 rows
            # for 25 at 1,000,000 tickets). SQLite does not match a partial index against bound parameters.
            models.Index(fields=["deadline"], condition=Q(status__in=OPEN_STATUSES), name="ticket_open_deadline"),
            # A customer's tickets open first, then the newest (the ticket page's "other tickets", the customer page):
            # PostgreSQL reads the first ten off this index instead of sorting all of them (8 -> 0.2 ms for a customer
            # with 2,000 tickets). The query must rank with the same expression (``closed_rank``).
            models.Index(
                F("customer"), closed_rank(), F("created_at").desc(), F("id").desc(), name="ticket_customer_open_first"
            ),
            # The ticket list's default order (newest change first): the page is read off the index.
            models.Index(fields=["updated_at"], name="ticket_updated"),
            # The intake board's candidates (open, and nobody performs them or still new: the condition
            # portal.selectors writes) with the visibility and queue-order columns they are tested and sorted on:
            # PostgreSQL reads them off this small index alone (an index-only scan) instead of visiting one heap
            # page per waiting ticket. SQLite does not match a partial index against bound parameters.
            models.Index(
                fields=[
                    "queue", "status", "performer", "priority", "created_at", "customer", "owner", "approver",
                    "sla_next_due", "vip_queue_priority", "id",
                ],
                condition=Q(status__in=OPEN_STATUSES) & (Q(performer__isnull=True) | Q(status=Status.NEW)),
                name="ticket_waiting",
            ),
            # The queue order over all waiting tickets (the intake board of those who see every queue): its first
            # page is read off this index, whatever the number of waiting tickets.
            models.Index(
                F("vip_queue_priority").desc(),
                F("sla_next_due").asc(),  # NULLs last on PostgreSQL, as the queue order sorts them
                F("priority").desc(),
                F("created_at").asc(),
                F("id").asc(),
                condition=Q(status__in=OPEN_STATUSES) & (Q(performer__isnull=True) | Q(status=Status.NEW)),
                name="ticket_queue_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=Status.WAITING, blocking_reason__isnull=False)
                | (~Q(status=Status.WAITING) & Q(blocking_reason__isnull=True)),
                name="ticket_waiting_has_reason",
            ),
            # A customer ticket has no internal requester; an internal task has at least one (a person or a
            # department). A requester deleted later leaves the task as it is (SET_NULL), hence no NOT NULL.
            models.CheckConstraint(
                condition=Q(kind="internal") | Q(requester_user__isnull=True, requester_queue__isnull=True),
                name="ticket_requester_only_internal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @fastinsert.plain_for_new_rows  # a new ticket is saved as Django saves it
    @fastinsert.plain_for_update_fields  # and so are the fields a service names
    def save(self, *args, **kwargs):
        """A full save of a stored ticket writes every field but ``sla_next_due`` and ``vip_queue_priority``: those
        columns belong to the SLA and to the customers' tiers, which update them in the database while a service
        may hold this instance with an older value."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()  # as Django's own full save: the loaded fields only
            kwargs["update_fields"] = [name for name in _saved_fields() if name not in deferred]
        super().save(*args, **kwargs)

    @property
    def reference(self) -> str:
        return f"#{self.pk}"

    @property
    def is_internal(self) -> bool:
        return self.kind == TicketKind.INTERNAL

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """The deadline in force has passed (``TicketQuerySet.overdue`` says the same in SQL)."""
        return self.is_open and self.deadline is not None and self.deadline < timezone.now()

    @property
    def deadline_on_hold(self) -> bool:
        """Nobody set the deadline and the SLA's resolution clock waits: there is no deadline until it runs."""
        return self.deadline is None and not self.deadline_set_by_person and self.status == Status.WAITING

    @property
    def is_next_step_overdue(self) -> bool:
        """The next step was due and the ticket is still open (``TicketQuerySet.next_step_overdue``)."""
        return (self.is_open and bool(self.next_step) and self.next_step_due is not None
                and self.next_step_due < timezone.now())


class DeliveryStatus(models.TextChoices):
    """Where a public message stands on its way to the customer; blank for inbound messages and notes."""

    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a random name: the customer's file name never reaches the file system."""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Message(models.Model):
    class Kind(models.TextChoices):
        INBOUND = "inbound", _("Customer message")
        PUBLIC_REPLY = "reply", _("Public reply")
        INTERNAL_NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PORTAL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, blank=True
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.SET_NULL, null=True, blank=True)
    body = models.TextField(_("text"))
    delivery_status = models.CharField(
        _("delivery"),
        max_length=10,
        choices=DeliveryStatus.choices,
        blank=True,
        help_text=_("Public messages only: whether the customer has received it (docs/channels.md)."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivery_error = models.TextField(_("delivery error"), blank=True)
    mail_message_id = models.CharField(
        _("email Message-ID"),
        max_length=255,
        blank=True,
        help_text=_("The RFC 5322 Message-ID of this message as an email, sent or received; threads replies."),
    )
    intake_channel = models.ForeignKey(
        "IntakeChannel", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    external_id = models.CharField(_("external message id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            models.Index(fields=["mail_message_id"], condition=~Q(mail_message_id=""), name="message_mail_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["intake_channel", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"


class Attachment(models.Model):
    """One file on a message: uploaded in the portal, received through the intake API or a mailbox.

    Written only through ``tickets.attachments.attach`` (limits, types, sizes); served only to users
    who can see the ticket (``GET /attachments/<id>/``).
    """

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size, bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_id = models.CharField(
        _("content ID"), max_length=255, blank=True, help_text=_("For images shown inline in an email body.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Shown inline as a preview on the ticket page (never SVG: it can carry script)."""


class TicketEvent(AppendOnlyModel):
    """One immutable line of a ticket's history: who did what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, blank=True
    )
    kind = models.CharField(_("event"), max_length=60)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class WaitSegment(models.Model):
    """A stretch of "waiting for external action" for one blocking reason (``tickets.waits``).

    Opened when a ticket enters waiting and closed when it leaves it or its blocking reason
    changes, by the ticket lifecycle service. Its business time is measured once, at closing, on
    the calendar of the ticket's resolution clock (calendar time for a ticket without SLA), so the
    delay report sums a stored column instead of re-measuring history.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="wait_segments")
    reason = models.ForeignKey(
        BlockingReason, verbose_name=_("blocking reason"), on_delete=models.PROTECT, related_name="+"
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    business_seconds = models.FloatField(_("business time (s)"), null=True, blank=True)

    class Meta:
        db_table = "reports_waitsegment"  # moved from reports with its rows
        ordering = ["started_at", "id"]
        verbose_name = _("waiting segment")
        verbose_name_plural = _("waiting segments")
        indexes = [
            models.Index(fields=["ended_at", "reason"], name="wait_ended_reason"),
            models.Index(fields=["ticket", "started_at"], name="wait_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(ended_at__isnull=True), name="wait_one_open"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.reason_id} {self.started_at:%Y-%m-%d %H:%M}"


@functools.cache
def _saved_fields() -> tuple[str, ...]:
    """What a full save of a stored ticket writes: every concrete field but the key and the copies kept elsewhere."""
    return tuple(
        f.attname
        for f in Ticket._meta.concrete_fields
        if not f.primary_key and f.name not in ("sla_next_due", "vip_queue_priority")
    )
