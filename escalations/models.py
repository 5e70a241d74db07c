"""Escalations: notifications (inbox rows, the delivery outbox, digests, preferences, webhook endpoints),
escalation ladders (policies, levels, contacts), firings and manual escalations.

The models hold data only; the logic lives in ``escalations.notifications``
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

from tickets.models import Priority

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
    """Which SLA clock a level watches (the ``sla.SLAClock`` kinds, plus any of them)."""

    ANY = "any", _("Any clock")
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    NEXT_REPLY = "next_reply", _("Next reply")


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
