"""The one sane range of dates and instants OpsDesk accepts from people (issue 19, point 4).

Calendar arithmetic near ``date.min``/``date.max`` overflows (a report period of 9999-12-31 adds a day, a
business-time distance to it walks millennia), so every date or datetime that comes in through a form,
a query string or a service is bounded to ``EARLIEST`` … ``LATEST``:

- forms: ``BoundedDateField`` / ``BoundedDateTimeField`` (or ``validate_in_range`` on any field) give a
  clear field error;
- services: ``in_range(value)`` and ``out_of_range_message()`` (the service raises its own error type,
  ``TicketError``, with that message: ``core`` knows no app);
- reads of values already stored: ``in_range`` lets a selector skip arithmetic it cannot do.
"""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
OUT_OF_RANGE = "date_out_of_range"  # the ValidationError code


def in_range(value: date | datetime | None) -> bool:
    """True for None (nothing to check) and for a date or instant whose day lies in ``EARLIEST`` … ``LATEST``
    (the range is far from ``date.min``/``date.max``, so the zone an instant is read in does not matter)."""
    if value is None:
        return True
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def out_of_range_message() -> str:
    return _("Choose a date between %(earliest)s and %(latest)s.") % {
        "earliest": date_format(EARLIEST, "SHORT_DATE_FORMAT"), "latest": date_format(LATEST, "SHORT_DATE_FORMAT"),
    }


def validate_in_range(value) -> None:
    """The form validator: a clear field error for a date or instant outside the range."""
    if not in_range(value):
        raise ValidationError(out_of_range_message(), code=OUT_OF_RANGE)


def range_errors(errors) -> list[str]:
    """The out-of-range messages among a form's ``errors`` (an ``ErrorDict`` or None), each once."""
    found: list[str] = []
    for field_errors in (errors.as_data() if errors else {}).values():
        for error in field_errors:
            if error.code == OUT_OF_RANGE:
                found.extend(m for m in error.messages if m not in found)
    return found


class BoundedDateField(forms.DateField):
    default_validators = [validate_in_range]


class BoundedDateTimeField(forms.DateTimeField):
    default_validators = [validate_in_range]
