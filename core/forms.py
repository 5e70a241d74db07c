"""Form fields shared by every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIteratorValue

from core.people import name_from

# Primary keys are 64-bit integers: a bigger number cannot name a row, and SQLite refuses it in ``IN (…)``.
PK_MAX = 2**63 - 1


def is_pk(value) -> bool:
    """Whether ``value`` (a string from a request) can be a primary key: digits within the 64-bit range."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and int(text) <= PK_MAX


class ReadOnceChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's options read with one plain query.

    Django reads them with ``QuerySet.iterator()``, which on PostgreSQL opens a server-side cursor: three round
    trips (``DECLARE``, ``FETCH``, ``CLOSE``) instead of one, for lists of a few dozen rows. A cursor would save
    memory only on a huge list, and a ``<select>`` draws every option in the page anyway.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # a fresh read each time, as Django's own
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    """``forms.ModelChoiceField`` whose options are read in one round trip (:class:`ReadOnceChoiceIterator`)."""

    iterator = ReadOnceChoiceIterator


class PersonChoiceIterator(ReadOnceChoiceIterator):
    """People's options from the columns of their names alone (``core.people.name_from``): a select of a few dozen
    people built no user and profile objects, most of the cost of drawing it."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list("pk", "profile__display_name", "first_name", "last_name", "username")
        for pk, profile_name, first_name, last_name, username in rows:
            yield ModelChoiceIteratorValue(pk, None), name_from(profile_name, first_name, last_name, username)


class PersonChoiceField(ModelChoiceField):
    """A select of users labelled with their portal name (``core.people.display_name``, from the columns)."""

    iterator = PersonChoiceIterator


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """``forms.ModelMultipleChoiceField`` whose options are read in one round trip."""

    iterator = ReadOnceChoiceIterator


class IdsMultipleChoiceField(ModelMultipleChoiceField):
    """A multiple choice of rows that refuses values no row can have before they reach the database."""

    def _check_values(self, value):
        for pk in value:
            if not isinstance(pk, self.queryset.model) and not is_pk(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)
