"""Abstract bases the ticket models (and other apps) share: bilingual catalogue names and append-only
history rows, plus the language choices."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel, AppendOnlyQuerySet  # noqa: F401 (re-exported)


def bilingual(name: str, name_ru: str) -> str:
    """``name_ru`` when the active language is Russian and it is filled, else ``name``."""
    if name_ru and (get_language() or "").startswith("ru"):
        return name_ru
    return name


class BilingualLabel:
    """``label``: ``name_ru`` in Russian when it is filled, ``name`` otherwise (a mixin for models that keep
    their own ``name`` field and add a ``name_ru``)."""

    name: str
    name_ru: str

    @property
    def label(self) -> str:
        return bilingual(self.name, self.name_ru)


class BilingualName(BilingualLabel, models.Model):
    """A catalogue row with an English and a Russian name, shown in the viewer's language."""

    name = models.CharField(_("name (English)"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label


class Language(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")
