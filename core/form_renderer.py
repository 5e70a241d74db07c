"""A form renderer that draws the common widgets in Python, with the markup of Django's own templates.

Django renders every widget through its template engine, and a ``<select>`` includes one template per
``<option>`` (three template renders per option with the attributes): a filter form with a list of people
costs several milliseconds on every page. ``FastRenderer`` builds the same HTML in Python for the plain
input widgets, ``<textarea>`` and ``<select>``; everything else (and any of these whose template a project
or an app overrides) goes through the templates as before. ``tests/core/test_form_renderer.py`` compares
both renderings widget by widget.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

_WIDGETS = "django/forms/widgets/"
SELECT = _WIDGETS + "select.html"
OPTION = _WIDGETS + "select_option.html"
TEXTAREA = _WIDGETS + "textarea.html"
# The input widgets whose template is only ``{% include "django/forms/widgets/input.html" %}``.
INPUTS = frozenset(
    _WIDGETS + f"{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
        "checkbox",
    )
)


def _text(value) -> str:
    """``{{ value }}``: localized, escaped unless safe."""
    return conditional_escape(localize(value))


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}`` (a filter that keeps a safe value safe)."""
    return str(value) if isinstance(value, SafeData) else escape("%s" % (value,))  # noqa: UP031 - the filter


def _attrs(attrs) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _textarea(widget) -> str:
    value, name = widget["value"], _text(widget["name"])
    return f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{_text(value) if value else ""}</textarea>'


def _select(widget) -> str | None:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None  # a widget with its own option template: let the templates draw it
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"  # the option template's own last line break
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FastRenderer(DjangoTemplates):
    """Django's default renderer, with the common widgets drawn in Python (see the module docstring)."""

    @cached_property
    def _fast(self) -> dict:
        """Template name -> Python drawing, for the templates that are still Django's own (not overridden)."""
        attrs, base = _WIDGETS + "attrs.html", _WIDGETS + "input.html"
        drawings = {SELECT: (_select, (OPTION, attrs)), TEXTAREA: (_textarea, (attrs,))}
        drawings.update(dict.fromkeys(INPUTS, (_input, (base, attrs))))
        return {
            name: draw
            for name, (draw, included) in drawings.items()
            if self._is_own(name) and all(self._is_own(other) for other in included)
        }

    def _is_own(self, name: str) -> bool:
        origin = getattr(self.get_template(name), "origin", None)
        return origin is not None and "/django/forms/templates/" in str(origin.name).replace("\\", "/")

    def render(self, template_name, context, request=None):
        draw = self._fast.get(template_name)
        if draw is not None and "widget" in context:
            html = draw(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
