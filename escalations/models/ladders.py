"""Escalation ladders: policies and their levels, escalation contacts, firings, the urgent mark and
manual escalations.

Data only: which ladder applies and when a level is due is ``escalations.ladder`` and the pure
``escalations.rules``; the sweep (``escalations.sweep``) writes firings and its action step
(``escalations.firing_actions``) runs the actions they leave pending; manual escalation is
``escalations.services``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, override, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.formatting import format_duration
from notifications.models import Urgency
from tickets.models import BilingualLabel, Priority
from tickets.models.base import bilingual


class ClockKind(models.TextChoices):
    """Which clock a level watches: an ``sla.SLAClock`` kind, or first response or resolution.

    ``any`` means first response or resolution, acting once per ticket whichever crossed it: never the
    next reply (a customer's "thank you" must not drive the resolution ladder to the director; the next
    reply has its own short levels) nor the deadline clock (otherwise every existing ladder would fire
    twice on tickets whose deadline is the resolution due). Those only fire for levels naming them.
    """

    ANY = "any", _("First response or resolution")
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
        help_text=_("Empty: every customer. Set: this ladder replaces the others for customers of these tiers, "
                "when the tier escalates on threat (VIP tier setting)."),
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


class EscalationLevel(BilingualLabel, models.Model):
    """One step of a ladder: when (clock + trigger), who (audience), how loud (urgency), and what happens."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(
        _("name"),
        max_length=120,
        blank=True,
        help_text=_("Empty: named after its trigger, clock and audience in the reader's language."),
    )
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True, help_text=_("Empty: same as the name."))
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
    to_account_manager = models.BooleanField(
        _("customer's account manager"), default=False,
        help_text=_("The VIP customer's dedicated manager hears first when something goes wrong."),
    )
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
        return f"{self.policy}: {self.display_name}"

    @property
    def audience_flags(self) -> list[str]:
        """The roles the level reaches (``to_performer`` …), in the ladder's order."""
        return [flag for flag in AUDIENCE_FLAGS if getattr(self, flag)]

    @property
    def display_name(self) -> str:
        """The name people see, in the active language: the custom name (``name_ru`` in Russian when given),
        else the one derived from the trigger, clock and audience."""
        return bilingual(self.name, self.name_ru) if self.name else self.default_name()

    @property
    def label(self) -> str:  # the bilingual label everywhere names are shown is the display name
        return self.display_name

    def default_name(self) -> str:
        """The name derived from trigger, clock and audience in the active language (``level_default_name``)."""
        return level_default_name(self.clock, self.trigger_percent, self.trigger_offset, self.audience_flags)

    def naming(self) -> dict:
        """What the derived name is made of, as JSON (kept in a firing's history row to name it later)."""
        return {
            "clock": self.clock,
            "percent": self.trigger_percent,
            "offset": None if self.trigger_offset is None else int(self.trigger_offset.total_seconds()),
            "audience": self.audience_flags,
        }

    def clean(self) -> None:
        self.name = self.name.strip()
        if self.name and self.pk:
            # A name that is the default derived from the stored trigger is not kept: it would go stale.
            before = type(self)._default_manager.filter(pk=self.pk).first()
            defaults = {self.default_name_in(code) for code, _n in settings.LANGUAGES}
            if before is not None:
                defaults |= {before.default_name_in(code) for code, _n in settings.LANGUAGES}
            if self.name in defaults:
                self.name = ""
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
        if self.trigger_percent is not None:
            return f"{self.trigger_percent} %"
        offset = self.trigger_offset
        if offset < timedelta(0):
            return _("%(time)s before due") % {"time": format_duration(-offset)}
        return _("%(time)s after due") % {"time": format_duration(offset)}

    def default_name_in(self, language: str) -> str:
        with override(language):
            return self.default_name()


AUDIENCE_FLAGS = ("to_performer", "to_owner", "to_approver", "to_manager", "to_shift_lead", "to_head", "to_director",
                  "to_account_manager")

# How the derived name calls a level's clock ("… of <clock> used", "… left of <clock>"); Russian in the genitive.
CLOCK_IN_NAME = {
    ClockKind.ANY: pgettext_lazy("escalation level name", "the target"),
    ClockKind.FIRST_RESPONSE: pgettext_lazy("escalation level name", "first response time"),
    ClockKind.RESOLUTION: pgettext_lazy("escalation level name", "resolution time"),
    ClockKind.NEXT_REPLY: pgettext_lazy("escalation level name", "next reply time"),
    ClockKind.DEADLINE: pgettext_lazy("escalation level name", "the deadline"),
}


