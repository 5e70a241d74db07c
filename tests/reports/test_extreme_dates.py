"""Issue 19, point 4: dates at the ends of the calendar (9999-12-31, 0001-01-01) never give a 500.

Every date and instant that comes in is bounded to ``core.dates.EARLIEST`` … ``LATEST`` (2000-01-01 …
2100-12-31): a page shows a clear message and falls back to its default period (it does not clamp); an
export answers 400 with the message rather than a file for another period; a service refuses with a
``TicketError``; a value already stored outside the range does not break the page that shows it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import dates
from deferrals import services as deferrals
from deferrals.forms import DecisionForm, DeferralRequestForm
from deferrals.models import DeferralCause, DeferralRequest
from escalations import cases
from escalations.case_forms import ReportForm, TaskForm
from reports.forms import DisciplineFilterForm
from reports.report_forms import ReportFilterForm
from tests.escalations.case_helpers import clock_for, open_case
from tests.factories import CustomerFactory, TicketFactory
from tickets import services as ticket_services
from tickets.forms import NextStepForm
from tickets.models import Status, Ticket
from tickets.services import TicketError

pytestmark = pytest.mark.django_db

MESSAGE = "Choose a date between"
EXTREMES = ["9999-12-31", "0001-01-01"]
FIELDS = [("date_from", "date_to"), ("date_to", "date_from")]

PAGES = [
    ("reports:dashboard", {}),
    ("reports:sla", {}),
    ("reports:delays", {}),
    ("reports:workload", {}),
    ("reports:repetitive", {}),
    ("reports:calibration", {}),
    ("reports:staffing", {}),
    ("reports:discipline", {}),
]
EXPORTS = [
    *[(name, {"format": fmt}) for name in ("reports:sla", "reports:delays", "reports:workload",
                                           "reports:repetitive", "reports:calibration", "reports:staffing")
      for fmt in ("csv", "xlsx")],
    ("reports:discipline_csv", {}),
    ("reports:discipline_xlsx", {}),
]


def _query(field, value, extra):
    return {"period": "custom", field: value, **extra}


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize(("name", "extra"), PAGES)
def test_every_report_page_shows_a_clear_message_for_an_extreme_date(client, admin_user, name, extra, field, value):
    client.force_login(admin_user)
    response = client.get(reverse(name), _query(field, value, extra))
    assert response.status_code == 200  # the page falls back to its default period
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize(("name", "extra"), EXPORTS)
def test_every_export_refuses_an_extreme_date_with_a_400(client, admin_user, name, extra, field, value):
    client.force_login(admin_user)
    response = client.get(reverse(name), _query(field, value, extra))
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("name", ["reports:completed", "reports:deferrals"])
def test_the_discipline_drill_downs_answer_404_not_500(client, admin_user, engineer, name, value):
    client.force_login(admin_user)
    response = client.get(reverse(name), {"employee": engineer.pk, "date_from": value, "date_to": value})
    assert response.status_code == 404  # a drill-down with bad filters is not found, as before


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["start", "end"])
def test_the_case_report_shows_a_clear_message(client, manager, field, value):
    client.force_login(manager)
    response = client.get(reverse("cases:report"), {field: value})
    assert response.status_code == 200 and MESSAGE in response.content.decode()


@pytest.mark.parametrize("value", EXTREMES)
def test_the_ticket_list_period_filter_says_so(client, manager, value):
    client.force_login(manager)
    response = client.get(reverse("tickets:list"), {"period_from": value, "period_to": value,
                                                    "created_in_period": "on"})
    assert response.status_code == 200 and MESSAGE in response.content.decode()


@pytest.mark.parametrize("form_class", [DisciplineFilterForm, ReportFilterForm, ReportForm])
@pytest.mark.parametrize("value", EXTREMES)
def test_the_date_forms_name_the_range(admin_user, form_class, value):
    kwargs = {"viewer": admin_user} if form_class is DisciplineFilterForm else {}
    names = ["start", "end"] if form_class is ReportForm else ["date_from", "date_to"]
    form = form_class({"period": "custom", names[0]: value, names[1]: value}, **kwargs)
    assert not form.is_valid()
    assert all(MESSAGE in " ".join(form.errors[n]) for n in names)
    ok = form_class({"period": "custom", names[0]: "2000-01-01", names[1]: "2001-12-30"}, **kwargs)
    assert ok.is_valid(), ok.errors


def test_the_range_is_in_one_place():
    assert (date(2000, 1, 1), date(2100, 12, 31)) == (dates.EARLIEST, dates.LATEST)
    assert dates.in_range(date(2100, 12, 31)) and not dates.in_range(date(2101, 1, 1))
    assert dates.in_range(None) and not dates.in_range(datetime(1999, 12, 31, 23, 59, tzinfo=UTC))


# --- Deferrals -----------------------------------------------------------------------------------------------


HOUR = timedelta(hours=1)
FAR = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def worked(queue, engineer):
    return TicketFactory(queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
                         deadline=timezone.now() + 2 * HOUR, title="Router swap")


@pytest.fixture
def supplier(db):
    return DeferralCause.objects.get(code="supplier")


def test_the_service_refuses_a_deferral_proposed_to_9999(worked, engineer, supplier):
    with pytest.raises(TicketError, match=MESSAGE):
        deferrals.deferral_request(worked, actor=engineer, cause=supplier, explanation="Later",
                                   proposed_deadline=FAR)
    assert not DeferralRequest.objects.exists()


def test_the_form_refuses_a_deferral_proposed_to_9999(client, worked, engineer, supplier):
    form = DeferralRequestForm({"cause": supplier.pk, "explanation": "Later", "proposed_deadline": "9999-12-31T10:00"})
    assert not form.is_valid() and MESSAGE in " ".join(form.errors["proposed_deadline"])
    client.force_login(engineer)
    response = client.post(reverse("deferrals:request", args=[worked.pk]), {
        "cause": supplier.pk, "explanation": "Later", "proposed_deadline": "9999-12-31T10:00"}, follow=True)
    assert response.status_code < 500 and MESSAGE in response.content.decode()
    assert not DeferralRequest.objects.exists()


@pytest.fixture
def far_pending(worked, engineer, supplier):
    """A proposal to 9999-12-31 written directly, as the unbounded code stored it; the ticket runs on a
    business calendar (its SLA clock), so the screen measures business time."""
    clock_for(worked)
    deferral = deferrals.deferral_request(worked, actor=engineer, cause=supplier, explanation="Later",
                                          proposed_deadline=timezone.now() + 30 * HOUR)
    DeferralRequest.objects.filter(pk=deferral.pk).update(proposed_deadline=FAR)
    return DeferralRequest.objects.get(pk=deferral.pk)


def test_an_out_of_range_proposal_in_the_database_does_not_break_the_approval_screen(client, far_pending, manager):
    client.force_login(manager)
    response = client.get(reverse("deferrals:decide", args=[far_pending.pk]))
    assert response.status_code == 200
    assert "Router swap" in response.content.decode()
    response = client.get(reverse("deferrals:inbox"))
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["9999-12-31T10:00", "0001-01-01T10:00"])
def test_the_deferral_distance_helper_answers_without_a_500(client, far_pending, manager, value):
    client.force_login(manager)
    response = client.get(reverse("deferrals:distance", args=[far_pending.pk]), {"new_deadline": value})
    assert response.status_code == 200 and MESSAGE in response.content.decode()


def test_the_decision_to_9999_is_refused_by_the_form_and_the_service(client, far_pending, manager, worked):
    form = DecisionForm({"verdict": "objective", "new_deadline": "9999-12-31T10:00"})
    assert not form.is_valid() and MESSAGE in " ".join(form.errors["new_deadline"])
    with pytest.raises(TicketError, match=MESSAGE):
        deferrals.deferral_decide(far_pending, actor=manager, verdict="objective", new_deadline=FAR)
    client.force_login(manager)
    response = client.post(reverse("deferrals:decide", args=[far_pending.pk]),
                           {"verdict": "objective", "new_deadline": "9999-12-31T10:00"})
    assert response.status_code == 400 and MESSAGE in response.content.decode()
    assert DeferralRequest.objects.get(pk=far_pending.pk).is_pending
    assert Ticket.objects.get(pk=worked.pk).deadline < timezone.now() + 3 * HOUR


# --- Next step, deadline, case task ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T10:00", "9999-12-31T10:00"])
def test_a_next_step_due_at_the_ends_of_the_calendar_is_refused(client, worked, engineer, value):
    form = NextStepForm({"text": "Call back", "due": value})
    assert not form.is_valid() and MESSAGE in " ".join(form.errors["due"])
    client.force_login(engineer)
    response = client.post(reverse("tickets:next_step", args=[worked.pk]), {"text": "Call back", "due": value},
                           follow=True)
    assert response.status_code < 500 and MESSAGE in response.content.decode()
    assert Ticket.objects.get(pk=worked.pk).next_step == ""
    far = datetime(1, 1, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(TicketError, match=MESSAGE):
        ticket_services.ticket_set_next_step(worked, actor=engineer, text="Call back", due=far)


def test_a_deadline_outside_the_range_is_refused_by_the_services(worked, engineer, manager, queue):
    with pytest.raises(TicketError, match=MESSAGE):
        ticket_services.ticket_move_deadline(worked, deadline=FAR, actor=manager, cause="override")
    with pytest.raises(TicketError, match=MESSAGE):
        ticket_services.ticket_create(actor=manager, title="x", customer=CustomerFactory(), queue=queue,
                                      deadline=FAR)


def test_a_case_task_due_in_9999_is_refused(manager, queue, engineer):
    case = open_case(manager, manager, [TicketFactory(queue=queue)])
    form = TaskForm({"title": "Restart", "performer": engineer.pk, "queue": queue.pk, "due": "9999-12-31T10:00"})
    assert not form.is_valid() and MESSAGE in " ".join(form.errors["due"])
    with pytest.raises(TicketError, match=MESSAGE):
        cases.case_add_task(case, actor=manager, title="Restart", queue=queue, performer=engineer, due=FAR)
