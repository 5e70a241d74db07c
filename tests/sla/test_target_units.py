"""Targets people agree on (issue 16, point 7): business days and "by the end of the business day" on policies.

Frozen time on the Almaty office calendar (Mon–Fri 09:00–13:00, 14:00–18:00). Monday 16 February 2026.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sla.demo import seed_sla
from sla.models import SLAClock, SLAPolicy, TargetUnit
from sla.selectors import target_preview, target_text
from tests.factories import CustomerFactory, TicketTypeFactory
from tickets import services
from tickets.models import Status

from .conftest import almaty

DAY = timedelta(days=1)


def create(actor, queue, **kwargs):
    return services.ticket_create(
        actor=actor, title="Refund claim", customer=CustomerFactory(), queue=queue, description="Wrong size.", **kwargs
    )


def resolution(ticket) -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, kind="resolution")


def test_three_business_days_are_due_at_the_same_time_on_the_third_working_day(make_policy, dispatcher, queue, at):
    make_policy(resolution_target=3 * DAY, resolution_unit=TargetUnit.BUSINESS_DAYS)
    at(2026, 2, 16, 15, 0)
    ticket = create(dispatcher, queue)
    res = resolution(ticket)
    assert res.due_at == ticket.deadline == almaty(2026, 2, 19, 15, 0)  # not 72 business hours (nine days)
    assert res.target == timedelta(hours=24)  # three office days of business time


def test_a_wait_pushes_a_business_day_target_by_the_business_time_it_waited(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy(resolution_target=1 * DAY, resolution_unit=TargetUnit.BUSINESS_DAYS)
    at(2026, 2, 16, 10, 0)
    ticket = create(dispatcher, queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 12, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    assert resolution(ticket).due_at == almaty(2026, 2, 17, 12, 0)


@pytest.mark.parametrize(("days_after", "due"), [(0, almaty(2026, 2, 16, 18, 0)), (1, almaty(2026, 2, 17, 18, 0))])
def test_by_the_end_of_the_business_day(make_policy, dispatcher, queue, at, days_after, due):
    make_policy(resolution_target=days_after * DAY, resolution_unit=TargetUnit.END_OF_DAY)
    at(2026, 2, 16, 10, 0)
    assert resolution(create(dispatcher, queue)).due_at == due


def test_a_reclassification_to_a_business_day_policy_counts_from_the_ticket_start(make_policy, dispatcher, queue, at):
    claims = TicketTypeFactory(slug="complex-case")
    make_policy(name="Standard", resolution_target=timedelta(hours=2))
    make_policy(
        name="Claims",
        precedence=10,
        ticket_type=claims,
        resolution_target=3 * DAY,
        resolution_unit=TargetUnit.BUSINESS_DAYS,
    )
    at(2026, 2, 16, 15, 0)
    ticket = create(dispatcher, queue)
    at(2026, 2, 16, 16, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=claims)
    assert resolution(ticket).due_at == almaty(2026, 2, 19, 15, 0) == type(ticket).objects.get(pk=ticket.pk).deadline


@pytest.mark.parametrize(
    ("target", "unit", "field"),
    [
        (timedelta(0), TargetUnit.BUSINESS_TIME, "resolution_target"),
        (timedelta(days=1, hours=4), TargetUnit.BUSINESS_DAYS, "resolution_target"),
        (timedelta(0), TargetUnit.BUSINESS_DAYS, "resolution_target"),
        (timedelta(hours=3), TargetUnit.END_OF_DAY, "resolution_target"),
    ],
)
def test_a_target_must_fit_its_unit(make_policy, target, unit, field):
    policy = make_policy()
    policy.resolution_target, policy.resolution_unit = target, unit
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert field in error.value.message_dict


def test_the_admin_says_each_target_as_people_do_and_previews_the_due_instant(client, admin_user, make_policy, at):
    policy = make_policy(
        name="Claims",
        first_response_target=timedelta(hours=4),
        resolution_target=3 * DAY,
        resolution_unit=TargetUnit.BUSINESS_DAYS,
        next_reply_target=DAY,
        next_reply_unit=TargetUnit.END_OF_DAY,
    )
    at(2026, 2, 16, 15, 0)
    assert [target_text(policy, kind) for kind in SLAClock.SLA_KINDS] == [
        "4 h",
        "3 business days",
        "by the end of the next business day",
    ]
    client.force_login(admin_user)
    listing = client.get(reverse("admin:sla_slapolicy_changelist")).content.decode()
    assert "4 h / 3 business days / by the end of the next business day" in listing
    assert target_preview(policy, "resolution") == "created now → due Thu 19 Feb, 15:00"
    assert "created now → due Thu 19 Feb, 15:00" in listing
    page = client.get(reverse("admin:sla_slapolicy_change", args=[policy.pk])).content.decode()
    assert "Resolution: 3 business days (created now → due Thu 19 Feb, 15:00)" in page
    assert "Next reply: by the end of the next business day (created now → due Tue 17 Feb, 18:00)" in page


def test_the_demo_complex_case_is_three_business_days(db):
    seed_sla()
    complex_case = SLAPolicy.objects.get(name="Complex case")
    assert (complex_case.resolution_target, complex_case.resolution_unit) == (3 * DAY, TargetUnit.BUSINESS_DAYS)
    assert target_text(complex_case, "resolution") == "3 business days"
