"""No ticket without control (issue 16): the catch-all policy, the admin's coverage warning, "Without SLA"."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from reports.dashboard.now import now_figures
from sla import defaults
from sla.demo import seed_sla
from sla.models import SLAClock, SLAPolicy
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory
from tickets import services
from tickets.models import Channel, Priority


def phone_ticket(actor, queue, **kwargs):
    """Seed 001's lost Friday message: a phone ticket with no type for a customer without a VIP tier."""
    return services.ticket_create(
        actor=actor,
        title="Call back about the order",
        customer=CustomerFactory(),
        queue=queue,
        channel=Channel.PHONE,
        **kwargs,
    )


def test_the_catch_all_policy_is_tried_last_and_gives_every_other_ticket_an_sla(make_policy, dispatcher, queue):
    standard = TicketTypeFactory(slug="standard-request")
    specific = make_policy(name="Standard request", precedence=50, ticket_type=standard)
    catch_all = defaults.ensure_catch_all_policy()
    assert catch_all is not None and defaults.is_catch_all(catch_all)
    assert catch_all.precedence == defaults.CATCH_ALL_PRECEDENCE > specific.precedence
    assert (catch_all.name, catch_all.name_ru, catch_all.calendar.name) == (
        "Everything else",
        "Всё остальное",
        "Working hours",
    )

    untyped = phone_ticket(dispatcher, queue)
    typed = phone_ticket(dispatcher, queue, ticket_type=standard)
    assert SLAClock.objects.get(ticket=untyped, kind="resolution").policy == catch_all
    assert SLAClock.objects.get(ticket=typed, kind="resolution").policy == specific
    assert untyped.deadline is not None and not untyped.deadline_set_by_person


def test_ensuring_the_catch_all_is_idempotent_and_respects_a_deactivated_one(db, settings):
    settings.SLA_ENSURE_CATCH_ALL = True
    defaults.post_migrate_handler(sender=None)
    defaults.post_migrate_handler(sender=None)
    [policy] = SLAPolicy.objects.all()
    policy.is_active = False
    policy.save()
    assert defaults.ensure_catch_all_policy() is None  # deactivated on purpose: not created again
    settings.SLA_ENSURE_CATCH_ALL = False
    SLAPolicy.objects.all().delete()
    defaults.post_migrate_handler(sender=None)
    assert not SLAPolicy.objects.exists()


def test_the_demo_policies_end_with_the_catch_all(db):
    seed_sla()
    last = SLAPolicy.objects.order_by("precedence").last()
    assert defaults.is_catch_all(last) and last.calendar.name == "Almaty office"
    assert defaults.uncovered_combinations() == (0, [])


def test_the_policy_admin_warns_about_uncovered_combinations_with_examples(client, admin_user, make_policy, queue):
    standard = TicketTypeFactory(slug="standard-request", name="Standard request")
    make_policy(name="Standard request", ticket_type=standard)
    make_policy(name="Critical", priority=Priority.CRITICAL)
    client.force_login(admin_user)
    response = client.get(reverse("admin:sla_slapolicy_changelist"))
    [warning] = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    # Service × no type × low, normal, high (critical priority and standard requests are covered).
    count, examples = defaults.uncovered_combinations()
    assert count == 3 and str(examples[0]) == "Service · no type · Low"
    assert "3 queue × type × priority combinations match no active policy" in str(warning)
    assert "Service · no type · Low" in str(warning) and "Everything else" in str(warning)

    defaults.ensure_catch_all_policy()
    response = client.get(reverse("admin:sla_slapolicy_changelist"))
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_the_dashboard_counts_open_tickets_without_sla_and_links_to_them(
    client, make_policy, admin_user, dispatcher, engineer, queue, other_queue
):
    standard = TicketTypeFactory(slug="standard-request")
    make_policy(name="Standard request", ticket_type=standard)
    controlled = phone_ticket(dispatcher, queue, ticket_type=standard)
    lost = phone_ticket(dispatcher, queue)
    closed = phone_ticket(dispatcher, queue, performer=engineer)
    services.ticket_change_status(closed, status="done", actor=engineer)
    hidden = TicketFactory(queue=other_queue, created_at=timezone.now() - timedelta(hours=1))

    figure = now_figures(admin_user, timezone.now()).no_sla
    assert figure.value == 2 and figure.url == reverse("tickets:list") + "?no_sla=on"  # lost, hidden
    client.force_login(admin_user)
    listed = client.get(figure.url).content.decode()
    assert f'href="/tickets/{lost.pk}/"' in listed and f'href="/tickets/{hidden.pk}/"' in listed
    assert f'href="/tickets/{controlled.pk}/"' not in listed and f'href="/tickets/{closed.pk}/"' not in listed
    dashboard = client.get(reverse("reports:dashboard")).content.decode()
    assert "Without SLA" in dashboard and "?no_sla=on" in dashboard

    # An engineer of the Service queue sees only what they may open.
    client.force_login(engineer)
    listed = client.get(figure.url).content.decode()
    assert f'href="/tickets/{lost.pk}/"' in listed and f'href="/tickets/{hidden.pk}/"' not in listed
