"""A small synchronous event bus: a lower floor publishes, a higher floor reacts.

A service on a lower floor (``tickets``) publishes a plain, frozen event *inside its
transaction*; the handlers subscribed to that event type run at once, in the order
they were subscribed, in the same transaction (an exception rolls everything back).
Who subscribes to what is written in one table, ``opsdesk/wiring.py``, which
installs it at start-up; nothing else calls :meth:`Bus.subscribe`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def publish(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)

    def handlers(self, event_type: type) -> list[Handler]:
        return list(self._handlers.get(event_type, ()))

    def clear(self) -> None:
        self._handlers.clear()


bus = Bus()
publish = bus.publish
