"""Search: one service over tickets and their conversation, two backends (docs/search.md).

:func:`search` finds the tickets a user may open whose number, title, customer (name, email, phone,
organisation), related object reference or message text matches what they typed, newest first,
with the matching fragment. It lives in ``tickets`` because everything it reads and the one
visibility rule it must obey are this floor's; the portal's filters narrow the ``tickets`` queryset
it is given (``portal/search_views.py``), and it applies ``Ticket.objects.visible_to(user)`` itself,
whatever it was given. Internal notes are searched, and shown, only for users who may see notes
(``access.can_see_notes``).

The backends differ only in how a word matches a text (``tickets/search_schema.py`` keeps the
index): PostgreSQL's ``tsvector @@ plainto_tsquery('russian', …)`` through
``django.contrib.postgres.search``, SQLite's FTS5 ``MATCH`` over Snowball stems with every term quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from tickets import access, search_text
from tickets.models import Customer, Message, Organisation, RelatedObject, Ticket

PER_PAGE = 25
MAX_PAGE = 200  # deeper pages are refused (offset scans); narrow the search instead
_NUMBER = re.compile(r"#?\s*(\d{1,12})")


def ticket_number(text: str | None) -> int | None:
    """The ticket number a box holds when it holds only that (``1042`` or ``#1042``)."""
    match = _NUMBER.fullmatch(search_text.clean(text))
    if not match:
        return None
    number = int(match.group(1))
    return number if 0 < number < 2**63 else None


def openable_ticket(user, text: str | None) -> Ticket | None:
    """The ticket a bare number names, if ``user`` may open it (else None: nobody learns it exists)."""
    number = ticket_number(text)
    if number is None:
        return None
    return Ticket.objects.visible_to(user).filter(pk=number).first()


@dataclass(frozen=True)
class Hit:
    ticket: Ticket
    where: str  # message | note | title | customer | related | number
    pieces: list[tuple[str, bool]]  # the fragment: plain-text pieces, True for a matching word
    message: Message | None = None


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# --- Backends: how a word matches a text ------------------------------------------------------------------


class _Postgres:
    """``search_vector @@ plainto_tsquery('russian', words)`` (the database stems the words itself)."""

    @staticmethod
    def _vector():
        # Unqualified: every query it is used in reads one table (messages, or tickets), whatever its alias.
        return RawSQL("search_vector", [], output_field=SearchVectorField())

    @staticmethod
    def _query(words: list[str]):
        return SearchQuery(" ".join(words), config="russian", search_type="plain")

    def messages(self, queryset: QuerySet, terms, words) -> QuerySet:
        return queryset.annotate(_match=self._vector()).filter(_match=self._query(words))

    def titles(self, terms, words) -> QuerySet:
        return Ticket.objects.annotate(_match=self._vector()).filter(_match=self._query(words)).values("pk")


class _SQLite:
    """FTS5 ``MATCH`` on the Snowball stems, every term a quoted string (never FTS5 syntax)."""

    def messages(self, queryset: QuerySet, terms, words) -> QuerySet:
        ids = RawSQL(
            "SELECT rowid FROM tickets_message_fts WHERE tickets_message_fts MATCH %s", [search_text.fts5_match(terms)]
        )
        return queryset.filter(pk__in=ids)

    def titles(self, terms, words) -> QuerySet:
        ids = RawSQL(
            "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s", [search_text.fts5_match(terms)]
        )
        return Ticket.objects.filter(pk__in=ids).values("pk")


def backend():
    return _Postgres() if connection.vendor == "postgresql" else _SQLite()


# --- The service --------------------------------------------------------------------------------------------


def message_kinds(user) -> list[str]:
    """The messages ``user`` may find: the conversation, and internal notes for those who may see notes."""
    kinds = [Message.Kind.INBOUND, Message.Kind.PUBLIC_REPLY]
    if access.can_see_notes(user):
        kinds.append(Message.Kind.INTERNAL_NOTE)
    return kinds


def _words(text: str) -> list[str]:
    """The query's words PostgreSQL is given (stop words out, as many as the stems)."""
    result: list[str] = []
    for word in search_text.words(text):
        if word not in search_text.STOP_WORDS and word not in result:
            result.append(word)
    return result[: search_text.MAX_WORDS]


def _people_ids(text: str) -> list[QuerySet]:
    """Tickets by customer name, email, phone, organisation, and by related object reference (substrings)."""
    organisations = Organisation.objects.filter(Q(name__icontains=text) | Q(name_ru__icontains=text))
    # No join and no OR with a subquery: PostgreSQL then ORs the columns' pg_trgm indexes (a bitmap scan).
    fields = Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 5 and len(digits) * 2 >= len(text.replace(" ", "")):  # a phone number typed with spaces
        fields |= Q(phone__contains=digits)
    return [
        Ticket.objects.filter(customer_id__in=Customer.objects.filter(fields).values("pk")).values("pk"),
        Ticket.objects.filter(customer__organisation_id__in=organisations.values("pk")).values("pk"),
        Ticket.objects.filter(
            related_object_id__in=RelatedObject.objects.filter(external_ref__icontains=text).values("pk")
        ).values("pk"),
    ]


def _matching_ids(parts: list[QuerySet]) -> RawSQL:
    """The ids of every ticket one of ``parts`` selects, as one ``UNION`` (a subquery for ``pk__in``).

    A union, not ``OR``-ed conditions on the ticket: the database then looks up only the matching tickets
    (the indexes of each part) and applies visibility and the filters to them, instead of testing every
    ticket it can see against every part.
    """
    compiled = [part.order_by().query.sql_with_params() for part in parts]
    return RawSQL(" UNION ".join(sql for sql, _params in compiled), [p for _sql, params in compiled for p in params])


def search(
    user, text: str | None, *, tickets: QuerySet | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Results:
    """The tickets ``user`` may open that match ``text``, newest first, one page (see the module docstring).

    ``tickets`` narrows the search (the ticket list's filters); visibility is applied here regardless.
    An empty or word-less query finds nothing; no input raises.
    """
    query = search_text.clean(text)
    page = page if 1 <= page <= MAX_PAGE else 1
    if not query or not user.is_authenticated:
        return Results(query=query)
    terms, words = search_text.query_terms(query), _words(query)
    engine = backend()
    kinds = message_kinds(user)
    parts = _people_ids(query) if len(query) >= 3 else []  # pg_trgm needs three characters
    number = ticket_number(query)
    if number is not None:
        parts.append(Ticket.objects.filter(pk=number).values("pk"))
    if terms:
        parts.append(engine.messages(Message.objects.filter(kind__in=kinds), terms, words).values("ticket_id"))
        parts.append(engine.titles(terms, words))
    if not parts:
        return Results(query=query)
    base = tickets if tickets is not None else Ticket.objects.all()
    rows = list(
        base.visible_to(user)
        .filter(pk__in=_matching_ids(parts))
        .select_related("customer", "queue", "related_object", "performer__profile")
        .order_by("-created_at", "-pk")[(page - 1) * per_page : page * per_page + 1]
    )
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    return Results(
        query=query, hits=_hits(rows, engine, terms, words, kinds, query, number), page=page, has_next=has_next
    )


def _hits(rows, engine, terms, words, kinds, query, number) -> list[Hit]:
    """Each ticket with what matched: its newest matching message, else its title, customer or number."""
    latest: dict[int, Message] = {}
    if terms and rows:
        messages = (
            engine.messages(Message.objects.filter(ticket_id__in=[t.pk for t in rows], kind__in=kinds), terms, words)
            .only("id", "ticket_id", "kind", "body", "created_at")
            .order_by("ticket_id", "-created_at", "-id")
        )
        for message in messages:
            latest.setdefault(message.ticket_id, message)
    hits = []
    for ticket in rows:
        message = latest.get(ticket.pk)
        if message is not None:
            where = "note" if message.kind == Message.Kind.INTERNAL_NOTE else "message"
            hits.append(Hit(ticket, where, search_text.fragment(message.body, terms), message))
            continue
        title = search_text.fragment(ticket.title, terms)
        if any(is_hit for _piece, is_hit in title):
            where = "title"
        elif number is not None and ticket.pk == number:
            where = "number"
        elif ticket.related_object and query.lower() in ticket.related_object.external_ref.lower():
            where = "related"
        else:
            where = "customer"
        hits.append(Hit(ticket, where, title))
    return hits
