"""Search: one service over tickets and their conversation, two backends (docs/search.md).

:func:`search` finds the tickets a user may open whose number, title, customer (name, email, phone,
organisation), related object reference or message text matches what they typed, newest first,
with the matching fragment. It lives in ``tickets`` because everything it reads and the one
visibility rule it must obey are this floor's; the portal's filters narrow the ``tickets`` queryset
it is given (``portal/search_views.py``), and it applies ``Ticket.objects.visible_to(user)`` itself,
whatever it was given. Internal notes are searched, and shown, only for users who may see notes
(``access.can_see_notes``).

How it stays fast at a million tickets (docs/search.md, "Speed"): each kind of match is looked up on its own
and the newest tickets of each are merged. A source with few matches is fetched through its own index (GIN,
pg_trgm) and its tickets looked up by id; a common word is answered by walking the tickets the user may see
newest first and testing each one's messages, which stops as soon as a page is full. Which of the two, is
decided per query from the planner's estimate and a capped fetch (:func:`_capped`).

The backends differ only in how a word matches a text (``tickets/search_schema.py`` keeps the
index): PostgreSQL's ``tsvector @@ plainto_tsquery('russian', …)`` through
``django.contrib.postgres.search``, SQLite's FTS5 ``MATCH`` over Snowball stems with every term quoted.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection, transaction
from django.db.models import BooleanField, DateTimeField, Exists, F, OuterRef, Q, QuerySet
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

    def newest_matches(self, ticket_ids: list[int], kinds: list[str], terms, words) -> list[Message]:
        """The newest matching message of each ticket, reading only those tickets' messages.

        ``OFFSET 0`` keeps the planner from intersecting with the GIN index: for a common word that would read
        the whole posting list of the word to test a few dozen messages the ``ticket_id`` index finds directly.
        """
        table = Message._meta.db_table
        return list(
            Message.objects.raw(
                f"SELECT DISTINCT ON (ticket_id) id, ticket_id, kind, body, created_at FROM ("
                f"SELECT id, ticket_id, kind, body, created_at, search_vector FROM {table} "
                f"WHERE ticket_id = ANY(%s::bigint[]) AND kind = ANY(%s::text[]) OFFSET 0) AS candidate "
                f"WHERE search_vector @@ plainto_tsquery('russian'::regconfig, %s) "
                f"ORDER BY ticket_id, created_at DESC, id DESC",
                [ticket_ids, list(kinds), " ".join(words)],
            )
        )

    @staticmethod
    @contextmanager
    def walking():
        """No parallel workers for a walk by recency: each would walk ahead on its own share of the index and
        test thousands of tickets more than the page needs (a word in 0.2 % of messages: 0.8 s instead of 0.05 s).
        Inside an outer transaction the setting lasts until that ends (harmless: it only forgoes parallelism).
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            yield

    def recency_unindexed(self):
        """``created_at`` in an expression no index sorts: the planner then looks the few tickets up by id."""
        return RawSQL(f'"{Ticket._meta.db_table}"."created_at" + interval \'0\'', [], output_field=DateTimeField())

    def ids_condition(self, ids: list[int]):
        """``id = ANY(array)``: one parameter, planned in a millisecond (an ``IN`` of thousands takes ten)."""
        return RawSQL(f'"{Ticket._meta.db_table}"."id" = ANY(%s::bigint[])', [ids], output_field=BooleanField())

    def title_condition(self, terms, words):
        """The title match as a condition on the ticket row itself (tested on each ticket of a walk by recency)."""
        table = Ticket._meta.db_table
        return RawSQL(
            f'"{table}"."search_vector" @@ plainto_tsquery(\'russian\'::regconfig, %s)',
            [" ".join(words)],
            output_field=BooleanField(),
        )


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

    def newest_matches(self, ticket_ids: list[int], kinds: list[str], terms, words) -> list[Message]:
        """The newest matching message of each ticket."""
        return list(
            self.messages(Message.objects.filter(ticket_id__in=ticket_ids, kind__in=kinds), terms, words)
            .only("id", "ticket_id", "kind", "body", "created_at")
            .order_by("ticket_id", "-created_at", "-id")
        )

    walking = staticmethod(nullcontext)

    def recency_unindexed(self):
        return F("created_at")  # small data: the plan hardly matters

    def ids_condition(self, ids: list[int]):
        return Q(pk__in=ids)

    def title_condition(self, terms, words):
        return Q(pk__in=self.titles(terms, words))


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


# How many matches an index lookup fetches before a source counts as common. Up to this many, the matches are
# fetched first and the tickets looked up by id (cost grows with the matches); beyond it, the tickets the user
# may see are walked newest first and each is tested until a page is full (cost shrinks as matches grow).
CAP_MESSAGES = 5_000  # matching messages (their ticket ids)
CAP_TICKETS = 5_000  # tickets whose title matches
CAP_PEOPLE = 200  # customers (each may have many tickets), organisations, related objects
PLANNER_MARGIN = 4  # a word the planner expects in more than 4 × CAP_MESSAGES messages is common without a look


