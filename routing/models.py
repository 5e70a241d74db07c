"""Routing and VIP data: skills (of agents, required by ticket types), skipped tickets of pull queues,
keyword classification rules, customer turnover, VIP rules and the tier history.

Data only. The strategy choice is ``routing.strategies`` (pure), applied by ``routing.assignment``;
classification and the queue monitor are ``routing.assignment`` and ``routing.queue_monitor``; VIP
tiers are evaluated by ``routing.vip`` (docs/routing.md). The tables were created by the tickets app
and keep their names (``tickets_*``): the models moved here without their rows moving
(docs/operations.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import BilingualName, Customer, Queue, Ticket, TicketType, VipTier


class Skill(BilingualName):
    """A competence tickets may require and agents have at a level (1 = basic … 5 = expert)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        db_table = "tickets_skill"  # moved from tickets with its rows
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
        db_table = "tickets_agentskill"  # moved from tickets with its rows
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
        db_table = "tickets_tickettypeskill"  # moved from tickets with its rows
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
        db_table = "tickets_ticketskip"  # moved from tickets with its rows
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
        db_table = "tickets_classificationrule"  # moved from tickets with its rows
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
        db_table = "tickets_customerturnover"  # moved from tickets with its rows
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
        db_table = "tickets_viprule"  # moved from tickets with its rows
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
        db_table = "tickets_customertierchange"  # moved from tickets with its rows
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["customer", "created_at"], name="tier_change_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"
