"""Agent tools: canned replies (reply templates) and bulk jobs (one action over many tickets, with progress).

Both are plain data; ``tickets.canned`` fills a template's placeholders and counts its use,
``tickets.bulk`` runs a bulk job ticket by ticket through the ticket services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.base import BilingualName
from tickets.models.catalogue import Queue


class CannedReply(BilingualName):
    """A reply template for one queue (or every queue when ``queue`` is empty), in English and Russian."""

    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        help_text=_("Empty: offered on the tickets of every queue."),
    )
    body = models.TextField(_("text (English)"), blank=True)
    body_ru = models.TextField(_("text (Russian)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def body_in(self, language: str) -> str:
        """The text in ``language`` ("ru" or "en"), falling back to the other one when it is empty."""
        if language.startswith("ru"):
            return self.body_ru or self.body
        return self.body or self.body_ru

    @property
    def languages(self) -> list[str]:
        return [code for code, text in (("ru", self.body_ru), ("en", self.body)) if text.strip()]


class BulkJob(models.Model):
    """One bulk action over many tickets: what was asked, the tickets, and how far it got (``tickets.bulk``)."""

    class Action(models.TextChoices):
        ASSIGN = "assign", _("Assign")
        STATUS = "status", _("Change status")
        PRIORITY = "priority", _("Change priority")
        QUEUE = "queue", _("Move to queue")
        OBSERVERS = "observers", _("Add observers")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="bulk_jobs"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    params = models.JSONField(_("parameters"), default=dict)
    ticket_ids = models.JSONField(_("tickets"), default=list)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    results = models.JSONField(_("results"), default=list, help_text=_("One entry per ticket not changed."))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bulk job")
        verbose_name_plural = _("bulk jobs")

    def __str__(self) -> str:
        return f"{self.get_action_display()} × {self.total}"

    @property
    def processed(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.processed / self.total)
