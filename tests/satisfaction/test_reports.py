"""Satisfaction on the dashboard and in the SLA report: counts and % good per agent, queue and type, in scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TicketFactory, TicketTypeFactory, UserFactory
from tests.reports.helpers import page_sections
from tickets.models import SatisfactionRating, SatisfactionSurvey, Status

pytestmark = pytest.mark.django_db


def _answer(queue, performer, rating, ticket_type, *, days_ago=0):
    ticket = TicketFactory(queue=queue, performer=performer, status=Status.DONE, ticket_type=ticket_type)
    survey = SatisfactionSurvey.objects.create(ticket=ticket, route="email", state="sent")
    return SatisfactionRating.objects.create(
        survey=survey,
        ticket=ticket,
        rating=rating,
        performer=performer,
        queue=queue,
        ticket_type=ticket_type,
        answered_at=timezone.now() - timedelta(days=days_ago, minutes=5),
    )


@pytest.fixture
def answers(queue, other_queue, engineer, other_engineer):
    printers = TicketTypeFactory(name="Printers", slug="printers")
    for rating in ("good", "good", "good", "bad"):
        _answer(queue, engineer, rating, printers)
    _answer(queue, None, "neutral", None)
    _answer(other_queue, other_engineer, "bad", printers)
    _answer(queue, engineer, "bad", printers, days_ago=60)  # before the period
    return printers


def _period():
    today = timezone.localdate()
    return {"period": "custom", "date_from": (today - timedelta(days=6)).isoformat(), "date_to": today.isoformat()}


def test_the_sla_report_shows_satisfaction_per_agent_queue_and_type(client, answers, admin_user):
    client.force_login(admin_user)
    sections = page_sections(client.get(reverse("reports:sla"), _period()))
    assert sections["satisfaction"] == [["All", "6", "3", "1", "2", "50 %"]]
    assert sections["satisfaction-agent"] == [
        ["Engineer", "4", "3", "0", "1", "75 %"],
        ["Nobody", "1", "0", "1", "0", "0 %"],
        ["Outsider", "1", "0", "0", "1", "0 %"],
    ]
    assert sections["satisfaction-queue"] == [
        ["Service", "5", "3", "1", "1", "60 %"],
        ["Sales", "1", "0", "0", "1", "0 %"],
    ]
    assert sections["satisfaction-type"] == [
        ["Printers", "5", "3", "0", "2", "60 %"],
        ["No type", "1", "0", "1", "0", "0 %"],
    ]


def test_a_dispatcher_counts_only_the_answers_of_tickets_they_see(client, answers, dispatcher):
    client.force_login(dispatcher)
    sections = page_sections(client.get(reverse("reports:sla"), _period()))
    assert sections["satisfaction"] == [["All", "5", "3", "1", "1", "60 %"]]
    assert [row[0] for row in sections["satisfaction-queue"]] == ["Service"]


def test_the_dashboard_shows_satisfaction(client, answers, manager, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("reports:dashboard"), _period()).content.decode()
    assert "data-satisfaction-section" in page
    assert "6 answers in the period" in page and "50 % good" in page
    for name in ("agent", "queue", "type"):
        assert f'data-satisfaction-breakdown="{name}"' in page


def test_the_dashboard_in_russian(client, answers, admin_user):
    admin_user.profile.language = "ru"
    admin_user.profile.save()
    client.force_login(admin_user)
    page = client.get(reverse("reports:dashboard"), _period()).content.decode()
    assert "Удовлетворённость клиентов" in page and "6 ответов за период" in page


@pytest.mark.parametrize("role", ["engineer", None])
def test_engineers_and_people_without_a_role_are_refused_the_figures(client, answers, role):
    client.force_login(UserFactory(username="someone", role=role))
    assert client.get(reverse("reports:sla"), _period()).status_code == 403
    assert client.get(reverse("reports:dashboard"), _period()).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, answers):
    assert client.get(reverse("reports:sla")).status_code == 302
    assert client.get(reverse("reports:dashboard")).status_code == 302
