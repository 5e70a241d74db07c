"""Intake channels: the gateways (email bridge, messenger bot, web form) that post customer messages."""

from __future__ import annotations

import hashlib
import secrets

from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.catalogue import Queue, TicketType
from tickets.models.tickets import Channel


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
    # Outbound (channels.outbox, docs/channels.md "Outbound delivery") ---------------------------
    email_address = models.EmailField(
        _("email address"),
        blank=True,
        help_text=_("Replies to customers of this channel are sent from this address (else DEFAULT_FROM_EMAIL)."),
    )
    reply_url = models.CharField(
        _("reply URL"),
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The gateway's callback: public replies are POSTed here as signed JSON (docs/api.md)."),
    )
    reply_secret = models.CharField(_("reply signing secret"), max_length=100, blank=True, editable=False)
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

    def set_reply_secret(self) -> str:
        """Store a new signing secret for reply callbacks and return it (the admin shows it once)."""
        self.reply_secret = secrets.token_urlsafe(32)
        return self.reply_secret
