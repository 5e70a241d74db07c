"""``core.form_renderer.FastRenderer`` draws widgets exactly as Django's templates do."""

from __future__ import annotations

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core.form_renderer import FastRenderer


class _Everything(forms.Form):
    title = forms.CharField(max_length=20, required=False, widget=forms.TextInput(attrs={"placeholder": 'a "b" <c>'}))
    count = forms.IntegerField(required=False)
    when = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.DateTimeField(required=False)
    email = forms.EmailField(required=False)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "data-x": mark_safe("&amp;")}))
    choice = forms.ChoiceField(
        required=False,
        choices=[("", "— any —"), ("a", "A & B"), (1, gettext_lazy("Open")), ("Group", [("g1", "<g1>"), ("g2", 2)])],
    )
    many = forms.MultipleChoiceField(required=False, choices=[("x", "X"), ("y", "Y"), ("z", "Z")])
    yes_no = forms.NullBooleanField(required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {
            "title": "<script>&",
            "count": "3",
            "when": "2026-01-02",
            "at": "2026-01-02 10:00",
            "email": "a@b",
            "secret": 'p"w',
            "hidden": "h",
            "flag": "on",
            "body": "  two\nlines <b>",
            "choice": "g1",
            "many": ["x", "z"],
            "yes_no": "true",
        },
        {"choice": "1", "count": "not a number", "body": ""},
    ],
)
def test_it_draws_every_widget_as_the_templates_do(data):
    fast, slow = _Everything(data, renderer=FastRenderer()), _Everything(data, renderer=DjangoTemplates())
    for name in fast.fields:
        assert str(fast[name]) == str(slow[name]), name


def test_it_is_the_projects_renderer():
    assert settings.FORM_RENDERER == "core.form_renderer.FastRenderer"


def test_it_draws_in_python_and_leaves_other_widgets_to_the_templates():
    renderer = FastRenderer()
    assert "django/forms/widgets/select.html" in renderer._fast
    assert "django/forms/widgets/text.html" in renderer._fast
    radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)
    form = type("F", (forms.Form,), {"r": radio})(renderer=renderer)
    assert str(form["r"]) == str(type("F", (forms.Form,), {"r": radio})(renderer=DjangoTemplates())["r"])
