"""Abstract bases the ticket models (and other apps) share: bilingual catalogue names and append-only
history rows, plus the language choices."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel, AppendOnlyQuerySet  # noqa: F401 (re-exported)


class BilingualName(models.Model):
    """A catalogue row with an English and a Russian name, shown in the viewer's language."""

    name = models.CharField(_("name (English)"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_ru and (get_language() or "").startswith("ru"):
            return self.name_ru
        return self.name


class Language(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")
