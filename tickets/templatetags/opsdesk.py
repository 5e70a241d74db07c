"""Template helpers of the portal: dates in the viewer's zone, people, status pills, history sentences."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.html import format_html

from core.formatting import format_dt
from tickets.models import Priority, Status, display_name
from tickets.sentences import Lookups, describe_event

register = template.Library()


# --- Values ------------------------------------------------------------------------




@register.filter
def dt(value) -> str:
    return format_dt(value)


@register.filter
def iso(value) -> str:
    """An instant for ``<time datetime>`` and scripts: whole seconds (HTML allows at most three fraction digits)."""
    if not value:
        return ""
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value.isoformat()


@register.filter
def css_name(value) -> str:
    """``ticket.status_changed`` → ``ticket-status-changed``, for a CSS class."""
    return "".join(ch if ch.isalnum() else "-" for ch in str(value)).lower()


@register.filter
def person(user) -> str:
    return display_name(user)


@register.filter
def initials(user) -> str:
    name = display_name(user).strip()
    parts = [p for p in name.replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def status_pill(status: str) -> str:
    try:
        label = Status(status).label
    except ValueError:
        label = status
    return format_html('<span class="pill pill-{}">{}</span>', status, label)


def priority_mark(priority: int) -> str:
    try:
        label = Priority(priority).label
    except ValueError:
        label = str(priority)
    return format_html('<span class="prio prio-{}">{}</span>', priority, label)


register.simple_tag(status_pill, name="status_pill")
register.simple_tag(priority_mark, name="priority_mark")


# --- Tables ------------------------------------------------------------------------


@register.filter
def table_cells(row, table):
    """``(td attributes, header, cell)`` of a django-tables2 row, for ``tickets/_table.html``.

    The column parts (the ``<td>`` attributes and the header repeated as ``data-label`` for narrow screens)
    are computed once per table, not once per cell: a column's ``attrs["td"]`` must therefore not depend on
    the record (per-row attributes go in ``row_attrs``)."""
    columns = getattr(table, "_cell_columns", None)
    if columns is None:
        columns = table._cell_columns = [(column.attrs["td"].as_html(), column.header) for column in table.columns]
    return [(attrs, header, cell) for (attrs, header), (_column, cell) in zip(columns, row.items(), strict=True)]


# --- History -----------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def event_sentence(context, event, ticket=None) -> str:
    lookups = context.render_context.get("opsdesk_history_lookups")
    if lookups is None:
        lookups = context.render_context["opsdesk_history_lookups"] = Lookups()
    return describe_event(event, ticket, lookups)


@register.filter
def event_comment(event) -> str:
    """The free-text part of a history row (a comment or a reason), if any."""
    data = event.data or {}
    if event.kind in ("ticket.status_changed", "ticket.reason_changed"):
        return data.get("comment", "")
    if event.kind == "ticket.unassigned":
        return data.get("reason", "")
    return ""
