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


class _FormReader(HTMLParser):
    """The values a browser would submit from the first ``<form>`` whose class contains ``css_class``."""

    def __init__(self, css_class: str):
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.css_class in (attrs.get("class") or "").split():
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self.select, self.first_option = attrs.get("name"), None
        elif tag == "option" and self.select:
            value = attrs.get("value") or ""
            if self.first_option is None:
                self.first_option = value  # what the browser shows when nothing is selected
                self.values.setdefault(self.select, value)
            if "selected" in attrs:
                self.values[self.select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def form_values(html: str, css_class: str) -> dict[str, str]:
    reader = _FormReader(css_class)
    reader.feed(html)
    reader.close()
    return reader.values
