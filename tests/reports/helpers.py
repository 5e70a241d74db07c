"""Read a report page's section tables and its CSV export, to compare them."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser


class _Sections(HTMLParser):
    """Body rows (cell texts) of each ``<section data-section=…>`` table."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, list[list[str]]] = {}
        self._section = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("data-section"):
            self._section = attrs["data-section"]
            self.sections[self._section] = []
        elif self._section and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.sections[self._section].append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.sections[self._section][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_sections(response) -> dict[str, list[list[str]]]:
    parser = _Sections()
    parser.feed(response.content.decode())
    return {k: [r for r in rows if r and "empty-state" not in r[0]] for k, rows in parser.sections.items()}


def csv_sections(response) -> dict[str, list[list[str]]]:
    """Blocks of the CSV export by title: header row first."""
    text = response.content.decode("utf-8-sig")
    blocks: dict[str, list[list[str]]] = {}
    current = None
    rows = list(csv.reader(io.StringIO(text)))
    for index, row in enumerate(rows[1:], start=1):
        if not row:
            current = None
            continue
        if current is None:
            current = row[0]
            blocks[current] = []
            continue
        blocks[current].append(row)
        del index
    return blocks
