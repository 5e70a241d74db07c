"""Filter forms of the ticket lists (django-filter). They narrow a queryset the selectors already limited."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters as df
from django import forms
from django.db import connections, router
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.dates import validate_in_range
from core.forms import PersonChoiceField
from deferrals.models import DeferralRequest
from escalations.models import Firing, ManualEscalation
from sla.models import SLAClock
from sla.selectors import red_zone_q, without_sla
from tickets import selectors
from tickets.models import (
    OPEN_STATUSES,
    BlockingReason,
    Channel,
    Organisation,
    Priority,
    Status,
    VipTier,
    WaitSegment,
)
from tickets.querysets import on_time_q

_CLOCKS = [("first_response", _("First response")), ("resolution", _("Resolution"))]
_MANUAL = [("functional", _("Functional (to another queue)")), ("hierarchical", _("Hierarchical (to the manager)"))]


SEARCH_MAX = 200  # characters of a search box


class PersonFilter(df.ModelChoiceFilter):
    field_class = PersonChoiceField


def _overdue(queryset, name, value):
    if not value:
        return queryset
    return queryset.overdue(timezone.now())


FIELDS_TEMPLATE = "tickets/_filter_fields.html"

# Per filter class and language: (the rows of its choice queries, the unbound form's fields as HTML).
_unbound_fields: dict[tuple[type, str], tuple[list, str]] = {}
_choice_sql: dict[tuple[type, str], list[tuple[str, tuple]]] = {}  # per filter class and database: compiled once


class _Base(df.FilterSet):
    priority = df.ChoiceFilter(label=_("Priority"), choices=Priority.choices, empty_label=_("Any priority"))
    queue = df.ModelChoiceFilter(label=_("Queue"), queryset=selectors.active_queues(), empty_label=_("Any queue"))
    overdue = df.BooleanFilter(label=_("Overdue only"), widget=forms.CheckboxInput, method=_overdue)

    @property
    def form(self):
        form = super().form
        form.order_fields(self._meta.fields)
        return form

    def fields_html(self) -> str:
        """The form's fields as ``tickets/_filter_fields.html`` draws them.

        A list without filters in its URL (the usual view) shows the unbound form: the same HTML for everyone in a
        language while the choices (queues, types, people, reasons, tiers, organisations) stay the same. It is drawn
        once and reused for as long as the rows of those choice queries are the ones it was drawn from (their SQL
        compiled once, run on every view: never stale); building and drawing the form cost about 8 ms a view."""
        if self.is_bound:
            return render_to_string(FIELDS_TEMPLATE, {"filter": self})
        key = (type(self), translation.get_language() or "")
        rows = self._choice_rows()
        seen = _unbound_fields.get(key)
        if seen is not None and seen[0] == rows:
            return seen[1]
        html = render_to_string(FIELDS_TEMPLATE, {"filter": self})
        _unbound_fields[key] = (rows, html)
        return html

    def _choice_rows(self) -> list:
        """Every row of every choice query of the form, in field order."""
        db = router.db_for_read(self.queryset.model)
        statements = _choice_sql.get((type(self), db))
        if statements is None:
            statements = []
            for name in self._meta.fields:
                queryset = getattr(self.base_filters[name], "queryset", None)
                if isinstance(queryset, QuerySet):
                    statements.append(queryset.all().using(db).query.get_compiler(db).as_sql())
            _choice_sql[(type(self), db)] = statements
        rows = []
        with connections[db].cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                rows.append(cursor.fetchall())
        return rows


class MyWorkFilter(_Base):
    status = df.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in Status if s in OPEN_STATUSES],
        empty_label=_("Any open status"),
    )

    class Meta:
        fields = ["status", "priority", "queue", "overdue"]


class TicketListFilter(_Base):
    # Bounded (a 60,000-character pattern overflows SQLite's LIKE); NUL is refused by the form field.
    q = df.CharFilter(label=_("Title contains"), field_name="title", lookup_expr="icontains", max_length=SEARCH_MAX)
    status = df.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, widget=forms.CheckboxSelectMultiple
    )
    ticket_type = df.ModelChoiceFilter(
        label=_("Type"), queryset=selectors.active_types(), empty_label=_("Any type")
    )
    performer = PersonFilter(label=_("Performer"), queryset=selectors.people(), empty_label=_("Anyone"))
    blocking_reason = df.ModelChoiceFilter(
        label=_("Blocking reason"), queryset=selectors.active_reasons(), empty_label=_("Any reason")
    )
    customer = df.CharFilter(label=_("Customer"), method="filter_customer", max_length=SEARCH_MAX)

    # --- Dashboard and report links (reports.dashboard builds them): what a figure counted --------------
    open = df.BooleanFilter(label=_("Open only"), widget=forms.CheckboxInput, method="filter_open")
    zone = df.ChoiceFilter(label=_("SLA zone"), choices=[("red", _("Red zone"))], empty_label=_("Any zone"),
                           method="filter_zone")
    unassigned = df.BooleanFilter(label=_("Open without performer"), widget=forms.CheckboxInput,
                                  method="filter_unassigned")
    no_next_step = df.BooleanFilter(label=_("Open without next step"), widget=forms.CheckboxInput,
                                    method="filter_no_next_step")
    next_step_overdue = df.BooleanFilter(label=_("Next step overdue"), widget=forms.CheckboxInput,
                                         method="filter_next_step_overdue")
    deferral_pending = df.BooleanFilter(label=_("Deferral pending"), widget=forms.CheckboxInput,
                                        method="filter_deferral_pending")
    no_sla = df.BooleanFilter(label=_("Open without SLA"), widget=forms.CheckboxInput, method="filter_no_sla")
    tier = df.ModelChoiceFilter(label=_("Customer tier"), field_name="customer__vip_tier",
                                queryset=VipTier.objects.all(), empty_label=_("Any tier"), null_label=_("No tier"))
    organisation = df.ModelChoiceFilter(label=_("Organisation"), field_name="customer__organisation",
                                        queryset=Organisation.objects.all(), empty_label=_("Any organisation"))
    channel = df.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("Any channel"))
    period_from = df.DateFilter(label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"}),
                                validators=[validate_in_range],
                                method="filter_nothing")
    period_to = df.DateFilter(label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"}),
                              validators=[validate_in_range],
                              method="filter_nothing")
    created_in_period = df.BooleanFilter(label=_("Created in the period"), widget=forms.CheckboxInput,
                                         method="filter_created")
    done_in_period = df.BooleanFilter(label=_("Done in the period"), widget=forms.CheckboxInput,
                                      method="filter_done")
    on_time = df.ChoiceFilter(label=_("Done on time"), choices=[("yes", _("Yes")), ("no", _("No"))],
                              empty_label=_("Either"), method="filter_on_time")
    sla_clock = df.ChoiceFilter(label=_("SLA clock stopped in the period"), choices=_CLOCKS,
                                empty_label=_("Any clock"), method="filter_sla_clock")
    sla_result = df.ChoiceFilter(label=_("SLA result"), choices=[("met", _("Met")), ("breached", _("Breached"))],
                                 empty_label=_("Met or breached"), method="filter_nothing")
    escalation_level = df.NumberFilter(label=_("Escalated to level (in the period)"),
                                       method="filter_escalation_level")
    manual_escalation = df.ChoiceFilter(label=_("Escalated by hand (in the period)"), choices=_MANUAL,
                                        empty_label=_("Any or none"), method="filter_manual_escalation")
    waited = df.ModelChoiceFilter(label=_("Waited for (in the period)"), queryset=BlockingReason.objects.all(),
                                  empty_label=_("Any or none"), method="filter_waited")

    class Meta:
        fields = ["q", "customer", "queue", "ticket_type", "priority", "performer", "blocking_reason", "overdue",
                  "status", "open", "zone", "unassigned", "no_next_step", "next_step_overdue",
                  "deferral_pending", "no_sla", "tier", "organisation", "channel",
                  "period_from", "period_to", "created_in_period", "done_in_period", "on_time", "sla_clock",
                  "sla_result", "escalation_level", "manual_escalation", "waited"]

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        condition = (
            Q(customer__name__icontains=value)
            | Q(customer__email__icontains=value)
            | Q(customer__phone__icontains=value)
        )
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 3:
            condition |= Q(customer__phone__contains=digits)
        return queryset.filter(condition)

    # --- Dashboard and report links ----------------------------------------------------------------

    def _period(self) -> tuple[datetime | None, datetime | None]:
        """The period's instants [start, end) from whole dates in the viewer's time zone."""
        data = getattr(self.form, "cleaned_data", {}) or {}
        tz = timezone.get_current_timezone()
        first, last = data.get("period_from"), data.get("period_to")
        start = datetime.combine(first, time.min, tzinfo=tz) if first else None
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz) if last else None
        return start, end

    def _in_period(self, field: str) -> Q:
        start, end = self._period()
        condition = Q()
        if start is not None:
            condition &= Q(**{f"{field}__gte": start})
        if end is not None:
            condition &= Q(**{f"{field}__lt": end})
        return condition

    def filter_nothing(self, queryset, name, value):
        return queryset  # read by the other filters

    def filter_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset

    def filter_zone(self, queryset, name, value):
        if value != "red":
            return queryset
        return queryset.filter(red_zone_q(timezone.now()))

    def filter_unassigned(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES, performer__isnull=True) if value else queryset

    def filter_no_next_step(self, queryset, name, value):
        return queryset.without_next_step() if value else queryset

    def filter_next_step_overdue(self, queryset, name, value):
        return queryset.next_step_overdue() if value else queryset

    def filter_no_sla(self, queryset, name, value):
        return without_sla(queryset) if value else queryset

    def filter_deferral_pending(self, queryset, name, value):
        if not value:
            return queryset
        pending = DeferralRequest.objects.filter(ticket_id=OuterRef("pk"), status=DeferralRequest.Status.PENDING)
        return queryset.filter(Exists(pending))

    def filter_created(self, queryset, name, value):
        return queryset.filter(self._in_period("created_at")) if value else queryset

    def filter_done(self, queryset, name, value):
        return queryset.filter(Q(status=Status.DONE) & self._in_period("done_at")) if value else queryset

    def filter_on_time(self, queryset, name, value):
        in_time = on_time_q()
        done = queryset.filter(status=Status.DONE)
        return done.filter(in_time) if value == "yes" else done.exclude(in_time)

    def filter_sla_clock(self, queryset, name, value):
        clocks = SLAClock.objects.filter(
            Q(ticket_id=OuterRef("pk"), kind=value, state=SLAClock.State.STOPPED, counts_for_compliance=True)
            & self._in_period("stopped_at")
        )
        result = (getattr(self.form, "cleaned_data", {}) or {}).get("sla_result")
        if result == "met":
            clocks = clocks.filter(breached_at__isnull=True)
        elif result == "breached":
            clocks = clocks.filter(breached_at__isnull=False)
        return queryset.filter(Exists(clocks))

    def filter_escalation_level(self, queryset, name, value):
        if value is None:
            return queryset
        firings = Firing.objects.filter(Q(ticket_id=OuterRef("pk"), level__order=value) & self._in_period("fired_at"))
        not_seeded = Q(data__seeded__isnull=True) | Q(data__seeded=False)  # exclude(seeded=True) drops keyless rows
        return queryset.filter(Exists(firings.filter(not_seeded)))

    def filter_manual_escalation(self, queryset, name, value):
        manual = ManualEscalation.objects.filter(
            Q(ticket_id=OuterRef("pk"), kind=value) & self._in_period("created_at")
        )
        return queryset.filter(Exists(manual))

    def filter_waited(self, queryset, name, value):
        if value is None:
            return queryset
        # A wait within the period, ended or still open (the delay report's rule, reports.dashboard.waiting).
        start, end = self._period()
        overlap = Q()
        if end is not None:
            overlap &= Q(started_at__lt=end)
        if start is not None:
            overlap &= Q(ended_at__isnull=True) | Q(ended_at__gt=start)
        waits = WaitSegment.objects.filter(Q(ticket_id=OuterRef("pk"), reason=value) & overlap)
        return queryset.filter(Exists(waits))
