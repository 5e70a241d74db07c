"""Ticket tables of the portal (django-tables2): sortable, paginated, one row per ticket.

Cells are cheap: every column renders in Python (``render_FOO`` returning ``format_html``) from what the
selectors loaded for the page (``portal.selectors``): no template, no template tag and no query per cell.
The SLA column is drawn by a callable the view passes in (``sla_cell``: the SLA app's badge renderer, a
floor above this one), with one "now" for the whole table.
"""

from __future__ import annotations

import functools

import django_tables2 as tables
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.db.models.sql.where import WhereNode
from django.middleware.csrf import get_token
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRows

from tickets.models import Ticket, TicketKind, display_name
from tickets.templatetags.opsdesk import format_dt, priority_mark, status_pill

TABLE_TEMPLATE = "tickets/_table.html"
COUNT_CAP = 1000  # tickets counted exactly for the pagination; beyond it the pages say "more than 1000"


class CappedPaginator(Paginator):
    """A paginator that counts at most ``COUNT_CAP + 1`` rows (``COUNT(*)`` over ``LIMIT``, never the whole set).

    ``capped`` says the real number is larger; ``count`` is then ``COUNT_CAP + 1`` so the pages up to the cap
    (and one more) are linked. Querysets only; lists are counted as they are."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        # A table paginates its BoundRows; their TableQuerysetData holds the queryset.
        queryset = getattr(getattr(self.object_list, "data", None), "data", self.object_list)
        if isinstance(queryset, QuerySet):
            # Keys only: no joins for select_related, no annotations (the intake's queue order is a subquery per row).
            return queryset.order_by().values("pk")[: self.cap + 1].count()
        return len(self.object_list)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def count_label(self) -> str:
        """The number shown beside a list's title: "42", or "1000+" when capped."""
        return f"{self.cap}+" if self.capped else str(self.count)


class KeysFirstPaginator(CappedPaginator):
    """A capped paginator that picks the page's rows by their keys first (a "deferred join").

    For a table whose order is computed per row rather than read off an index (the intake board's queue
    order: each waiting ticket's earliest running SLA clock, its VIP tier), the database would join every
    candidate row to everything the rows draw (customer, queue, type…) before sorting them all for 25. Here
    the page is one query whose inner part sorts the keys only and keeps the page's (``ORDER BY … LIMIT …
    OFFSET …``); the outer part joins those rows alone, in the same order. Same rows, same order, same
    number of queries."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        queryset = getattr(getattr(rows, "data", None), "data", None)
        if not isinstance(queryset, QuerySet) or not isinstance(rows, BoundRows):
            return self._get_page(rows[bottom:top], number, self)
        keys = queryset.values("pk")[bottom:top]
        # The keys carry the filters: the outer part tests ``pk IN (keys)`` alone. Repeating the filters there (the
        # intake's "open, and nobody performs it or still new") made PostgreSQL expect one row of the 25 and join
        # each to every customer in a nested loop (12 ms at 1,000,000 tickets).
        outer = queryset.all()
        outer.query.where = WhereNode()
        page_rows = BoundRows(data=outer.filter(pk__in=keys), table=rows.table, pinned_data=rows.pinned_data)
        return self._get_page(page_rows, number, self)


@functools.cache
def _sla_tag() -> Template:
    return Template("{% load sla_tags %}{% sla_badges ticket now %}")


def _sla_cell_by_tag(ticket, now):
    """The SLA badges through the SLA app's template tag (tickets sit below sla and do not import it)."""
    return _sla_tag().render(Context({"ticket": ticket, "now": now}))


def _row_class(record) -> str:
    return "is-overdue" if record.is_overdue else ""