def _capped(queryset: QuerySet, field: str, cap: int, *, ask_planner: bool = False) -> list[int] | None:
    """The distinct values of ``field`` in ``queryset`` if it holds at most ``cap`` rows, else None (common).

    ``ask_planner``: on PostgreSQL, first ask the planner how many rows it expects (``EXPLAIN``, no rows read;
    the column statistics know the frequent words) and call the source common at once when that is far above
    ``cap``: fetching ``cap`` rows of a word in one message of ten reads thousands of pages for nothing.
    """
    queryset = queryset.order_by().values_list(field, flat=True)
    if ask_planner and connection.vendor == "postgresql":
        plan = json.loads(queryset.explain(format="json"))
        if plan[0]["Plan"]["Plan Rows"] > cap * PLANNER_MARGIN:
            return None
    values = list(queryset[: cap + 1])
    return None if len(values) > cap else sorted(set(values))


def _by_ids(field: str, ids: list[int] | None, dense) -> tuple | None:
    """``(field IN ids, few)``: the ids when there are few, the ``dense`` condition when common, None for none."""
    if ids is None:
        return dense, False
    return (Q(**{f"{field}__in": ids}), True) if ids else None


def _people(text: str) -> list:
    """Conditions on tickets by customer name, email, phone, organisation, related object reference (substrings)."""
    organisations = _capped(
        Organisation.objects.filter(Q(name__icontains=text) | Q(name_ru__icontains=text)), "pk", CAP_PEOPLE
    )
    # No join and no OR with a subquery: PostgreSQL then ORs the columns' pg_trgm indexes (a bitmap scan).
    fields = Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 5 and len(digits) * 2 >= len(text.replace(" ", "")):  # a phone number typed with spaces
        fields |= Q(phone__contains=digits)
    if organisations is None:  # many: as a subquery (the walk by recency then tests each ticket's customer)
        fields |= Q(
            organisation_id__in=Organisation.objects.filter(
                Q(name__icontains=text) | Q(name_ru__icontains=text)
            ).values("pk")
        )
        customers = None
    else:
        if organisations:
            fields |= Q(organisation_id__in=organisations)
        customers = _capped(Customer.objects.filter(fields), "pk", CAP_PEOPLE)
    customers_query = Customer.objects.filter(fields).values("pk")
    related = RelatedObject.objects.filter(external_ref__icontains=text)
    return [
        _by_ids("customer_id", customers, Q(customer_id__in=customers_query)),
        _by_ids("related_object_id", _capped(related, "pk", CAP_PEOPLE), Q(related_object_id__in=related.values("pk"))),
    ]


def _conditions(query: str, terms, words, engine, kinds, number) -> list:
    """One condition on tickets per kind of match; each is looked up alone (see :data:`CAP_MESSAGES`).

    A union of separate lookups, not one ``OR`` of them: each then uses its own index (the match's ids, or
    the walk by recency for a common word), where an ``OR`` lets none.
    """
    conditions = _people(query) if len(query) >= 3 else []  # pg_trgm needs three characters
    ids: set[int] = {number} if number is not None else set()
    if terms:
        matching = engine.messages(Message.objects.filter(kind__in=kinds), terms, words)
        messages = _capped(matching, "ticket_id", CAP_MESSAGES, ask_planner=True)
        if messages is None:
            conditions.append((Exists(matching.filter(ticket_id=OuterRef("pk"))), False))
        else:
            ids.update(messages)
        titles = _capped(engine.titles(terms, words), "pk", CAP_TICKETS, ask_planner=True)
        if titles is None:
            conditions.append((engine.title_condition(terms, words), False))
        else:
            ids.update(titles)
    if ids:
        conditions.append((engine.ids_condition(sorted(ids)), True))
    return [condition for condition in conditions if condition is not None]


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
    number = ticket_number(query)
    conditions = _conditions(query, terms, words, engine, kinds, number)
    if not conditions:
        return Results(query=query)
    base = (tickets if tickets is not None else Ticket.objects.all()).visible_to(user)
    wanted = page * per_page + 1  # this page, the ones before it, and one more (is there a next page?)
    # The newest ``wanted`` tickets of each condition: together they hold the newest ``wanted`` of all.
    found: dict[int, object] = {}
    with engine.walking() if not all(few for _condition, few in conditions) else nullcontext():
        for condition, few in conditions:
            # Few: look them up and sort them (walking the recency index to find a few old ones reads it all).
            # Common: walk the tickets newest first and test each, until enough are found.
            newest_first = (engine.recency_unindexed() if few else F("created_at")).desc()
            for pk, created_at in (
                base.filter(condition).order_by(newest_first, "-pk").values_list("pk", "created_at")[:wanted]
            ):
                found[pk] = created_at
    newest = sorted(found, key=lambda pk: (found[pk], pk), reverse=True)[(page - 1) * per_page : wanted]
    has_next = len(newest) > per_page
    newest = newest[:per_page]
    by_pk = Ticket.objects.select_related("customer", "queue", "related_object", "performer__profile").in_bulk(newest)
    rows = [by_pk[pk] for pk in newest if pk in by_pk]
    return Results(
        query=query, hits=_hits(rows, engine, terms, words, kinds, query, number), page=page, has_next=has_next
    )


def _hits(rows, engine, terms, words, kinds, query, number) -> list[Hit]:
    """Each ticket with what matched: its newest matching message, else its title, customer or number."""
    latest: dict[int, Message] = {}
    if terms and rows:
        for message in engine.newest_matches([t.pk for t in rows], kinds, terms, words):
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
