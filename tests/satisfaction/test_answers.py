"""The answer: stored once, checked, never changed; a bad one tells the owner and may reopen; the figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory, UserFactory
from tests.satisfaction.conftest import finish
from tickets import satisfaction, services
from tickets.models import Rating, SatisfactionRating, SatisfactionSurvey, Status, Ticket, TicketEvent
from tickets.satisfaction import SurveyError, survey_answer, survey_for_token, survey_link_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(work, engineer):
    finish(work, engineer)
    return SatisfactionSurvey.objects.get(ticket=work)


def test_an_answer_is_stored_with_the_ticket_as_it_was_and_a_history_row(survey, work, engineer):
    answer = survey_answer(survey, rating="good", comment="  Быстро и вежливо  ")
    assert (answer.rating, answer.comment, answer.performer, answer.queue_id) == (
        "good",
        "Быстро и вежливо",
        engineer,
        work.queue_id,
    )
    assert answer.ticket_type_id == work.ticket_type_id and not answer.reopened
    event = TicketEvent.objects.get(ticket=work, kind="ticket.rated")
    assert event.actor is None and event.data == {"rating": "good", "comment": "Быстро и вежливо", "reopened": False}


def test_the_answer_is_immutable(survey):
    answer = survey_answer(survey, rating="neutral")
    answer.rating = "good"
    with pytest.raises(TypeError):
        answer.save()
    with pytest.raises(TypeError):
        SatisfactionRating.objects.update(rating="good")


def test_a_second_answer_is_refused_and_changes_nothing(survey):
    survey_answer(survey, rating="good", comment="first")
    with pytest.raises(SurveyError, match="answered already"):
        survey_answer(survey, rating="bad", comment="second")
    assert list(SatisfactionRating.objects.values_list("rating", "comment")) == [("good", "first")]
    assert TicketEvent.objects.filter(kind="ticket.rated").count() == 1


def test_an_expired_survey_refuses_the_answer(survey):
    with time_machine.travel(survey.expires_at + timedelta(seconds=1)), pytest.raises(SurveyError, match="expired"):
        survey_answer(survey, rating="good")
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("rating", ["", "excellent", "GOOD", None, "bad\x00"])
def test_an_unknown_rating_is_refused(survey, rating):
    with pytest.raises(SurveyError, match="Choose one"):
        survey_answer(survey, rating=rating)
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize(
    ("comment", "problem"),
    [("a\x00b", "NUL"), ("bad \ud800 half", "surrogate"), ("x" * (satisfaction.MAX_COMMENT + 1), "too long")],
)
def test_a_bad_comment_is_refused_with_a_clear_message(survey, comment, problem):
    with pytest.raises(SurveyError, match=problem):
        survey_answer(survey, rating="bad", comment=comment)
    assert not SatisfactionRating.objects.exists()
    assert Ticket.objects.get(pk=survey.ticket_id).status == Status.DONE


def test_a_comment_of_the_largest_size_is_kept_whole(survey):
    answer = survey_answer(survey, rating="good", comment="ж" * satisfaction.MAX_COMMENT)
    assert len(answer.comment) == satisfaction.MAX_COMMENT


# --- The link --------------------------------------------------------------------------------------


def test_the_token_names_its_survey_while_it_is_fresh(survey):
    token = survey_link_token(survey)
    assert survey_for_token(token).state == "open"
    with time_machine.travel(survey.expires_at + timedelta(minutes=1)):
        assert survey_for_token(token).state == "expired"
    survey_answer(survey, rating="good")
    assert survey_for_token(token).state == "answered"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: "999" + t[t.index(":") :],  # another survey's id under this signature
        lambda t: t.split(":", 1)[1],  # no id
        lambda t: "",
        lambda t: "x" * 5000,
        lambda t: "\x00:\ud800",
    ],
)
def test_a_forged_token_names_nothing(survey, mangle):
    assert survey_for_token(mangle(survey_link_token(survey))).state == "invalid"


def test_a_token_signed_for_something_else_names_nothing(survey):
    from django.core import signing

    from tickets.attachments import SIGNING_SALT

    other = signing.TimestampSigner(salt=SIGNING_SALT).sign(str(survey.pk))
    assert survey_for_token(other).state == "invalid"


def test_a_skipped_survey_cannot_be_answered_even_with_a_valid_signature(db, queue, engineer, dispatcher):
    ticket = TicketFactory(queue=queue, customer=CustomerFactory(email=""))
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    finish(ticket, engineer)
    skipped = SatisfactionSurvey.objects.get(ticket=ticket)
    assert survey_for_token(survey_link_token(skipped)).state == "invalid"
    with pytest.raises(SurveyError):
        survey_answer(skipped, rating="good")


# --- A bad answer ---------------------------------------------------------------------------------


def test_a_bad_answer_tells_the_performer_with_the_comment(survey, work, engineer, dispatcher):
    survey_answer(survey, rating="bad", comment="Принтер опять мнёт бумагу")
    notice = Notification.objects.get(recipient=engineer, kind="work.satisfaction")
    assert work.reference in str(notice.title) and "опять мнёт" in notice.body
    assert not Notification.objects.filter(recipient=dispatcher, kind="work.satisfaction").exists()


def test_a_bad_answer_without_a_performer_tells_the_queues_dispatchers(survey, work, dispatcher):
    Ticket.objects.filter(pk=work.pk).update(performer=None)
    survey_answer(survey, rating="bad")
    assert Notification.objects.filter(recipient=dispatcher, kind="work.satisfaction").count() == 1


@pytest.mark.parametrize("rating", ["good", "neutral"])
def test_good_and_neutral_answers_tell_nobody(survey, rating):
    survey_answer(survey, rating=rating)
    assert not Notification.objects.filter(kind="work.satisfaction").exists()


def test_a_bad_answer_reopens_the_ticket_when_its_queue_says_so(survey, work, queue, engineer):
    queue.reopen_on_bad_rating = True
    queue.save()
    answer = survey_answer(survey, rating="bad", comment="не работает")
    work.refresh_from_db()
    assert answer.reopened and work.status == Status.IN_PROGRESS and work.done_at is None
    change = TicketEvent.objects.filter(ticket=work, kind="ticket.status_changed").last()
    assert change.data == {"from": "done", "to": "in_progress", "cause": "bad_rating"} and change.actor is None
    notice = Notification.objects.get(recipient=engineer, kind="work.satisfaction")
    assert "reopened" in str(notice.title)


def test_without_the_rule_a_bad_answer_leaves_the_ticket_done(survey, work):
    survey_answer(survey, rating="bad")
    work.refresh_from_db()
    assert work.status == Status.DONE


@pytest.mark.parametrize("rating", ["good", "neutral"])
def test_the_rule_never_reopens_on_other_answers(survey, work, queue, rating):
    queue.reopen_on_bad_rating = True
    queue.save()
    survey_answer(survey, rating=rating)
    work.refresh_from_db()
    assert work.status == Status.DONE


def test_a_ticket_reopened_meanwhile_is_not_reopened_again(survey, work, queue, engineer):
    queue.reopen_on_bad_rating = True
    queue.save()
    services.ticket_change_status(work, status=Status.IN_PROGRESS, actor=engineer)
    answer = survey_answer(survey, rating="bad")
    assert not answer.reopened


# --- Figures ------------------------------------------------------------------------------------------


def _answered(queue, performer, rating, ticket_type=None):
    ticket = TicketFactory(queue=queue, performer=performer, status=Status.DONE, ticket_type=ticket_type)
    survey = SatisfactionSurvey.objects.create(ticket=ticket, route="email", expires_at=timezone.now() + timedelta(1))
    return survey_answer(survey, rating=rating)


def test_satisfaction_summary_counts_the_answers_of_any_ticket_queryset(db, queue, other_queue, engineer):
    for rating in ("good", "good", "neutral", "bad"):
        _answered(queue, engineer, rating)
    _answered(other_queue, None, "bad")
    summary = satisfaction.satisfaction_summary(Ticket.objects.filter(queue=queue))
    assert (summary.good, summary.neutral, summary.bad, summary.total, summary.percent_good) == (2, 1, 1, 4, 50.0)
    everything = satisfaction.satisfaction_summary(Ticket.objects.all())
    assert (everything.total, everything.percent_good) == (5, 40.0)
    nothing = satisfaction.satisfaction_summary(Ticket.objects.none())
    assert (nothing.total, nothing.percent_good) == (0, None)


def test_satisfaction_summary_is_one_query(db, queue, engineer, django_assert_num_queries):
    _answered(queue, engineer, "good")
    with django_assert_num_queries(1):
        satisfaction.satisfaction_summary(Ticket.objects.filter(queue=queue))


def test_satisfaction_by_groups_as_the_ticket_was_when_answered(db, queue, other_queue, engineer):
    other = UserFactory(username="kim")
    kind = TicketTypeFactory(slug="printer")
    _answered(queue, engineer, "good", kind)
    _answered(queue, engineer, "bad", kind)
    _answered(other_queue, other, "good")
    by_agent = satisfaction.satisfaction_by(Ticket.objects.all(), "performer")
    assert (by_agent[engineer.pk].total, by_agent[engineer.pk].percent_good) == (2, 50.0)
    assert by_agent[other.pk].percent_good == 100.0
    by_type = satisfaction.satisfaction_by(Ticket.objects.all(), "ticket_type")
    assert by_type[kind.pk].bad == 1
    Ticket.objects.filter(queue=queue).update(queue=other_queue)  # moved later: the answer keeps its queue
    assert satisfaction.satisfaction_by(Ticket.objects.all(), "queue")[queue.pk].total == 2
    with pytest.raises(ValueError):
        satisfaction.satisfaction_by(Ticket.objects.all(), "customer")


def test_rating_choices_are_the_three_answers():
    assert Rating.values == ["good", "neutral", "bad"]
