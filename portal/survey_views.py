"""The customer's satisfaction survey page: a signed link, no login (docs/satisfaction.md).

``GET /survey/<token>/`` shows the one question (``?rating=good`` preselects the answer the email's button
named; a GET never answers, so mail scanners that open links change nothing). ``POST`` stores the answer
through ``tickets.satisfaction.survey_answer``. A forged or unknown token is a 404; an expired survey and a
survey answered already get their own clear page and change nothing. The page shows the ticket's number and
title, nothing else, in the customer's language.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tickets import satisfaction
from tickets.models import Rating

MAX_TOKEN = 200


class SurveyForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How did we do?"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the answers."), "invalid_choice": _("Choose one of the answers.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=satisfaction.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_comment(self):
        try:
            return satisfaction.clean_comment(self.cleaned_data.get("comment", ""))
        except satisfaction.SurveyError as exc:
            raise forms.ValidationError(str(exc)) from None


def _page(request, template: str, lookup, *, status: int = 200, **context):
    survey = lookup.survey
    response = render(request, template, {"survey": survey, "ticket": survey.ticket, **context}, status=status)
    response["Content-Language"] = translation.get_language()
    response["Referrer-Policy"] = "same-origin"  # the token never leaves in a Referer; "no-referrer" would
    # make the browser send "Origin: null" with the form, which the CSRF check refuses
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """The survey a signed token names: the question, the answer, or why it cannot be answered."""
    lookup = satisfaction.survey_for_token(token) if len(token) <= MAX_TOKEN else satisfaction.Lookup("invalid")
    if lookup.state == "invalid":
        raise Http404
    with translation.override(lookup.survey.language or None):  # the customer's language, whoever opens it
        return _answer(request, token, lookup)


def _answer(request, token: str, lookup):
    if lookup.state == "answered":
        return _page(request, "portal/survey_closed.html", lookup, reason="answered")
    if lookup.state == "expired":
        return _page(request, "portal/survey_closed.html", lookup, status=410, reason="expired")
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                rating = satisfaction.survey_answer(
                    lookup.survey, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
                )
            except satisfaction.SurveyError:
                lookup = satisfaction.survey_for_token(token)  # answered or expired meanwhile: say which
                reason = lookup.state if lookup.state in ("answered", "expired") else "answered"
                return _page(request, "portal/survey_closed.html", lookup, reason=reason)
            return _page(request, "portal/survey_thanks.html", lookup, rating=rating)
        return _page(request, "portal/survey.html", lookup, status=400, form=form)
    initial = request.GET.get("rating", "")
    form = SurveyForm(initial={"rating": initial if initial in Rating.values else None})
    return _page(request, "portal/survey.html", lookup, form=form)
