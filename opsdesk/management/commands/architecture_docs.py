"""``manage.py architecture_docs [--check]``: regenerate the generated sections of docs/architecture.md.

Two sections are rendered from the code, each between its markers: "who reacts to what"
(``<!-- wiring:start -->`` … ``<!-- wiring:end -->``, from ``opsdesk.wiring.markdown``) and the
history kinds (``<!-- history:start -->`` … ``<!-- history:end -->``, from ``tickets.history.markdown``).
Everything outside the markers is left alone. ``make docs`` runs it; ``--check`` only says whether
the file is current (exit status 1 if not), as ``tests/architecture/test_wiring.py`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opsdesk import wiring
from tickets import history

SECTIONS: dict[str, Callable[[], str]] = {"wiring": wiring.markdown, "history": history.markdown}


def doc_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "architecture.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def section(text: str, name: str) -> str:
    """What ``text`` holds between the markers of section ``name``."""
    start, end = markers(name)
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise CommandError(f"docs/architecture.md needs exactly one {start} followed by one {end}")
    return text.split(start, 1)[1].split(end, 1)[0]


def render(text: str) -> str:
    """``text`` with every generated section rendered afresh."""
    for name, build in SECTIONS.items():
        start, end = markers(name)
        old = section(text, name)
        text = text.replace(f"{start}{old}{end}", f"{start}\n\n{build().strip()}\n\n{end}", 1)
    return text


class Command(BaseCommand):
    help = "Regenerate the wiring table and the history kinds in docs/architecture.md (from the code)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only check that the file is current.")

    def handle(self, *args, check: bool, **options):
        path = doc_path()
        text = path.read_text(encoding="utf-8")
        fresh = render(text)
        if check:
            if fresh != text:
                raise CommandError(f"{path} is out of date: run `make docs`")
            self.stdout.write(f"{path}: current")
        elif fresh != text:
            path.write_text(fresh, encoding="utf-8")
            self.stdout.write(f"{path}: regenerated {', '.join(SECTIONS)}")
        else:
            self.stdout.write(f"{path}: already current")
