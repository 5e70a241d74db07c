"""Collect writes within a block and make them once when it ends: one mechanism for the history rows
(``tickets.history.deferred``) and the notices (``notifications.service.deferred``) a routing burst or an intake
writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Collector:
    """While a :meth:`block` is open, :meth:`pending` is its list (None otherwise); the writer appends to it."""

    def __init__(self, name: str) -> None:
        self._var: ContextVar[list | None] = ContextVar(name, default=None)

    def pending(self) -> list | None:
        return self._var.get()

    @contextmanager
    def block(self, flush: Callable[[list], object]) -> Iterator[list]:
        """Collect until the block ends, then ``flush`` what was collected (nothing after an error). A nested block
        yields the outermost one's list and flushes with it. The yielded list is what is still to be written: a caller
        that rolls back to a savepoint drops what was collected since."""
        outer = self._var.get()
        if outer is not None:
            yield outer
            return
        items: list = []
        token = self._var.set(items)
        try:
            yield items
        finally:
            self._var.reset(token)
        if items:
            flush(items)
