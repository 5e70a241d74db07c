"""``{% form_field %}`` draws a form field exactly as ``{% include "tickets/_field.html" %}`` does (issue 18).

The ticket page draws its fields in Python; the partial stays the reference of the markup. Each case renders
one field both ways and compares the strings: plain, required, with help text, with errors, a checkbox, a
``<select>``, without ids, with extra attributes and an extra class, in English and in Russian.
"""

from __future__ import annotations

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

from escalations.manual_forms import HierarchicalEscalationForm
from tickets.forms import NextStepForm, NoteForm, ReplyForm, UnassignForm

INCLUDE = Template('{% include "tickets/_field.html" with field=field field_attrs=attrs extra_class=extra %}')
TAG = Template("{% load opsdesk %}{% form_field field field_attrs=attrs extra_class=extra %}")


class Sample(forms.Form):
    title = forms.CharField(label="Title <b>", help_text="Short & sweet", max_length=5)
    agree = forms.BooleanField(label="I agree", required=True)
    colour = forms.ChoiceField(label="Colour", choices=[("r", "Red"), ("g", "Green <g>")], required=False)
    when = forms.DateTimeField(label="When", required=False, help_text="Local time")


def _forms():
    yield Sample(auto_id="s_%s")
    yield Sample({"title": "far too long", "when": "nonsense"}, auto_id="s_%s")  # errors on title, agree, when
    yield Sample(auto_id=False)
    yield Sample({"title": ""}, auto_id=False)
    yield ReplyForm(auto_id="reply_%s")
    yield ReplyForm({"body": ""}, auto_id="reply_%s")
    yield NoteForm(auto_id="note_%s")
    yield NextStepForm(initial={"text": "Call back"}, auto_id="next_step_%s")
    yield UnassignForm(auto_id="unassign_%s")
    yield HierarchicalEscalationForm()


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("attrs", "extra"), [("", ""), ("data-reason-field", ""), ("data-x", "wide <odd>")])
def test_the_tag_draws_each_field_as_the_partial_does(language, attrs, extra):
    with translation.override(language):
        for form in _forms():
            for field in form:
                context = {"field": field, "attrs": attrs, "extra": extra}
                assert TAG.render(Context(context)) == INCLUDE.render(Context(context)), field.name
