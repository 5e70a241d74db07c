"""A small HTML reader for page-level checks (stdlib ``html.parser``): ids, label targets, ARIA references."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class PageFacts:
    ids: Counter = field(default_factory=Counter)
    label_for: list[str] = field(default_factory=list)
    aria_refs: list[tuple[str, str]] = field(default_factory=list)  # (attribute, id)
    links: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    ARIA_REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls", "aria-owns", "aria-errormessage")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.facts.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.facts.label_for.append(attrs["for"])
        for name in self.ARIA_REFERENCES:
            for ref in (attrs.get(name) or "").split():
                self.facts.aria_refs.append((name, ref))
        if tag == "a" and attrs.get("href"):
            self.facts.links.append(attrs["href"])

    handle_startendtag = handle_starttag


def read(html: str) -> PageFacts:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.facts


def id_problems(html: str) -> list[str]:
    """Every duplicate ``id`` and every ``label[for]`` / ``aria-*`` reference to an id that is not on the page."""
    facts = read(html)
    problems = [f"duplicate id={name!r} ({count}×)" for name, count in facts.ids.items() if count > 1]
    problems += [f"<label for={target!r}> points at nothing" for target in facts.label_for if target not in facts.ids]
    problems += [f"{attr}={target!r} points at nothing" for attr, target in facts.aria_refs if target not in facts.ids]
    return problems