class TicketTable(tables.Table):
    reference = tables.Column(verbose_name="#", accessor="pk", attrs={"td": {"class": "col-ref"}})
    title = tables.Column(verbose_name=_("Title"), attrs={"td": {"class": "col-title"}})
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__name",))
    status = tables.Column(verbose_name=_("Status"))
    sla = tables.Column(verbose_name=_("SLA"), orderable=False, accessor="pk")
    priority = tables.Column(verbose_name=_("Priority"))
    blocking_reason = tables.Column(verbose_name=_("Blocking reason"), order_by=("blocking_reason__position",))
    deadline = tables.Column(verbose_name=_("Deadline"), attrs={"td": {"class": "col-date"}})
    next_step = tables.Column(verbose_name=_("Next step"), order_by=("next_step_due", "next_step"))
    updated_at = tables.Column(verbose_name=_("Updated"), attrs={"td": {"class": "col-date"}})

    class Meta:
        model = Ticket
        template_name = TABLE_TEMPLATE
        fields = ()
        sequence = (
            "reference",
            "title",
            "customer",
            "status",
            "sla",
            "priority",
            "blocking_reason",
            "deadline",
            "next_step",
            "updated_at",
        )
        attrs = {"class": "table"}
        row_attrs = {"class": _row_class}
        order_by = ("deadline",)

    def __init__(self, data, *args, sla_cell=None, **kwargs):
        """``sla_cell(ticket, now)`` renders a row's SLA badges (the portal passes
        ``sla.templatetags.sla_tags.sla_badges``); without it, the ``{% sla_badges %}`` tag draws them."""
        super().__init__(data, *args, **kwargs)
        self.sla_cell = sla_cell or _sla_cell_by_tag

    @cached_property
    def now(self):
        """One instant for every row of the page."""
        return timezone.now()

    def order_deadline(self, queryset, is_descending):
        expression = F("deadline").desc(nulls_last=True) if is_descending else F("deadline").asc(nulls_last=True)
        return queryset.order_by(expression, "pk"), True

    @cached_property
    def _url_parts(self) -> dict[str, tuple[str, str]]:
        return {}

    def ticket_url(self, name: str, pk: int) -> str:
        """``reverse(name, args=[pk])`` for a ticket URL whose last number is the key ("/tickets/42/"), reversed
        once per table around a placeholder, not once or twice per row."""
        parts = self._url_parts.get(name)
        if parts is None:
            head, _zero, tail = reverse(name, args=[0]).rpartition("/0/")
            parts = self._url_parts[name] = (head + "/", "/" + tail)
        return f"{parts[0]}{pk}{parts[1]}"

    def render_reference(self, record):
        return format_html('<a href="{}">#{}</a>', self.ticket_url("tickets:detail", record.pk), record.pk)

    def render_title(self, record):
        link = format_html('<a href="{}">{}</a>', self.ticket_url("tickets:detail", record.pk), record.title)
        if getattr(record, "urgent_since", None):  # marked urgent by an escalation level (ticket_list annotates it)
            return format_html(
                '{} <span class="badge badge-overdue" data-urgent title="{}">{}</span>', link,
                _("Marked urgent by an escalation"), _("Urgent"),
            )
        return link

    def render_sla(self, record):
        return self.sla_cell(record, self.now)

    def render_customer(self, record):
        if record.kind == TicketKind.INTERNAL:
            return format_html('<span class="badge badge-internal">{}</span>', _("Internal task"))
        customer = record.customer
        if customer.vip_tier_id:
            return format_html('{} <span class="badge badge-vip">{}</span>', customer.name, customer.vip_tier.name)
        return customer.name

    def render_status(self, record):
        return status_pill(record.status)

    def render_priority(self, record):
        return priority_mark(record.priority)

    def render_blocking_reason(self, record):
        return record.blocking_reason.label

    def render_deadline(self, record):
        if record.is_overdue:
            return format_html(
                '<span class="overdue" title="{}">{}</span>', _("Overdue"), format_dt(record.deadline)
            )
        return format_dt(record.deadline)

    def render_next_step(self, record):
        if record.is_next_step_overdue:
            return format_html(
                '{} <span class="overdue nowrap" title="{}" data-next-step-overdue>· {}</span>', record.next_step,
                _("Next step overdue"), format_dt(record.next_step_due),
            )
        if record.next_step_due:
            return format_html(
                '{} <span class="muted nowrap">· {}</span>', record.next_step, format_dt(record.next_step_due)
            )
        return record.next_step

    def render_updated_at(self, record):
        return format_dt(record.updated_at)


class MyWorkTable(TicketTable):
    class Meta(TicketTable.Meta):
        empty_text = _("Nothing on your desk right now. Tickets you perform or own will show up here.")


class TicketListTable(TicketTable):
    queue = tables.Column(verbose_name=_("Queue"), order_by=("queue__name",))
    performer = tables.Column(
        verbose_name=_("Performer"), order_by=("performer__profile__display_name", "performer__username")
    )

    class Meta(TicketTable.Meta):
        sequence = (
            "reference",
            "title",
            "customer",
            "status",
            "sla",
            "priority",
            "queue",
            "performer",
            "blocking_reason",
            "deadline",
            "next_step",
            "updated_at",
        )
        order_by = ("-updated_at",)
        empty_text = _("No tickets match these filters.")

    def render_queue(self, record):
        return record.queue.label

    def render_performer(self, record):
        return display_name(record.performer)