def level_default_name(clock: str, percent: int | None, offset: timedelta | int | None, audience) -> str:
    """A level's name derived from its trigger, clock and audience, in the active language.

    "Warning: 60 % of resolution time used — performer", "Warning: 30 min left of the target — performer",
    "Breach: 100 % of the deadline used — …", "Overdue: 2 h past the target — …". ``offset`` is a
    timedelta or seconds; ``audience`` the ``to_*`` flags set. One function for every place a level is
    named: the admin, the ticket page, notices and the history sentence of a firing.
    """
    clock_text = str(CLOCK_IN_NAME.get(clock, CLOCK_IN_NAME[ClockKind.ANY]))
    if isinstance(offset, int):
        offset = timedelta(seconds=offset)
    if percent is None and offset is not None and offset < timedelta(0):
        text = gettext("Warning: %(time)s left of %(clock)s") % {"time": format_duration(-offset), "clock": clock_text}
    elif percent is None and offset:
        text = gettext("Overdue: %(time)s past %(clock)s") % {"time": format_duration(offset), "clock": clock_text}
    else:
        percent = 100 if percent is None else percent
        if percent < 100:
            sentence = gettext("Warning: %(percent)s %% of %(clock)s used")
        elif percent == 100:
            sentence = gettext("Breach: %(percent)s %% of %(clock)s used")
        else:
            sentence = gettext("Overdue: %(percent)s %% of %(clock)s used")
        text = sentence % {"percent": percent, "clock": clock_text}
    labels = [str(EscalationLevel._meta.get_field(flag).verbose_name) for flag in audience if flag in AUDIENCE_FLAGS]
    if labels:
        text = gettext("%(trigger)s — %(audience)s") % {"trigger": text, "audience": ", ".join(labels)}
    return text


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
    """A level fired for one clock in one deadline generation: exactly once (the unique constraint).

    A level acts **once per ticket**: when first response and resolution both cross a level that
    watches any SLA clock, the first firing acts (``acted``, its ``ticket_generation`` set: unique per
    ticket, level and generation) and every other clock that crossed it is recorded by a firing with
    ``acted = False`` (no notice, no history row, no actions; ``ticket_generation`` NULL).

    A level whose actions change the ticket (raise priority, reassign, auto-reply, root-cause review)
    leaves them pending here: ``actions_due_at`` is when they should run (the sweep's instant, or a
    retry ``RETRY_DELAY`` later), NULL once they ran or when there are none. The sweep's action step
    (``escalations.firing_actions``) claims pending firings one at a time and runs them through the
    ticket services; a partial index covers only the pending ones.
    """

    clock = models.ForeignKey("sla.SLAClock", on_delete=models.CASCADE, related_name="firings")
    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="firings")
    generation = models.PositiveIntegerField(_("deadline generation"))
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="escalation_firings")
    due_at = models.DateTimeField(_("should fire at"))
    fired_at = models.DateTimeField(_("fired"), default=timezone.now)
    data = models.JSONField(_("details"), default=dict, blank=True)
    actions_due_at = models.DateTimeField(_("actions due"), null=True, blank=True)
    acted = models.BooleanField(
        _("acted"), default=True, help_text=_("False: this clock crossed a level that already acted for the ticket.")
    )
    ticket_generation = models.PositiveIntegerField(_("ticket generation"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("escalation firing")
        verbose_name_plural = _("escalation firings")
        constraints = [
            models.UniqueConstraint(fields=["clock", "level", "generation"], name="firing_once_per_generation"),
            # Once per ticket and level (for a level on any SLA clock): NULLs are distinct, so the firings that
            # only record another clock crossing, and the levels of one clock kind, never conflict here.
            models.UniqueConstraint(fields=["ticket", "level", "ticket_generation"], name="firing_once_per_ticket"),
        ]
        indexes = [
            models.Index(fields=["ticket", "-fired_at"], name="firing_ticket"),
            models.Index(fields=["fired_at"], name="firing_fired_at"),
            models.Index(fields=["actions_due_at", "id"], condition=Q(actions_due_at__isnull=False),
                         name="firing_actions_pending"),
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
