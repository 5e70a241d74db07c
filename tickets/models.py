"""Tickets: customers, the things they ask about, queues, tickets, messages and history.

Models hold data and small derived properties only. Every write that matters
goes through ``tickets.services``; reads that pages share live in
``tickets.querysets`` and ``tickets.selectors``.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .querysets import TicketQuerySet


class BilingualName(models.Model):
    """A catalogue row with an English and a Russian name, shown in the viewer's language."""

    name = models.CharField(_("name (English)"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_ru and (get_language() or "").startswith("ru"):
            return self.name_ru
        return self.name


class Language(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")


# --- People -----------------------------------------------------------------


class Profile(models.Model):
    """Portal preferences and the reporting line of a user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Almaty")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.RU)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("direct manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="team_profiles",
    )
    work_calendar = models.ForeignKey(
        "sla.Calendar",
        verbose_name=_("working calendar"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("When this person is on shift; empty means always available."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
        if self.manager_id and self.manager_id == self.user_id:
            raise ValidationError({"manager": _("A user cannot be their own manager.")})


def display_name(user) -> str:
    """The name a person is shown under in the portal."""
    if user is None:
        return str(_("System"))
    profile = getattr(user, "profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


# --- Customers ----------------------------------------------------------------


class VipTier(models.Model):
    """A customer tier (Gold, Platinum, ...); a higher rank is more important."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("Higher is more important."))

    class Meta:
        ordering = ["-rank"]
        verbose_name = _("VIP tier")
        verbose_name_plural = _("VIP tiers")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.RU)
    vip_tier = models.ForeignKey(
        VipTier, verbose_name=_("VIP tier"), on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="customer_email_unique"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="customer_phone_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vip(self) -> bool:
        return self.vip_tier_id is not None


class RelatedObject(models.Model):
    """What a ticket is about, so the story does not break into separate messages."""

    class Kind(models.TextChoices):
        ORDER = "order", _("Order")
        DEAL = "deal", _("Deal")
        SITE = "site", _("Site")
        CONTRACT = "contract", _("Contract")
        DOCUMENT = "document", _("Document")
        APPLICATION = "application", _("Application")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    external_ref = models.CharField(_("external reference"), max_length=120)
    title = models.CharField(_("title"), max_length=200, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="related_objects",
    )

    class Meta:
        verbose_name = _("related object")
        verbose_name_plural = _("related objects")
        constraints = [models.UniqueConstraint(fields=["kind", "external_ref"], name="related_object_unique_ref")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_ref}"


# --- Catalogues ---------------------------------------------------------------


class Queue(BilingualName):
    slug = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("queue manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_queues",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="QueueMembership", related_name="queues", blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")


class QueueMembership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        DISPATCHER = "dispatcher", _("Dispatcher")

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("queue membership")
        verbose_name_plural = _("queue memberships")
        constraints = [models.UniqueConstraint(fields=["queue", "user", "role"], name="queue_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.queue} ({self.get_role_display()})"


class TicketType(BilingualName):
    slug = models.SlugField(_("code"), max_length=40, unique=True)
    default_queue = models.ForeignKey(
        Queue, verbose_name=_("default queue"), on_delete=models.SET_NULL, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")


class BlockingReason(BilingualName):
    """Why a ticket waits. Data, not comments: reports group delays by it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    waits_for_customer = models.BooleanField(
        _("waits for the customer"),
        default=False,
        help_text=_("A message from the customer puts the ticket back to work."),
    )
    pauses_resolution = models.BooleanField(
        _("pauses the resolution clock"),
        default=False,
        help_text=_("While a ticket waits for this reason, its SLA resolution clock stands still."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("blocking reason")
        verbose_name_plural = _("blocking reasons")


# --- Tickets ------------------------------------------------------------------


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for external action")
    ON_APPROVAL = "on_approval", _("On approval")
    DONE = "done", _("Done")
    CANCELED = "canceled", _("Canceled")


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ON_APPROVAL)
CLOSED_STATUSES = (Status.DONE, Status.CANCELED)


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    CRITICAL = 4, _("Critical")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    MESSENGER = "messenger", _("Messenger")
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Portal")


class Ticket(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets")
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
    )
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="performed_tickets",
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
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
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
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=Status.WAITING, blocking_reason__isnull=False)
                | (~Q(status=Status.WAITING) & Q(blocking_reason__isnull=True)),
                name="ticket_waiting_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.deadline is not None and self.deadline < timezone.now()


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
    intake_channel = models.ForeignKey(
        "IntakeChannel", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    external_id = models.CharField(_("external message id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["intake_channel", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("History is append-only.")

    def delete(self):
        raise TypeError("History is append-only.")


class TicketEvent(models.Model):
    """One immutable line of a ticket's history: who did what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, blank=True
    )
    kind = models.CharField(_("event"), max_length=60)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

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

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("History is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("History is append-only.")


# --- Intake channels --------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IntakeChannel(models.Model):
    """A gateway (email bridge, messenger bot, web form) that posts customer messages."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token hint"), max_length=12, editable=False, blank=True)
    default_queue = models.ForeignKey(Queue, verbose_name=_("default queue"), on_delete=models.PROTECT)
    default_type = models.ForeignKey(
        TicketType, verbose_name=_("default type"), on_delete=models.SET_NULL, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("intake channel")
        verbose_name_plural = _("intake channels")

    def __str__(self) -> str:
        return self.name

    def set_token(self, token: str | None = None) -> str:
        """Store a new token (only its hash) and return it in clear text once."""
        token = token or secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.token_hint = token[:6]
        return token
