"""The ticket lists' filter fields (``portal.filters._Base.fields_html``): an unbound form is drawn once per language
and reused while the rows of its choice queries stay the same; any change to those rows draws it again."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from portal import selectors
from portal.filters import FIELDS_TEMPLATE, MyWorkFilter, TicketListFilter
from tests.factories import QueueFactory, UserFactory
from tickets.models import Organisation, Profile


def _filter(cls, user, data=None):
    request = RequestFactory().get("/tickets/", data or {})
    request.user = user
    return cls(data or None, queryset=selectors.ticket_list(user), request=request)


def _drawn(cls, user, data=None) -> str:
    """What the template draws for a fresh filter set: the reference."""
    return render_to_string(FIELDS_TEMPLATE, {"filter": _filter(cls, user, data)})


def test_the_unbound_fields_are_the_templates_and_follow_every_choice_change(admin_user, engineer, queue):
    for cls in (TicketListFilter, MyWorkFilter):
        assert _filter(cls, admin_user).fields_html() == _drawn(cls, admin_user)
        assert _filter(cls, admin_user).fields_html() == _drawn(cls, admin_user)  # reused: still the same
    QueueFactory(name="Night shift", slug="night")  # a new queue
    html = _filter(TicketListFilter, admin_user).fields_html()
    assert "Night shift" in html and html == _drawn(TicketListFilter, admin_user)
    assert "Night shift" in _filter(MyWorkFilter, admin_user).fields_html()
    Profile.objects.filter(user=engineer).update(display_name="Aigerim the engineer")  # a person renamed
    html = _filter(TicketListFilter, admin_user).fields_html()
    assert "Aigerim the engineer" in html and html == _drawn(TicketListFilter, admin_user)
    before = html
    UserFactory(username="newcomer", role="engineer")  # a new person with a role
    html = _filter(TicketListFilter, admin_user).fields_html()
    assert html != before and html == _drawn(TicketListFilter, admin_user)
    Organisation.objects.create(name="Kaspi Bank")
    assert "Kaspi Bank" in _filter(TicketListFilter, admin_user).fields_html()


def test_each_language_gets_its_own_fields(admin_user, queue):
    english = _filter(TicketListFilter, admin_user).fields_html()
    with translation.override("ru"):
        russian = _filter(TicketListFilter, admin_user).fields_html()
        assert russian == _drawn(TicketListFilter, admin_user)
    assert russian != english
    assert _filter(TicketListFilter, admin_user).fields_html() == english


def test_a_bound_form_is_drawn_with_its_values(admin_user, queue):
    data = {"q": "printer", "queue": str(queue.pk)}
    html = _filter(TicketListFilter, admin_user, data).fields_html()
    assert html == _drawn(TicketListFilter, admin_user, data)
    assert 'value="printer"' in html
    assert _filter(TicketListFilter, admin_user).fields_html() == _drawn(TicketListFilter, admin_user)
