"""Escalations: notifications (inbox rows, the delivery outbox, digests, preferences, webhook endpoints),
escalation ladders (policies, levels, contacts), firings and manual escalations.

The models hold data only; the logic lives in ``notifications``
(service, delivery, channels, preferences, digests), ``escalations.rules``
(pure), ``escalations.ladder`` and ``escalations.sweep`` (automatic
escalation) and ``escalations.services`` (manual escalation).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import AppendOnlyModel, BilingualName, Priority

# --- Notifications ------------------------------------------------------------------


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    IMPORTANT = "important", _("Important")
    CRITICAL = "critical", _("Critical")


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Messenger (webhook)")
    SMS = "sms", _("SMS")


OUTBOX_CHANNELS = (NotificationChannel.EMAIL, NotificationChannel.WEBHOOK, NotificationChannel.SMS)
"""Channels delivered through the outbox; the in-app inbox is the ``Notification`` row itself."""

OUTBOX_CHANNEL_CHOICES = [(c.value, c.label) for c in OUTBOX_CHANNELS]


class Notification(models.Model):
    """One notice to one person: the in-app inbox row and the anchor of its outbox deliveries."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=60, help_text=_("What happened, e.g. escalation.level_1."))
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caused by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    in_app = models.BooleanField(
        _("shown in the inbox"), default=True, help_text=_("Off when the recipient chose no in-app notices.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="notification_dedupe_once",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "in_app", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True, in_app=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Digest(models.Model):
    """Several routine deliveries to one person on one channel, sent as one message."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=OUTBOX_CHANNEL_CHOICES)
    size = models.PositiveIntegerField(_("notifications"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("digest")
        verbose_name_plural = _("digests")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} × {self.size}"


class Delivery(models.Model):
    """An outbox row: one notification on one channel other than in-app.

    Created in the same transaction as its notification; claimed by one worker
    (``status`` pending → sending), sent after commit, retried with backoff.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=OUTBOX_CHANNEL_CHOICES)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    digestible = models.BooleanField(
        _("may join a digest"), default=False, help_text=_("Routine notices are held and grouped into one message.")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [
            # The worker reads only what is due: pending rows by next attempt.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending_due"),
            # Open digest groups of one person on one channel.
            models.Index(
                fields=["recipient", "channel", "next_attempt_at"],
                condition=Q(status="pending", digestible=True),
                name="delivery_digest_group",
            ),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="delivery_sending"),
            models.Index(fields=["claim_token"], condition=Q(claim_token__isnull=False), name="delivery_claim"),
            models.Index(fields=["status", "-created_at"], name="delivery_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient_id}: {self.get_status_display()}"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where the webhook channel posts JSON (a messenger bridge such as a Telegram or WhatsApp relay)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.CharField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        default=_new_secret,
        help_text=_("Shared with the bridge: it checks X-OpsDesk-Signature, an HMAC-SHA256 of the body."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Only one endpoint can be active."))
    timeout = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="webhook_one_active"),
        ]

    def __str__(self) -> str:
        return self.name


def default_routine_channels() -> list[str]:
    return [NotificationChannel.IN_APP.value]


def default_important_channels() -> list[str]:
    return [NotificationChannel.IN_APP.value, NotificationChannel.EMAIL.value]


def default_critical_channels() -> list[str]:
    return [c.value for c in NotificationChannel]


class NotificationSettings(models.Model):
    """A person's notification preferences; absent until they first save them (defaults apply)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    routine_channels = models.JSONField(_("routine notices"), default=default_routine_channels, blank=True)
    important_channels = models.JSONField(_("important notices"), default=default_important_channels, blank=True)
    critical_channels = models.JSONField(_("critical notices"), default=default_critical_channels, blank=True)
    digest_window_minutes = models.PositiveSmallIntegerField(
        _("digest window (minutes)"),
        default=15,
        validators=[MaxValueValidator(240)],
        help_text=_("Routine notices within this window arrive as one message; 0 sends each at once."),
    )
    quiet_hours = models.BooleanField(
        _("quiet hours"),
        default=True,
        help_text=_("Off shift, non-critical notices wait for the start of your next working window."),
    )
    messenger_handle = models.CharField(_("messenger handle"), max_length=64, blank=True)
    phone = models.CharField(_("phone for SMS"), max_length=32, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)

    def channels_for(self, urgency: str) -> list[str]:
        """The channels chosen for ``urgency``, in the canonical order, unknown values dropped."""
        chosen = set(getattr(self, f"{Urgency(urgency).value}_channels") or [])
        return [c.value for c in NotificationChannel if c.value in chosen]


# --- Escalation rules ------------------------------------------------------------------


class ClockKind(models.TextChoices):
    """Which clock a level watches: an ``sla.SLAClock`` kind, or any SLA clock.

    ``any`` means any *SLA* clock (first response, resolution, next reply), never the deadline
    clock: otherwise every existing ladder would fire twice on tickets whose deadline is the
    resolution due. A level watches the deadline in force only when it names ``deadline``.
    """

    ANY = "any", _("Any SLA clock")
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    NEXT_REPLY = "next_reply", _("Next reply")
    DEADLINE = "deadline", _("Deadline in force")


class ContactRole(models.TextChoices):
    SHIFT_LEAD = "shift_lead", _("Shift lead")
    HEAD = "head", _("Head of department")
    DIRECTOR = "director", _("Service director")


class EscalationPolicy(models.Model):
    """A ladder of levels, attached to SLA policies; a ladder with VIP tiers overrides for those customers.

    For a clock, the active ladders attached to its SLA policy are considered: one
    listing the customer's VIP tier wins, else one without tiers (lowest id first).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    sla_policies = models.ManyToManyField(
        "sla.SLAPolicy", verbose_name=_("SLA policies"), blank=True, related_name="escalation_policies"
    )
    vip_tiers = models.ManyToManyField(
        "tickets.VipTier",
        verbose_name=_("only for VIP tiers"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every customer. Set: this ladder replaces the others for customers of these tiers."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return self.name


class Reassign(models.TextChoices):
    NONE = "", _("No")
    USER = "user", _("To a named user")
    SHIFT_LEAD = "shift_lead", _("To the queue's shift lead")
    QUEUE = "queue", _("Back to the queue")


class EscalationLevel(models.Model):
    """One step of a ladder: when (clock + trigger), who (audience), how loud (urgency), and what happens."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=120)
    clock = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices, default=ClockKind.ANY)
    trigger_percent = models.PositiveIntegerField(
        _("share of the target (%)"), null=True, blank=True, help_text=_("50, 80, 100, 200 …")
    )
    trigger_offset = models.DurationField(
        _("offset from the due instant"),
        null=True,
        blank=True,
        help_text=_("Business time; negative is before due: -0:30:00 is “30 minutes left”."),
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    # Audience
    to_performer = models.BooleanField(_("performer"), default=False)
    to_owner = models.BooleanField(_("owner of the result"), default=False)
    to_approver = models.BooleanField(_("approver"), default=False)
    to_manager = models.BooleanField(_("performer's manager"), default=False)
    to_shift_lead = models.BooleanField(_("shift lead"), default=False)
    to_head = models.BooleanField(_("head of department"), default=False)
    to_director = models.BooleanField(_("service director"), default=False)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("named users"), blank=True, related_name="+"
    )
    groups = models.ManyToManyField("auth.Group", verbose_name=_("groups"), blank=True, related_name="+")
    # Actions
    notify = models.BooleanField(_("notify the audience"), default=True)
    mark_urgent = models.BooleanField(_("mark urgent"), default=False)
    raise_priority_to = models.PositiveSmallIntegerField(
        _("raise priority to"), choices=Priority.choices, null=True, blank=True
    )
    reassign = models.CharField(_("reassign"), max_length=20, choices=Reassign.choices, default="", blank=True)
    reassign_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reassign to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    auto_reply = models.BooleanField(
        _("auto-reply to the customer"),
        default=False,
        help_text=_("A public reply that does not count as the first response."),
    )
    auto_reply_en = models.TextField(
        _("auto-reply (English)"),
        blank=True,
        help_text=_("{ticket} is replaced by the ticket number."),
    )
    auto_reply_ru = models.TextField(_("auto-reply (Russian)"), blank=True)
    create_follow_up = models.BooleanField(
        _("create a root-cause review task"), default=False, help_text=_("A new ticket in the same queue.")
    )

    class Meta:
        ordering = ["policy", "order"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="escalation_level_order_unique"),
            models.CheckConstraint(
                condition=Q(trigger_percent__isnull=False, trigger_offset__isnull=True)
                | Q(trigger_percent__isnull=True, trigger_offset__isnull=False),
                name="escalation_level_one_trigger",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (self.trigger_percent is None) == (self.trigger_offset is None):
            raise ValidationError(_("Give either a share of the target or an offset from the due instant."))
        if self.trigger_percent == 0:
            raise ValidationError({"trigger_percent": _("The share must be above zero.")})
        if self.reassign == Reassign.USER and self.reassign_user_id is None:
            raise ValidationError({"reassign_user": _("Choose who the ticket goes to.")})
        if self.auto_reply and not (self.auto_reply_en.strip() or self.auto_reply_ru.strip()):
            raise ValidationError({"auto_reply_en": _("Write the auto-reply.")})

    @property
    def trigger_text(self) -> str:
        from sla.selectors import format_duration

        if self.trigger_percent is not None:
            return f"{self.trigger_percent} %"
        offset = self.trigger_offset
        if offset < timedelta(0):
            return _("%(time)s before due") % {"time": format_duration(-offset)}
        return _("%(time)s after due") % {"time": format_duration(offset)}


class QueueEscalationContact(models.Model):
    """Who is the shift lead, head of department or service director for a queue (empty queue: every queue)."""

    queue = models.ForeignKey(
        "tickets.Queue",
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalation_contacts",
        help_text=_("Empty: the default for every queue."),
    )
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
                             related_name="+")

    class Meta:
        verbose_name = _("escalation contact")
        verbose_name_plural = _("escalation contacts")
        constraints = [
            models.UniqueConstraint(fields=["queue", "role"], name="escalation_contact_once"),
            models.UniqueConstraint(
                fields=["role"], condition=Q(queue__isnull=True), name="escalation_contact_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user} ({self.queue or _('every queue')})"


class Firing(models.Model):
    """A level fired for one clock in one deadline generation: exactly once (the unique constraint)."""

    clock = models.ForeignKey("sla.SLAClock", on_delete=models.CASCADE, related_name="firings")
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="firings")
    generation = models.PositiveIntegerField(_("deadline generation"))
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="escalation_firings")
    due_at = models.DateTimeField(_("should fire at"))
    fired_at = models.DateTimeField(_("fired"), default=timezone.now)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("escalation firing")
        verbose_name_plural = _("escalation firings")
        constraints = [
            models.UniqueConstraint(fields=["clock", "level", "generation"], name="firing_once_per_generation"),
        ]
        indexes = [
            models.Index(fields=["ticket", "-fired_at"], name="firing_ticket"),
            models.Index(fields=["fired_at"], name="firing_fired_at"),
        ]

    def __str__(self) -> str:
        return f"{self.level} → #{self.ticket_id}"


class TicketEscalationState(models.Model):
    """Escalation marks of a ticket kept outside the ticket row: the "urgent" mark."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="escalation_state")
    urgent_since = models.DateTimeField(_("urgent since"), null=True, blank=True)
    urgent_level = models.ForeignKey(
        EscalationLevel, verbose_name=_("marked by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("ticket escalation state")
        verbose_name_plural = _("ticket escalation states")

    def __str__(self) -> str:
        return f"#{self.ticket_id}"


class ManualEscalation(models.Model):
    """A person escalated a ticket by hand, with a reason: to another queue or up the hierarchy."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("Functional (to another queue)")
        HIERARCHICAL = "hierarchical", _("Hierarchical (to the manager)")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="manual_escalations")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(_("reason"))
    from_queue = models.ForeignKey(
        "tickets.Queue", verbose_name=_("from queue"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    to_queue = models.ForeignKey(
        "tickets.Queue", verbose_name=_("to queue"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("manual escalation")
        verbose_name_plural = _("manual escalations")
        indexes = [models.Index(fields=["kind", "created_at"], name="manual_escalation_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ticket_id}"


# --- Escalation cases (escalations.cases, escalations.case_rules; see docs/escalation-cases.md) -------------
# Owned by the escalation-cases work: everything below this line. A case groups the tickets, customers and
# services of one serious problem, with its owner, task force, update cadence, plan, escalations and RCA.


class CaseSeverity(models.TextChoices):
    SEV1 = "sev1", _("SEV1 · critical")
    SEV2 = "sev2", _("SEV2 · major")
    SEV3 = "sev3", _("SEV3 · moderate")
    SEV4 = "sev4", _("SEV4 · minor")


SEVERITY_RANK = {CaseSeverity.SEV1: 1, CaseSeverity.SEV2: 2, CaseSeverity.SEV3: 3, CaseSeverity.SEV4: 4}


class CaseSeverityPolicy(models.Model):
    """How often a case of a severity must post a status update, and when it escalates up the hierarchy.

    A severity without a row uses ``escalations.cases.DEFAULT_CADENCE``.
    """

    severity = models.CharField(_("severity"), max_length=8, choices=CaseSeverity.choices, unique=True)
    update_every = models.DurationField(_("status update every"), help_text=_("For example 1:00:00 for an hour."))
    escalate_after = models.DurationField(
        _("escalate after"),
        help_text=_("A case still open after this long goes up one level of management (then again each period)."),
    )

    class Meta:
        ordering = ["severity"]
        verbose_name = _("case severity policy")
        verbose_name_plural = _("case severity policies")
        constraints = [
            models.CheckConstraint(condition=Q(update_every__gt=timedelta(0)), name="case_policy_update_positive"),
            models.CheckConstraint(condition=Q(escalate_after__gt=timedelta(0)), name="case_policy_escalate_positive"),
        ]

    def __str__(self) -> str:
        return str(self.get_severity_display())


class AffectedService(BilingualName):
    """A service an escalation case can affect (a catalogue kept in admin)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("affected service")
        verbose_name_plural = _("affected services")


class CaseRule(models.Model):
    """Opens a case automatically, exactly once per crossing (``CaseRuleCrossing``)."""

    class Kind(models.TextChoices):
        VIP_LEVEL = "vip_level", _("An escalation level of order N or higher fired on a VIP customer's ticket")
        TYPE_BREACHES = "type_breaches", _("More than N SLA breaches of one ticket type within an hour")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    min_level_order = models.PositiveSmallIntegerField(
        _("lowest level order"), null=True, blank=True, help_text=_("VIP rule: a firing of this order or higher.")
    )
    max_breaches = models.PositiveSmallIntegerField(
        _("more than N breaches"), null=True, blank=True, help_text=_("Breach rule: opens at N + 1 in one hour.")
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType", verbose_name=_("only this type"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", help_text=_("Breach rule: empty counts every type separately."),
    )
    severity = models.CharField(_("severity of the case"), max_length=8, choices=CaseSeverity.choices,
                                default=CaseSeverity.SEV2)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner of the cases"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The escalation manager of the cases this rule opens."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("case rule")
        verbose_name_plural = _("case rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="vip_level", min_level_order__isnull=False)
                | Q(kind="type_breaches", max_breaches__isnull=False),
                name="case_rule_has_threshold",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.VIP_LEVEL and self.min_level_order is None:
            raise ValidationError({"min_level_order": _("Give the lowest level order that opens a case.")})
        if self.kind == self.Kind.TYPE_BREACHES and self.max_breaches is None:
            raise ValidationError({"max_breaches": _("Give the number of breaches per hour it takes.")})


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class CaseCause(models.TextChoices):
    UNKNOWN = "", _("Not established yet")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure or outage")
    SOFTWARE = "software", _("Software defect")
    SUPPLIER = "supplier", _("Supplier or partner")
    PROCESS = "process", _("Process or procedure")
    PEOPLE = "people", _("Human error or workload")
    OTHER = "other", _("Other")


class EscalationCase(models.Model):
    """A serious problem handled as a case: owner, task force, cadence of updates, plan, escalation, RCA."""

    title = models.CharField(_("title"), max_length=200)
    severity = models.CharField(_("severity"), max_length=8, choices=CaseSeverity.choices)
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("escalation manager"),
                              on_delete=models.PROTECT, related_name="owned_cases")
    triggering_criteria = models.TextField(_("triggering criteria"), blank=True)
    rule = models.ForeignKey(CaseRule, verbose_name=_("opened by rule"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="cases")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    customers = models.ManyToManyField("tickets.Customer", verbose_name=_("affected customers"), blank=True,
                                       related_name="escalation_cases")
    services = models.ManyToManyField(AffectedService, verbose_name=_("affected services"), blank=True,
                                      related_name="cases")
    tickets = models.ManyToManyField("tickets.Ticket", through="CaseTicket", related_name="escalation_cases")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="CaseMember", through_fields=("case", "user"),
                                     related_name="case_memberships")
    next_update_due = models.DateTimeField(_("next update due"), null=True, blank=True)
    missed_updates = models.PositiveIntegerField(_("missed updates"), default=0)
    missed_signalled_for = models.DateTimeField(null=True, blank=True, editable=False)
    first_update_at = models.DateTimeField(_("first update"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("management level"), default=0)
    resolved_at = models.DateTimeField(_("resolution announced"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    cause = models.CharField(_("cause"), max_length=20, choices=CaseCause.choices, blank=True, default="")
    rca_internal = models.TextField(_("root-cause analysis (internal)"), blank=True)
    rca_customer = models.TextField(_("root-cause analysis for customers"), blank=True)
    rca_customer_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("customer RCA approved by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    rca_customer_sent_at = models.DateTimeField(_("customer RCA sent"), null=True, blank=True)
    no_rca_reason = models.TextField(_("why no RCA is needed"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("escalation case")
        verbose_name_plural = _("escalation cases")
        indexes = [
            models.Index(fields=["status", "severity", "next_update_due"], name="case_list_order"),
            models.Index(fields=["next_update_due"], condition=Q(status="open"), name="case_update_due"),
            models.Index(fields=["opened_at"], name="case_opened_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="resolved", resolved_at__isnull=False, closed_at__isnull=True)
                | Q(status="closed", resolved_at__isnull=False, closed_at__isnull=False),
                name="case_status_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"C-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    def update_missed(self, now=None) -> bool:
        """Missed: the case is open and the next status update is overdue."""
        now = now or timezone.now()
        return self.is_open and self.next_update_due is not None and now > self.next_update_due


class CaseTicket(models.Model):
    """A ticket linked to a case: affected (a customer's ticket) or a task of the action plan."""

    class Role(models.TextChoices):
        AFFECTED = "affected", _("Affected")
        TASK = "task", _("Task")

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="case_links")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AFFECTED)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("case ticket")
        verbose_name_plural = _("case tickets")
        constraints = [models.UniqueConstraint(fields=["case", "ticket"], name="case_ticket_once")]

    def __str__(self) -> str:
        return f"C-{self.case_id} ← #{self.ticket_id} ({self.role})"


class CaseMember(models.Model):
    """A member of the case's task force (removing a member deletes the row; the timeline keeps both)."""

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("case member")
        verbose_name_plural = _("case members")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_member_once")]

    def __str__(self) -> str:
        return f"C-{self.case_id}: {self.user_id}"


class CaseUpdate(models.Model):
    """A status update, posted once (unique form token per case); public ones also reached the customers."""

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(_("text"))
    public = models.BooleanField(_("public"), default=False)
    token = models.CharField(max_length=64, editable=False)
    late = models.BooleanField(_("posted after it was due"), default=False)
    replies = models.PositiveIntegerField(_("customer replies sent"), default=0)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case update")
        verbose_name_plural = _("case updates")
        constraints = [models.UniqueConstraint(fields=["case", "token"], name="case_update_once")]

    def __str__(self) -> str:
        return f"C-{self.case_id} update {self.pk}"


class CaseEscalation(models.Model):
    """The case went up one level of management: exactly once per level (the unique constraint)."""

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(_("level"))
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+")
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["level"]
        verbose_name = _("case escalation")
        verbose_name_plural = _("case escalations")
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="case_escalation_once_per_level")]

    def __str__(self) -> str:
        return f"C-{self.case_id} level {self.level}"


class CaseRuleCrossing(models.Model):
    """A rule crossed its threshold for one key (a ticket, or a type and an hour): at most one case each."""

    rule = models.ForeignKey(CaseRule, on_delete=models.CASCADE, related_name="crossings")
    key = models.CharField(max_length=120)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case rule crossing")
        verbose_name_plural = _("case rule crossings")
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="case_rule_crossing_once")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.key}"


class CaseEvent(AppendOnlyModel):
    """One immutable line of a case's timeline: who did what, when (append-only like ``TicketEvent``)."""

    case = models.ForeignKey(EscalationCase, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    kind = models.CharField(_("event"), max_length=60)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_created")]

    def __str__(self) -> str:
        return f"{self.kind} on C-{self.case_id}"
