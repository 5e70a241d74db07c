"""The ticket history: one writer, and a declared shape for every kind of row.

``TicketEvent`` rows are append-only (``core.models.AppendOnlyModel``) and reports
read their JSON, so each kind declares the keys its data carries. Every app that
writes history declares its kinds (at start-up, in its ``AppConfig.ready``) and
writes through :func:`record` (one row) or :func:`event` (unsaved rows for a bulk
insert). A kind nobody declared, or a key its declaration does not name, is a
programming error and raises ``ValueError`` before anything is written.

A declaration may carry the sentence the ticket page shows for such a row
(``sentence(event, who, lookups, ticket) -> str``, see ``tickets/sentences.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from core import fastinsert
from core.collect import Collector
from tickets.models import TicketEvent


@dataclass(frozen=True)
class Shape:
    """What rows of one kind carry: ``keys`` (name → what it holds), of which ``required`` are always there."""

    kind: str
    keys: dict[str, str]
    required: frozenset[str]
    owner: str
    sentence: Callable | None = None

    def check(self, data: dict, *, partial: bool = False) -> None:
        """Refuse keys the kind does not declare, and (unless ``partial``: filled in later) missing required ones."""
        unknown = set(data) - set(self.keys)
        if unknown:
            raise ValueError(f"history kind {self.kind!r} declares no key {sorted(unknown)}")
        if partial:
            return
        missing = self.required - set(data)
        if missing:
            raise ValueError(f"history kind {self.kind!r} needs {sorted(missing)}")


SHAPES: dict[str, Shape] = {}

# How declarations describe the values rows carry most often.
PERSON = "person reference {id, name}"
INSTANT = "ISO 8601 instant or null"


def declare(kind: str, *, owner: str, keys: dict[str, str], required: Iterable[str] = (),
            sentence: Callable | None = None) -> Shape:
    """Declare a kind (idempotent for the same owner); ``required`` defaults to no key."""
    shape = Shape(kind, dict(keys), frozenset(required), owner, sentence)
    existing = SHAPES.get(kind)
    if existing is not None and existing.owner != owner:
        raise ValueError(f"history kind {kind!r} is declared by {existing.owner}, not {owner}")
    SHAPES[kind] = shape
    return shape


def declare_all(owner: str, kinds: dict[str, tuple[dict[str, str], tuple[str, ...], Callable | None]]) -> None:
    """Declare an app's kinds: ``{kind: (keys, required keys, sentence)}`` (each app's ``AppConfig.ready``)."""
    for kind, (keys, required, sentence) in kinds.items():
        declare(kind, owner=owner, keys=keys, required=required, sentence=sentence)


def shape_of(kind: str) -> Shape:
    try:
        return SHAPES[kind]
    except KeyError:
        raise ValueError(f"undeclared history kind {kind!r}") from None


def event(ticket, kind: str, actor=None, *, at: datetime | None = None, **data) -> TicketEvent:
    """An unsaved, checked history row (for ``bulk_create``)."""
    shape_of(kind).check(data)
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    return TicketEvent(ticket_id=ticket_id, actor=actor, kind=kind, data=data, created_at=at or timezone.now())


def row(ticket_id: int, actor_id: int | None, kind: str, data: dict, at: datetime) -> tuple:
    """A checked history row as the tuple ``(ticket, actor, kind, data, created_at)`` for ``core.bulk.insert_rows``."""
    shape_of(kind).check(data)
    return (ticket_id, actor_id, kind, data, at)


ROW_COLUMNS = ("ticket", "actor", "kind", "data", "created_at")


_collected = Collector("history_deferred")


def record(ticket, kind: str, actor=None, *, at: datetime | None = None, **data) -> TicketEvent:
    """Append one history row: who (``actor``, None for the system or the customer), when, what.

    Inside :func:`deferred` the row is checked now and written when the block ends (its ``pk`` is None until then).
    """
    row_ = event(ticket, kind, actor, at=at, **data)
    pending = _collected.pending()
    if pending is not None:
        pending.append(row_)
    else:
        fastinsert.insert([row_])
    return row_


def deferred():
    """Within the block, :func:`record` collects its rows; they are written in one insert, in the order recorded,
    when the block ends without an error (inside the caller's transaction: a burst of assignments writes its history
    once instead of once per row). Nested blocks write with the outermost one. It yields the list of rows still to
    write: a caller that rolls back to a savepoint drops the rows recorded since (``core.collect``)."""
    return _collected.block(fastinsert.insert)


def sentence_for(kind: str) -> Callable | None:
    shape = SHAPES.get(kind)
    return shape.sentence if shape is not None else None


def markdown() -> str:
    """Every declared kind as a Markdown table (docs/architecture.md, between its ``history`` markers).

    Call it once the apps are ready (each app declares its kinds in ``AppConfig.ready``). Required keys are bold.
    """
    lines = ["| kind | owner | keys (**required** first): what each holds |", "|---|---|---|"]
    for shape in SHAPES.values():
        keys = sorted(shape.keys, key=lambda key: key not in shape.required)  # stable: declared order kept
        cells = [f"**`{key}`**" if key in shape.required else f"`{key}`" for key in keys]
        described = "; ".join(f"{cell}: {shape.keys[key]}" for cell, key in zip(cells, keys, strict=True))
        described = described.replace("|", "\\|")  # a pipe would end the table cell
        lines.append(f"| `{shape.kind}` | {shape.owner} | {described} |")
    return "\n".join(lines) + "\n"
