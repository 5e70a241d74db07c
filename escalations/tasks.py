"""django-q2 entry points: one line each, the logic lives in the services.

``deliver_pending`` keeps its dotted path (``escalations.tasks.deliver_pending``) because schedules
and tasks already queued by earlier releases name it; the outbox itself is ``notifications.delivery``.
"""

from __future__ import annotations

from escalations import sweep as _sweep
from notifications import delivery as _delivery


def deliver_pending():
    return _delivery.deliver_pending()


def sweep_sla():
    return _sweep.sweep()
