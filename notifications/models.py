"""Notifications: the in-app inbox rows, the delivery outbox, digests, webhook endpoints and preferences.

The models hold data only; the logic lives in ``notifications.service`` (``notify``),
``notifications.delivery``, ``notifications.channels``, ``notifications.preferences`` and
``notifications.digest``. The tables were created by the escalations app and keep their names
(``escalations_*``): the models moved here without their rows moving (docs/operations.md).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.outcomes import outcome_text


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
        db_table = "escalations_notification"  # moved from escalations with its rows
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
        db_table = "escalations_digest"  # moved from escalations with its rows
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
        db_table = "escalations_delivery"  # moved from escalations with its rows
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

    @property
    def result_text(self) -> str:
        """``result`` in the reader's language."""
        return outcome_text(self.result)

    @property
    def error_text(self) -> str:
        """``last_error`` in the reader's language."""
        return outcome_text(self.last_error)


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
        db_table = "escalations_webhookendpoint"  # moved from escalations with its rows
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
    muted_kinds = models.JSONField(
        _("turned-off notices"),
        default=list,
        blank=True,
        help_text=_("Kinds of work notices this person does not want (notifications.work.WorkKind values)."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "escalations_notificationsettings"  # moved from escalations with its rows
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)

    def wants(self, kind: str) -> bool:
        """Whether this person wants notices of ``kind`` (work notices can be turned off one by one)."""
        return kind not in (self.muted_kinds or ())

    def channels_for(self, urgency: str) -> list[str]:
        """The channels chosen for ``urgency``, in the canonical order, unknown values dropped."""
        chosen = set(getattr(self, f"{Urgency(urgency).value}_channels") or [])
        return [c.value for c in NotificationChannel if c.value in chosen]
