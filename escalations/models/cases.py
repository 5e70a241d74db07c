"""Escalation cases: a serious problem handled as a case, with its owner, task force, update cadence,
plan, escalations up the hierarchy, RCA and an append-only timeline; the catalogues and rules that open
cases. Data only: the logic is ``escalations.cases`` and ``escalations.case_rules``
(docs/escalation-cases.md).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models import AppendOnlyModel, BilingualName


class CaseSeverity(models.TextChoices):
    SEV1 = "sev1", _("SEV1 · critical")
    SEV2 = "sev2", _("SEV2 · major")
    SEV3 = "sev3", _("SEV3 · moderate")
    SEV4 = "sev4", _("SEV4 · minor")


SEVERITY_RANK = {CaseSeverity.SEV1: 1, CaseSeverity.SEV2: 2, CaseSeverity.SEV3: 3, CaseSeverity.SEV4: 4}


class CaseSeverityPolicy(models.Model):
    """How often a case of a severity must post a status update, and when it escalates up the hierarchy.

    A severity without a row uses ``escalations.cases.common.DEFAULT_CADENCE``.
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
        if self.kind == self.Kind.VIP_LEVEL and self.min_level_order is None:
            raise ValidationError({"min_level_order": _("Give the lowest level order that opens a case.")})
        if self.kind == self.Kind.TYPE_BREACHES and self.max_breaches is None:
            raise ValidationError({"max_breaches": _("Give the number of breaches per hour it takes.")})


class CaseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("case status", "Open")
    RESOLVED = "resolved", pgettext_lazy("case status", "Resolved")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


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
