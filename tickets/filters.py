"""Filter forms of the ticket lists (django-filter). They narrow a queryset the selectors already limited."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors
from .forms import PersonChoiceField
from .models import OPEN_STATUSES, Priority, Status


class PersonFilter(df.ModelChoiceFilter):
    field_class = PersonChoiceField


def _overdue(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(status__in=OPEN_STATUSES, deadline__lt=timezone.now())


class _Base(df.FilterSet):
    priority = df.ChoiceFilter(label=_("Priority"), choices=Priority.choices, empty_label=_("Any priority"))
    queue = df.ModelChoiceFilter(label=_("Queue"), queryset=selectors.active_queues(), empty_label=_("Any queue"))
    overdue = df.BooleanFilter(label=_("Overdue only"), widget=forms.CheckboxInput, method=_overdue)

    @property
    def form(self):
        form = super().form
        form.order_fields(self._meta.fields)
        return form


class MyWorkFilter(_Base):
    status = df.ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in Status if s in OPEN_STATUSES],
        empty_label=_("Any open status"),
    )

    class Meta:
        fields = ["status", "priority", "queue", "overdue"]


class TicketListFilter(_Base):
    q = df.CharFilter(label=_("Title contains"), field_name="title", lookup_expr="icontains")
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
    customer = df.CharFilter(label=_("Customer"), method="filter_customer")

    class Meta:
        fields = ["q", "customer", "queue", "ticket_type", "priority", "performer", "blocking_reason", "overdue",
                  "status"]

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
