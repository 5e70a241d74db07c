"""Links between tickets (related, duplicate of, parent / child): the one writer of ``TicketLink``.

Each link or unlink locks both tickets (in id order) and writes a history row on each. A pair of
tickets has at most one link whatever its direction; a ticket is never linked to itself; parent
links never form a cycle. ``ticket_links`` reads a ticket's links from both ends for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import router, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.locks import lock as _lock
from core.rowcache import Precompiled
from tickets import visibility
from tickets.errors import TicketError
from tickets.history import record
from tickets.models import LinkKind, Ticket, TicketLink

# What the ticket page offers: "child of" is a parent link written the other way round.
CHILD = "child"
CHOICES = (LinkKind.RELATED, LinkKind.DUPLICATE, LinkKind.PARENT, CHILD)
MAX_DEPTH = 100  # parent chains deeper than this are refused (and a cycle can never be walked for ever)


def lock_pair(first: Ticket, second: Ticket) -> None:
    """Lock two tickets in id order, so two writers on the same pair never deadlock."""
    for ticket in sorted((first, second), key=lambda t: t.pk):
        _lock(ticket)


def link_between(first_id: int, second_id: int) -> TicketLink | None:
    """The link between two tickets, whichever way it was written."""
    return TicketLink.objects.filter(
        Q(source_id=first_id, target_id=second_id) | Q(source_id=second_id, target_id=first_id)
    ).first()


def _ancestors(ticket_id: int) -> set[int]:
    """Every ticket above ``ticket_id`` through parent links (one query per level)."""
    seen: set[int] = set()
    level = {ticket_id}
    for _depth in range(MAX_DEPTH):
        parents = (
            set(
                TicketLink.objects.filter(kind=LinkKind.PARENT, target_id__in=level).values_list("source_id", flat=True)
            )
            - seen
        )
        if not parents:
            return seen
        seen |= parents
        level = parents
    raise TicketError(_("The chain of parent tickets is too deep."))


def _check_visible(other: Ticket, actor) -> None:
    if actor is not None and not Ticket.objects.visible_to(actor).filter(pk=other.pk).exists():
        raise TicketError(_("Ticket #%(pk)s does not exist or you may not open it.") % {"pk": other.pk})


def _sides(ticket: Ticket, other: Ticket, kind: str) -> tuple[Ticket, Ticket, str]:
    if kind == CHILD:
        return other, ticket, LinkKind.PARENT
    if kind not in LinkKind.values:
        raise TicketError(_("Unknown kind of link."))
    return ticket, other, kind


@transaction.atomic
def ticket_link(ticket: Ticket, *, other: Ticket | None, kind: str, actor) -> TicketLink:
    """Link ``ticket`` to ``other``: ``kind`` is related, duplicate (of other), parent or child (of other)."""
    if other is None:
        raise TicketError(_("Choose the ticket to link."))
    if other.pk == ticket.pk:
        raise TicketError(_("A ticket cannot be linked to itself."))
    source, target, kind = _sides(ticket, other, kind)
    _check_visible(other, actor)
    lock_pair(ticket, other)
    existing = link_between(ticket.pk, other.pk)
    if existing is not None:
        raise TicketError(
            _("Tickets %(a)s and %(b)s are already linked (%(kind)s).")
            % {"a": ticket.reference, "b": other.reference, "kind": LinkKind(existing.kind).label.lower()}
        )
    if kind == LinkKind.PARENT and target.pk in _ancestors(source.pk) | {source.pk}:
        raise TicketError(
            _("%(child)s is already above %(parent)s: parent links cannot go round in a circle.")
            % {"child": target.reference, "parent": source.reference}
        )
    link = TicketLink.objects.create(source=source, target=target, kind=kind, created_by=actor)
    record(source, "ticket.linked", actor, link=kind, other=target.pk, direction="out")
    record(target, "ticket.linked", actor, link=kind, other=source.pk, direction="in")
    return link


@transaction.atomic
def ticket_unlink(ticket: Ticket, *, other: Ticket | None, actor) -> None:
    """Remove the link between ``ticket`` and ``other``; a merge's duplicate link stays (it explains the merge)."""
    if other is None:
        raise TicketError(_("Choose the ticket to unlink."))
    lock_pair(ticket, other)
    link = link_between(ticket.pk, other.pk)
    if link is None:
        raise TicketError(_("Tickets %(a)s and %(b)s are not linked.") % {"a": ticket.reference, "b": other.reference})
    if records_merge(link):
        raise TicketError(_("This link records a merge and stays."))
    source_id, target_id, kind = link.source_id, link.target_id, link.kind
    link.delete()
    record(source_id, "ticket.unlinked", actor, link=kind, other=target_id, direction="out")
    record(target_id, "ticket.unlinked", actor, link=kind, other=source_id, direction="in")


# --- Reading --------------------------------------------------------------------------------


def records_merge(link: TicketLink) -> bool:
    """The "duplicate of" link a merge wrote (its source is merged): it explains the merge and is never removed."""
    return link.kind == LinkKind.DUPLICATE and link.source.merged_into_id is not None


@dataclass(frozen=True)
class ShownLink:
    """One link as ``ticket``'s page reads it: the other ticket and what it is to this one."""

    link: TicketLink
    other: Ticket
    label: str
    is_child: bool
    records_merge: bool


def _label(kind: str, outgoing: bool) -> str:
    if kind == LinkKind.RELATED:
        return _("Related to")
    if kind == LinkKind.DUPLICATE:
        return _("Duplicate of") if outgoing else _("Duplicate")
    return _("Parent of") if outgoing else _("Child of")


def ticket_links(ticket: Ticket, viewer) -> list[ShownLink]:
    """``ticket``'s links from both ends whose other ticket ``viewer`` may open (one query; two when it has
    links and ``viewer`` does not see everything).

    Most tickets have no link: the links are read by a statement compiled once per process, and only when there
    are some is the visibility rule asked about their other ends (by key, never the whole visible set listed).
    """
    links = _LINKS_OF.objects(ticket.pk, ticket.pk, using=router.db_for_read(TicketLink))
    if not links:
        return []
    others = {link.target_id if link.source_id == ticket.pk else link.source_id for link in links}
    if visibility.condition(viewer) is not None:
        others = set(Ticket.objects.visible_to(viewer).filter(pk__in=others).values_list("pk", flat=True))
    shown = []
    for link in links:
        outgoing = link.source_id == ticket.pk
        other = link.target if outgoing else link.source
        if other.pk not in others:
            continue
        shown.append(
            ShownLink(
                link,
                other,
                _label(link.kind, outgoing),
                is_child=outgoing and link.kind == LinkKind.PARENT,
                records_merge=records_merge(link),
            )
        )
    return shown


_LINKS_OF = Precompiled(
    lambda source_id, target_id: (
        TicketLink.objects.filter(Q(source_id=source_id) | Q(target_id=target_id))
        .select_related("source", "target")
        .order_by("kind", "created_at", "pk")
    ),
    -7_100_401,  # stand for the ticket while the SQL is compiled: no ticket has them
    -7_100_402,
)
