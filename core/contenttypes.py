"""Content types of models that moved to another app, for the migrations that move them.

A model that changes app keeps its table and rows (``SeparateDatabaseAndState``); its content type
row, and with it its permissions, group grants and admin log entries, must follow under the new app
label. ``move_content_types`` is the ``RunPython`` operation that does it (docs/operations.md).
Imported by migrations only (it imports a model, so the app registry must be ready).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType as LiveContentType
from django.db import migrations


def _relabel(apps, schema_editor, from_app: str, to_app: str, model_names: tuple[str, ...]) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for name in model_names:
        if rows.filter(app_label=to_app, model=name).exists():
            # Already there (created by a partial migrate): leave both rows alone, delete nothing.
            continue
        rows.filter(app_label=from_app, model=name).update(app_label=to_app)
    ContentType.objects.clear_cache()
    LiveContentType.objects.clear_cache()  # this process may have cached the old label


def move_content_types(from_app: str, to_app: str, model_names: list[str]) -> migrations.RunPython:
    """Re-label the content types of ``model_names`` (lower-case model names) from ``from_app`` to ``to_app``.

    A fresh database has no such rows yet (``post_migrate`` creates them under the new label): nothing
    to do. On an existing one the rows are renamed in place, so permission ids, group grants and admin
    log entries stay attached. Reversible.
    """
    names = tuple(name.lower() for name in model_names)

    def forwards(apps, schema_editor):
        _relabel(apps, schema_editor, from_app, to_app, names)

    def backwards(apps, schema_editor):
        _relabel(apps, schema_editor, to_app, from_app, names)

    return migrations.RunPython(forwards, backwards)
