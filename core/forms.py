"""Form fields shared by every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

# Primary keys are 64-bit integers: a bigger number cannot name a row, and SQLite refuses it in ``IN (…)``.
PK_MAX = 2**63 - 1


def is_pk(value) -> bool:
    """Whether ``value`` (a string from a request) can be a primary key: digits within the 64-bit range."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and int(text) <= PK_MAX


class IdsMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows that refuses values no row can have before they reach the database."""

    def _check_values(self, value):
        for pk in value:
            if not isinstance(pk, self.queryset.model) and not is_pk(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)
