"""The history kinds of links and merges (declared in ``TicketsConfig.ready``): shapes and sentences."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets import history
from tickets.models import LinkKind


def _what(e) -> str:
    kind, outgoing = e.data.get("link"), e.data.get("direction") == "out"
    other = f"#{e.data.get('other')}"
    if kind == LinkKind.PARENT:
        return (
            _("%(other)s is now a child of this ticket") if outgoing else _("this ticket is now a child of %(other)s")
        ) % {"other": other}
    if kind == LinkKind.DUPLICATE:
        return (
            _("this ticket is a duplicate of %(other)s") if outgoing else _("%(other)s is a duplicate of this ticket")
        ) % {"other": other}
    return _("this ticket is related to %(other)s") % {"other": other}


def _linked(e, who, lk, ticket) -> str:
    return _("%(who)s linked tickets: %(what)s.") % {"who": who, "what": _what(e)}


def _unlinked(e, who, lk, ticket) -> str:
    return _("%(who)s removed the link with #%(other)s.") % {"who": who, "other": e.data.get("other")}


def _moved(e) -> str:
    return ngettext("%(count)s message moved", "%(count)s messages moved", e.data.get("messages", 0)) % {
        "count": e.data.get("messages", 0)
    }


def _merged_into(e, who, lk, ticket) -> str:
    return _("%(who)s merged this ticket into #%(into)s as a duplicate (%(moved)s); it is closed.") % {
        "who": who,
        "into": e.data.get("into"),
        "moved": _moved(e),
    }


def _merged_from(e, who, lk, ticket) -> str:
    return _("%(who)s merged the duplicate #%(duplicate)s into this ticket (%(moved)s).") % {
        "who": who,
        "duplicate": e.data.get("duplicate"),
        "moved": _moved(e),
    }


_LINK = {
    "link": "related, duplicate or parent",
    "other": "the other ticket's id",
    "direction": "out: this ticket is the link's source (duplicate of / parent of the other); in: its target",
}
_MOVED = {
    "messages": "how many messages moved",
    "attachments": "how many files moved",
    "observers": "user ids added as observers of the surviving ticket",
}

KINDS = {
    "ticket.linked": (_LINK, ("link", "other", "direction"), _linked),
    "ticket.unlinked": (_LINK, ("link", "other", "direction"), _unlinked),
    "ticket.merged_into": ({"into": "the surviving ticket's id", **_MOVED}, ("into", "messages"), _merged_into),
    "ticket.merged_from": (
        {"duplicate": "the merged duplicate's id", **_MOVED},
        ("duplicate", "messages"),
        _merged_from,
    ),
}


def declare() -> None:
    history.declare_all("tickets", KINDS)
