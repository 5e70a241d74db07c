"""A readable `make run` console (issue 19, careful user point 9): development mail goes to files under
var/mail/ (and bin/run-dev says so), and SQLite does not print models.W040 on every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def settings_under(**environ) -> dict:
    """Import opsdesk.settings in a fresh interpreter under ``environ`` (no other settings variables)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("EMAIL_URL", "DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env.update(environ)
    code = (
        "import json, opsdesk.settings as s; print(json.dumps({'backend': s.EMAIL_BACKEND, "
        "'path': str(getattr(s, 'EMAIL_FILE_PATH', '')), 'silenced': getattr(s, 'SILENCED_SYSTEM_CHECKS', [])}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def test_development_mail_goes_to_files_under_var_mail():
    found = settings_under(DEBUG="true")
    assert found["backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert Path(found["path"]) == ROOT / "var" / "mail"


def test_an_email_url_still_wins_and_production_keeps_its_default():
    assert settings_under(DEBUG="true", EMAIL_URL="smtp://mail.example:25")["backend"].endswith("smtp.EmailBackend")
    production = settings_under(DEBUG="false", SECRET_KEY="x" * 60)
    assert production["backend"].endswith("console.EmailBackend")


def test_run_dev_prints_where_the_mail_goes():
    script = (ROOT / "bin" / "run-dev").read_text()
    assert "EMAIL_FILE_PATH" in script and "$MAIL" in script.split("cat <<MSG")[1]


def test_w040_is_silenced_on_sqlite_only():
    assert "models.W040" in settings_under(DEBUG="true")["silenced"]
    postgres = settings_under(DEBUG="true", DATABASE_URL="postgres://u:p@127.0.0.1:5432/opsdesk")
    assert "models.W040" not in postgres["silenced"]


def test_a_database_check_on_sqlite_prints_no_w040(db):
    out, err = StringIO(), StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert "W040" not in out.getvalue() + err.getvalue()
