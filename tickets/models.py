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

from tickets.choices import CLOSED_STATUSES, OPEN_STATUSES, Channel, MembershipRole, Priority, Status  # noqa: F401 (re-exported)
from tickets.querysets import TicketQuerySet


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
    # Routing (routing.assignment): an agent marked away receives no work; the last automatic assignment
    # tells least-loaded routing who has been idle longest.
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Marked away: routing gives this person no new tickets.")
    )
    last_assigned_at = models.DateTimeField(_("last routed a ticket"), null=True, blank=True, editable=False)

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
    # VIP (routing.vip, routing.assignment) ---------------------------------------------------
    queue_priority = models.PositiveSmallIntegerField(
        _("queue priority"), default=0, help_text=_("Tickets of this tier come first in the queue; higher first.")
    )
    account_manager_direct = models.BooleanField(
        _("tickets go to the account manager"),
        default=False,
        help_text=_("New tickets go straight to the customer's account manager (to the queue when they are away)."),
    )
    escalate_on_threat = models.BooleanField(
        _("escalate on threat of breach"), default=False, help_text=_("Escalate before the breach, not at it.")
    )
    downgrade_grace_days = models.PositiveSmallIntegerField(
        _("downgrade grace (days)"),
        default=30,
        help_text=_("A customer who no longer qualifies keeps this tier for so many days before losing it."),
    )

    class Meta:
        ordering = ["-rank"]
        verbose_name = _("VIP tier")
        verbose_name_plural = _("VIP tiers")

    def __str__(self) -> str:
        return self.name


class TierSource(models.TextChoices):
    NONE = "", _("none")
    RULES = "rules", _("rules")
    MANUAL = "manual", _("manual")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.RU)
    vip_tier = models.ForeignKey(
        VipTier, verbose_name=_("VIP tier"), on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # VIP (routing.vip) ------------------------------------------------------------------------
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
    )
    strategic_partner = models.BooleanField(_("strategic partner"), default=False)
    premium_contract_until = models.DateField(_("premium contract until"), null=True, blank=True)
    manual_tier = models.ForeignKey(
        VipTier,
        verbose_name=_("manual tier"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Overrides the rules until the date below (empty date: until removed)."),
    )
    manual_tier_until = models.DateField(_("manual tier until"), null=True, blank=True)
    tier_source = models.CharField(_("tier source"), max_length=10, choices=TierSource.choices, blank=True,
                                   editable=False)
    tier_below_since = models.DateField(
        _("no longer qualifies since"), null=True, blank=True, editable=False,
        help_text=_("Start of the downgrade grace period."),
    )

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


class RoutingStrategy(models.TextChoices):
    MANUAL = "manual", _("Manual (dispatchers assign)")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("By skills")
    PULL = "pull", _("Pull (agents take the next ticket)")
    HYBRID = "hybrid", _("Hybrid (skills, then load)")


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
    # Routing (routing.strategies, routing.assignment, routing.queue_monitor) -----------------------
    strategy = models.CharField(
        _("routing strategy"), max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.MANUAL
    )
    routing_cursor = models.PositiveIntegerField(
        _("round-robin cursor"), null=True, blank=True, editable=False, help_text=_("The agent served last.")
    )
    max_waiting = models.PositiveIntegerField(
        _("alert above waiting"), null=True, blank=True, help_text=_("Dispatchers are told when more tickets wait.")
    )
    max_oldest_wait = models.DurationField(
        _("alert above oldest wait"), null=True, blank=True,
        help_text=_("Dispatchers are told when a ticket waits longer, e.g. 0:30:00."),
    )
    alert_waiting_since = models.DateTimeField(null=True, blank=True, editable=False)
    alert_oldest_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")


class QueueMembership(models.Model):
    Role = MembershipRole

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Most open tickets this agent performs; empty: no limit.")
    )

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
    deferral_enabled = models.BooleanField(
        _("deadline deferral"),
        default=True,
        help_text=_("Performers may ask their manager to move the deadline of tickets of this type."),
    )
    deferral_auto_start = models.BooleanField(
        _("start deferral automatically"),
        default=False,
        help_text=_("When the deadline passes on an open ticket, a deferral request is opened for the manager."),
    )

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


