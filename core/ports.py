"""Ports: a question a lower floor asks and a higher floor answers (dependency inversion).

A lower app declares a :class:`Port` with a safe default answer; ``opsdesk/wiring.py``
plugs the higher app's answer in at start-up. For example ``sla`` asks
``sla.ports.escalation_planner`` for a clock's next escalation instant without
knowing that ``escalations`` and its ladders exist.
"""

from __future__ import annotations

from typing import Any


class Port:
    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default
        self.provider = default

    def provide(self, provider: Any) -> None:
        self.provider = provider

    def reset(self) -> None:
        self.provider = self.default

    def __call__(self, *args, **kwargs):
        return self.provider(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Port {self.name}>"
