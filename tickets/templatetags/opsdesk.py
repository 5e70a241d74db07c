"""Template helpers of the portal: dates in the viewer's zone, people, status pills, history sentences."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.db.models import Model
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django_tables2.columns import ManyToManyColumn
from django_tables2.utils import Accessor, signature

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


# --- Form fields -------------------------------------------------------------------


@register.simple_tag
def form_field(field, field_attrs="", extra_class="") -> str:
    """``{% include "tickets/_field.html" with field=… %}`` built in Python: the same markup, byte for byte.

    The ticket page draws about twenty fields; an include per field (a context push, the partial's nodes, a
    template lookup) cost several milliseconds a view. ``tickets/_field.html`` stays the reference of the markup
    (and serves the other pages); ``tests/portal/test_form_field_tag.py`` compares both renderings."""
    errors = field.errors
    classes = "field"
    if errors:
        classes += " has-error"
    if field.field.required:
        classes += " is-required"
    if extra_class:
        classes += " " + conditional_escape(extra_class)
    attrs = f" {conditional_escape(field_attrs)}" if field_attrs else ""
    widget = str(field)
    label = conditional_escape(field.label)
    if field.widget_type == "checkbox":
        body = f"\n  <label>{widget} {label}</label>\n  "
    else:
        for_id = field.id_for_label
        for_attr = f' for="{conditional_escape(for_id)}"' if for_id else ""
        body = f"\n  <label{for_attr}>{label}</label>\n  {widget}\n  "
    auto_id = field.auto_id
    help_part = ""
    if field.help_text:
        help_id = f' id="{conditional_escape(auto_id)}_helptext"' if auto_id else ""
        help_part = f'<small class="help"{help_id}>{conditional_escape(localize(field.help_text))}</small>'
    error_part = ""
    if errors:
        error_id = f' id="{conditional_escape(auto_id)}_error"' if auto_id else ""
        shown = "".join(f'<small class="error">{conditional_escape(localize(error))}</small>' for error in errors)
        error_part = f'<span class="errors"{error_id}>{shown}</span>'
    return mark_safe(  # every value above is escaped, the widget is Django's own safe markup
        f'<div class="{classes}"{attrs}>\n  {body}\n  {help_part}\n  {error_part}\n</div>\n'
    )


# --- Tables ------------------------------------------------------------------------


_CELL_ARGUMENTS = frozenset({"record", "table", "column", "bound_column"})


def _cell_renderer(table, bound_column):
    """A function ``record -> cell`` doing what django-tables2's ``BoundRow.get_cell`` does for this column,
    without its per-cell work (an accessor walk, ``get_FOO_display`` probing and ``inspect.signature`` for
    every cell): a plain attribute, the column's default when the value is empty, else its render method
    called with the arguments it declares. Columns this shortcut does not cover (a dotted accessor, a link,
    a render asking for the value or the row) return ``None`` and keep django-tables2's own path."""
    accessor = str(bound_column.accessor)
    column = bound_column.column
    if "." in accessor or "__" in accessor or bound_column.link or isinstance(column, ManyToManyColumn):
        return None
    arguments, catch_all = signature(bound_column.render)
    if catch_all or not set(arguments) <= _CELL_ARGUMENTS:
        return None
    render, empty, default = bound_column.render, column.empty_values, bound_column.default
    fixed = {"table": table, "column": column, "bound_column": bound_column}
    fixed = {name: fixed[name] for name in arguments if name != "record"}
    with_record = "record" in arguments

    resolve = Accessor(accessor).resolve
    display = f"get_{accessor}_display"

    def cell(record):
        try:
            value = getattr(record, accessor) if isinstance(record, Model) else resolve(record)
            if callable(value):  # a method named by the accessor: django-tables2 calls it
                value = resolve(record)
        except Exception:  # django-tables2 shows the default for an unresolvable accessor too
            value = None
        if value in empty and isinstance(record, Model) and hasattr(record, display):
            value = getattr(record, display)()  # a choice's label decides emptiness, as in django-tables2
        if value in empty:
            return default
        return render(record=record, **fixed) if with_record else render(**fixed)

    return cell


def _cell_html(value) -> str:
    """What ``{{ cell }}`` prints: localized, escaped unless safe."""
    if not isinstance(value, str):
        value = localize(value)
    return conditional_escape(value)


@register.filter
def table_row(row, table) -> str:
    """The ``<td>`` cells of a django-tables2 row, for ``tickets/_table.html``, built in one piece.

    The column parts (the ``<td>`` attributes and the header repeated as ``data-label`` for narrow screens)
    and each column's cell renderer are computed once per table, not once per cell: a column's
    ``attrs["td"]`` must therefore not depend on the record (per-row attributes go in ``row_attrs``)."""
    columns = getattr(table, "_row_columns", None)
    if columns is None:
        columns = table._row_columns = [
            (
                format_html('<td {} data-label="{}">', column.attrs["td"].as_html(), column.header),
                column.name,
                _cell_renderer(table, column),
            )
            for column in table.columns
        ]
    record = row.record
    parts = []
    for opening, name, cell in columns:
        value = cell(record) if cell is not None else row.get_cell(name)
        parts.append(opening)
        parts.append(_cell_html(value))
        parts.append("</td>")
    return mark_safe("".join(parts))  # every part is escaped above


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