class AppendOnlyModel(models.Model):
    """A history row: written once, never updated or deleted (model, queryset and admin all refuse)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("History is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("History is append-only.")


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


# --- Deadline deferrals ------------------------------------------------------------------
# The workflow lives in ``deferrals.services``; see docs/deferrals.md.


class DeferralCause(BilingualName):
    """Why a performer asks for more time: a catalogue so reports can group by it ("other" always exists)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("deferral cause")
        verbose_name_plural = _("deferral causes")


class Absence(models.Model):
    """A person is away for a range of dates (both inclusive); the substitute decides for them meanwhile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who is away"), on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("first day away"))
    ends_on = models.DateField(_("last day away"))
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("substitute"),
        on_delete=models.CASCADE,
        related_name="substitutions",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"], name="absence_user_dates")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"),
            models.CheckConstraint(condition=~Q(substitute=models.F("user")), name="absence_substitute_not_self"),
        ]

    def __str__(self) -> str:
        return f"{display_name(self.user)}: {self.starts_on} – {self.ends_on}"

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day cannot be before the first day.")
        if self.user_id and self.substitute_id and self.user_id == self.substitute_id:
            errors["substitute"] = _("A person cannot substitute for themselves.")
        if errors:
            raise ValidationError(errors)


class DeferralQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Decisions are final: a bulk update only ever touches requests that are still pending.
        return models.QuerySet.update(self.filter(status=DeferralRequest.Status.PENDING), **kwargs)

    def pending(self):
        return self.filter(status=DeferralRequest.Status.PENDING)

    def decided(self):
        return self.exclude(status=DeferralRequest.Status.PENDING)


class DeferralRequest(models.Model):
    """A performer asks the manager to move a ticket's deadline; the manager rules objective or subjective."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        OBJECTIVE = "objective", _("Objective")
        SUBJECTIVE = "subjective", _("Subjective")
        DECLINED = "declined", _("Declined")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="deferrals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="deferral_requests",
    )
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("addressed to"),
        on_delete=models.PROTECT,
        related_name="deferrals_to_decide",
    )
    automatic = models.BooleanField(_("started automatically"), default=False)
    cause = models.ForeignKey(
        DeferralCause, verbose_name=_("cause"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explanation = models.TextField(_("explanation"), blank=True)
    old_deadline = models.DateTimeField(_("deadline when requested"))
    proposed_deadline = models.DateTimeField(_("proposed deadline"), null=True, blank=True)
    status = models.CharField(_("decision"), max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deferrals_decided",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    new_deadline = models.DateTimeField(_("new deadline"), null=True, blank=True)
    comment = models.TextField(_("manager's comment"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)

    objects = DeferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deferral request")
        verbose_name_plural = _("deferral requests")
        indexes = [
            models.Index(fields=["addressed_to", "status"], name="deferral_addressed_status"),
            models.Index(fields=["requested_by", "decided_at"], name="deferral_requester_decided"),
            models.Index(fields=["status", "decided_at"], name="deferral_status_decided"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="deferral_one_pending_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["ticket", "old_deadline"], condition=Q(automatic=True), name="deferral_automatic_once"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True,
                            new_deadline__isnull=True)
                | Q(status="declined", decided_by__isnull=False, decided_at__isnull=False, new_deadline__isnull=True)
                | Q(status__in=["objective", "subjective"], decided_by__isnull=False, decided_at__isnull=False,
                    new_deadline__isnull=False),
                name="deferral_decision_complete",
            ),
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("requested_by")), name="deferral_not_self_decided"
            ),
        ]

    def __str__(self) -> str:
        return _("Deferral of %(ticket)s (%(status)s)") % {"ticket": self.ticket.reference if self.ticket_id else "—",
                                                             "status": self.get_status_display()}

    def save(self, *args, **kwargs):
        decided = DeferralRequest.objects.filter(pk=self.pk).exclude(status=self.Status.PENDING)
        if not self._state.adding and self.pk is not None and decided.exists():
            raise TypeError("A decided deferral request is final.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.Status.PENDING:
            raise TypeError("A decided deferral request is final.")
        return super().delete(*args, **kwargs)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_granted(self) -> bool:
        return self.status in (self.Status.OBJECTIVE, self.Status.SUBJECTIVE)


# --- Routing and VIP ------------------------------------------------------------------------------
# Strategy choice: ``routing.strategies`` (pure); applied by ``routing.assignment``; VIP tiers by ``routing.vip``.
# See docs/routing.md.


class Skill(BilingualName):
    """A competence tickets may require and agents have at a level (1 = basic … 5 = expert)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")


SKILL_LEVELS = [(n, str(n)) for n in range(1, 6)]


class AgentSkill(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="skills"
    )
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.CASCADE, related_name="agents")
    level = models.PositiveSmallIntegerField(_("level"), choices=SKILL_LEVELS, default=1)

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [models.UniqueConstraint(fields=["user", "skill"], name="agent_skill_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill} {self.level}"


class TicketTypeSkill(models.Model):
    """A skill (at a minimum level) a ticket of this type needs."""

    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, related_name="required_skills")
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.CASCADE, related_name="+")
    min_level = models.PositiveSmallIntegerField(_("minimum level"), choices=SKILL_LEVELS, default=1)

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        constraints = [models.UniqueConstraint(fields=["ticket_type", "skill"], name="ticket_type_skill_once")]

    def __str__(self) -> str:
        return f"{self.ticket_type} ← {self.skill} ≥ {self.min_level}"


class TicketSkip(models.Model):
    """An agent in a pull queue passed over the ticket offered to them, and said why."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="skips")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="ticket_skips"
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="skips")
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("skipped ticket")
        verbose_name_plural = _("skipped tickets")
        indexes = [models.Index(fields=["queue", "created_at"], name="skip_queue_created")]
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="skip_once_per_agent")]

    def __str__(self) -> str:
        return f"{self.user} skipped {self.ticket_id}"


