"""Links between tickets: related, duplicate of, parent of (``tickets.links`` writes them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LinkKind(models.TextChoices):
    """How ``source`` relates to ``target``; the page reads each kind from both ends."""

    RELATED = "related", _("Related to")
    DUPLICATE = "duplicate", _("Duplicate of")
    PARENT = "parent", _("Parent of")


class TicketLink(models.Model):
    """``source`` is related to / a duplicate of / the parent of ``target``.

    One link per pair of tickets whatever its direction (``tickets.links`` checks the reverse
    pair; the constraint holds the direction it was written in). Parent links never form a cycle.
    """

    source = models.ForeignKey("Ticket", verbose_name=_("from"), on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey("Ticket", verbose_name=_("to"), on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("link"), max_length=12, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="ticket_link_once"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="ticket_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"#{self.source_id} {self.kind} #{self.target_id}"
