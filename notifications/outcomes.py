"""A delivery's outcome in the reader's language.

The outbox stores what a channel answered in English (``result``, ``last_error``: logs and the admin
search read them as written); pages show them through :func:`outcome_text`, which translates the
outcomes the channels and the delivery step write and leaves anything else (an exception's text) as is.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_REASONS = {
    "no email address": lambda: _("no email address"),
    "no active webhook endpoint": lambda: _("no active webhook endpoint"),
    "no messenger handle": lambda: _("no messenger handle"),
    "no phone number": lambda: _("no phone number"),
}
_PATTERNS = [
    (re.compile(r"^sent to (?P<address>.+)$", re.S), lambda m: _("sent to %(address)s") % {"address": m["address"]}),
    (re.compile(r"^HTTP (?P<status>\d+) from (?P<endpoint>.+)$", re.S),
     lambda m: _("HTTP %(status)s from %(endpoint)s") % {"status": m["status"], "endpoint": m["endpoint"]}),
    (re.compile(r"^written to the log by \w+ \(no SMS gateway configured\)$"),
     lambda m: _("written to the log (no SMS gateway configured)")),
    (re.compile(r"^not configured: (?P<why>.*)$", re.S),
     lambda m: _("not configured: %(why)s") % {"why": _REASONS.get(m["why"], lambda: m["why"])()}),
    (re.compile(r"^the worker stopped while sending; no attempts left$"),
     lambda m: _("the worker stopped while sending; no attempts left")),
    (re.compile(r"^the worker stopped while sending; reclaimed$"),
     lambda m: _("the worker stopped while sending; it was taken up again")),
]


def outcome_text(text: str) -> str:
    for pattern, translate in _PATTERNS:
        if match := pattern.match(text or ""):
            return translate(match)
    return text or ""