class ClassificationRule(models.Model):
    """Keywords that give an incoming ticket without a type its type (and so its queue and SLA)."""

    keywords = models.TextField(
        _("keywords"), help_text=_("Comma- or line-separated words or phrases; any one matching is enough.")
    )
    ticket_type = models.ForeignKey(TicketType, verbose_name=_("type"), on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"), default=100, help_text=_("Lower is tried first."))
    active = models.BooleanField(_("active"), default=True)
    hits = models.PositiveIntegerField(_("tickets classified"), default=0, editable=False)
    corrections = models.PositiveIntegerField(_("corrected by dispatchers"), default=0, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("classification rule")
        verbose_name_plural = _("classification rules")

    def __str__(self) -> str:
        return f"{self.keywords[:40]} → {self.ticket_type}"


class CustomerTurnover(models.Model):
    """An order or deal amount of a customer on a date (imported as CSV in admin); feeds VIP rules."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="turnover")
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=120, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("customer turnover")
        verbose_name_plural = _("customer turnover")
        indexes = [models.Index(fields=["date", "customer"], name="turnover_date_customer")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "reference"], condition=~Q(reference=""),
                                    name="turnover_reference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.amount}"


class VipRule(models.Model):
    """What grants a tier; the nightly evaluation gives each customer the best tier a rule grants."""

    class Kind(models.TextChoices):
        TURNOVER = "turnover_threshold", _("Turnover over the last N months at least an amount")
        TOP_PERCENT = "top_percent", _("Top X percent of customers by turnover over the last N months")
        STRATEGIC = "strategic_partner", _("Strategic partner")
        PREMIUM = "premium_contract", _("Premium contract (until it ends)")

    tier = models.ForeignKey(VipTier, verbose_name=_("tier"), on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-tier__rank", "pk"]
        verbose_name = _("VIP rule")
        verbose_name_plural = _("VIP rules")

    def __str__(self) -> str:
        return f"{self.tier}: {self.get_kind_display()}"

    def clean(self) -> None:
        errors = {}
        if self.kind in (self.Kind.TURNOVER, self.Kind.TOP_PERCENT) and not self.months:
            errors["months"] = _("Say over how many months turnover counts.")
        if self.kind == self.Kind.TURNOVER and self.amount is None:
            errors["amount"] = _("Give the turnover threshold.")
        if self.kind == self.Kind.TOP_PERCENT and not (self.percent and 0 < self.percent <= 100):
            errors["percent"] = _("Give a share between 0 and 100.")
        if errors:
            raise ValidationError(errors)


class CustomerTierChange(models.Model):
    """One change of a customer's VIP tier and why (the customer's tier history)."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="tier_changes")
    from_tier = models.ForeignKey(VipTier, verbose_name=_("from"), on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    to_tier = models.ForeignKey(VipTier, verbose_name=_("to"), on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["customer", "created_at"], name="tier_change_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"
