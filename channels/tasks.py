"""django-q2 entry points of the customer outbox (one line each)."""

from __future__ import annotations

from channels import outbox


def deliver_outbox() -> dict[str, int]:
    return outbox.deliver_pending()