class IntakeTable(TicketTable):
    queue = tables.Column(verbose_name=_("Queue"), order_by=("queue__name",))
    ticket_type = tables.Column(verbose_name=_("Type"), order_by=("ticket_type__name",))
    created_at = tables.Column(verbose_name=_("Waiting since"), attrs={"td": {"class": "col-date"}})
    assign = tables.Column(
        verbose_name=_("Assign"), accessor="pk", orderable=False, attrs={"td": {"class": "col-assign"}}
    )

    class Meta(TicketTable.Meta):
        sequence = (
            "reference", "title", "customer", "status", "sla", "priority", "queue", "ticket_type", "created_at",
            "assign",
        )
        exclude = ("blocking_reason", "deadline", "next_step", "updated_at")
        order_by = ()  # the selector's queue order (routing.queue_order.in_queue_order) unless sorted
        empty_text = _("The intake is clear: every open ticket has a performer.")

    def render_queue(self, record):
        return record.queue.label

    def render_ticket_type(self, record):
        return record.ticket_type.label

    @cached_property
    def _assign_parts(self):
        """What every row's inline assign form shares: the CSRF token, the return path, the words."""
        return {
            "csrf": get_token(self.request),
            "next": self.request.get_full_path(),
            "choose": gettext("— choose —"),
            "assign": gettext("Assign"),
            "none": format_html('<span class="muted">{}</span>', gettext("No agents in this queue")),
            "options": {},  # queue id -> the <option>s of its agents, built once per queue
        }

    def render_assign(self, record):
        """The inline assign form of a row: the agents of the ticket's queue (prefetched as ``agent_memberships``)."""
        parts = self._assign_parts
        agents = record.queue.agent_memberships
        if not agents:
            return parts["none"]
        options = parts["options"].get(record.queue_id)
        if options is None:
            options = parts["options"][record.queue_id] = format_html_join(
                "", '<option value="{}">{}</option>', ((m.user_id, display_name(m.user)) for m in agents)
            )
        label = gettext("Performer for %(ref)s") % {"ref": record.reference}
        return format_html(
            '<form method="post" action="{}" class="inline-form">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<label class="visually-hidden" for="assign-{}">{}</label>'
            '<select name="performer" id="assign-{}" required><option value="">{}</option>{}</select>'
            ' <button type="submit" class="btn btn-small btn-primary">{}</button></form>',
            self.ticket_url("tickets:assign", record.pk), parts["csrf"], parts["next"], record.pk, label, record.pk,
            parts["choose"], options, parts["assign"],
        )

    def render_created_at(self, record):
        return format_dt(record.created_at)


class SelectColumn(tables.Column):
    """A row's checkbox for bulk actions (``portal.bulk_views``): it posts ``ticket`` with the page's
    ``bulk-form``, wherever that form sits. Added by the view, only for those who may act in bulk."""

    def __init__(self):
        super().__init__(verbose_name=_("Select"), accessor="pk", orderable=False, empty_values=(),
                         attrs={"th": {"class": "col-select"}, "td": {"class": "col-select"}})

    def render(self, record):
        return format_html('<input type="checkbox" name="ticket" value="{}" form="bulk-form" aria-label="{} #{}">',
                           record.pk, _("Select"), record.pk)
class CustomerTicketTable(TicketTable):
    """The customer page: one customer's tickets, open first then newest unless sorted."""

    queue = tables.Column(verbose_name=_("Queue"), order_by=("queue__name",))
    performer = tables.Column(
        verbose_name=_("Performer"), order_by=("performer__profile__display_name", "performer__username")
    )
    created_at = tables.Column(verbose_name=_("Created"), attrs={"td": {"class": "col-date"}})

    class Meta(TicketTable.Meta):
        sequence = ("reference", "title", "status", "sla", "priority", "queue", "performer", "deadline", "created_at")
        exclude = ("customer", "blocking_reason", "next_step", "updated_at")
        order_by = ()  # the selector's order (portal.customer_selectors.open_first) unless sorted
        empty_text = _("No tickets of this customer that you may open.")

    def render_queue(self, record):
        return record.queue.label

    def render_performer(self, record):
        return display_name(record.performer)

    def render_created_at(self, record):
        return format_dt(record.created_at)
