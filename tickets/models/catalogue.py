"""Customers and catalogues: VIP tiers, customers and their related objects, queues and their members,
ticket types and blocking reasons (catalogue data the SLA and routing apps read)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.choices import MembershipRole
from tickets.models.base import BilingualLabel, BilingualName, Language

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


class Organisation(BilingualLabel, models.Model):
    """The company a customer contact belongs to (seed 000): it holds the VIP tier, the turnover and the
    account manager, and its contacts inherit them.

    The organisation's ``vip_tier`` is the one the nightly evaluation (``routing.vip``) gives it from the
    turnover of all its contacts; ``account_manager``, the strategic-partner flag, the premium contract and
    a manual tier are set here and copied onto every contact (``tickets.services.organisation_sync_contacts``),
    so ``Customer.vip_tier`` and ``Customer.account_manager`` stay the effective values existing readers use.
    """

    name = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    vip_tier = models.ForeignKey(
        VipTier, verbose_name=_("VIP tier"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_organisations",
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
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.label


# What a contact inherits from its organisation (copied on every change; the rules read the contact's copy).
INHERITED_FIELDS = ("account_manager", "strategic_partner", "premium_contract_until", "manual_tier",
                    "manual_tier_until")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="contacts",
        help_text=_("The company this contact belongs to: its VIP tier and account manager apply."),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.RU)
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True,
        help_text=_("An IANA name such as Europe/Moscow; empty: the OpsDesk time zone. Dates in replies use it."),
    )
    vip_tier = models.ForeignKey(
        VipTier, verbose_name=_("VIP tier"), on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    is_internal = models.BooleanField(
        _("internal requests"),
        default=False,
        editable=False,
        help_text=_("The one record internal tasks point to instead of a customer (never a real customer)."),
    )
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
        indexes = [
            # Intake and email matching look a sender up case-insensitively (email__iexact: UPPER(email) = UPPER(%s)).
            models.Index(Upper("email"), name="customer_email_upper"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="customer_email_unique"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="customer_phone_unique"),
            models.UniqueConstraint(
                fields=["is_internal"], condition=Q(is_internal=True), name="customer_one_internal"
            ),
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
    # Satisfaction (tickets.satisfaction) -----------------------------------------------------------
    reopen_on_bad_rating = models.BooleanField(
        _("reopen on a bad rating"),
        default=False,
        help_text=_("A done ticket of this queue goes back to work when its customer rates it bad."),
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
        default=True,
        help_text=_("When the deadline passes on an open ticket, a deferral request is opened for the manager."),
    )
    approval_closes = models.BooleanField(
        _("approval may close"),
        default=False,
        help_text=_("The approver of a ticket of this type may approve and close it at once (else it goes back "
                    "to work)."),
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
