"""django-q2 entry points: one line each, the logic lives in the services."""

from __future__ import annotations


def deliver_pending():
    from notifications.delivery import deliver_pending

    return deliver_pending()


def sweep_sla():
    from escalations.sweep import sweep

    return sweep()
