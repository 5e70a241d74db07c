"""Django admin: every page renders, ticket edits go through the lifecycle service, history is read-only."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    CustomerFactory,
    IntakeChannelFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    VipTierFactory,
)
from tickets import organisations, services
from tickets.attachments import IncomingFile
from tickets.models import (
    Attachment,
    IntakeChannel,
    Message,
    RelatedObject,
    SatisfactionRating,
    SatisfactionSurvey,
    Ticket,
    TicketEvent,
    hash_token,
)

User = get_user_model()
ALMATY = ZoneInfo("Asia/Almaty")


class _FormFields(HTMLParser):
    """What a browser would submit from the admin's main form (``<form id="<model>_form">``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form = (a.get("id") or "").endswith("_form")
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image") or (kind in ("checkbox", "radio") and "checked" not in a):
                return
            self.fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._multiple, self._options = a.get("name"), "multiple" in a, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and self._options and not self._multiple:
                chosen = [self._options[0][0]]  # a browser submits the first option
            self.fields.extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_data(response) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role="admin", is_staff=True, is_superuser=True, profile__language="en")


@pytest.fixture
def ops_admin(db):
    """Staff in the "admin" role group, not a superuser: may override deadlines."""
    return UserFactory(username="opsadmin", role="admin", is_staff=True, profile__language="en")


@pytest.fixture
def staff_dispatcher(db):
    """Staff who may change tickets but not override deadlines."""
    return UserFactory(username="deskstaff", role="dispatcher", is_staff=True, profile__language="en")


@pytest.fixture
def full_ticket(db, queue, engineer, dispatcher):
    customer = CustomerFactory(vip_tier=VipTierFactory())
    order = RelatedObject.objects.create(kind=RelatedObject.Kind.ORDER, external_ref="ORD-1", customer=customer)
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Printer jams",
        customer=customer,
        queue=queue,
        ticket_type=TicketTypeFactory(default_queue=queue),
        description="It jams on every page.",
        related_object=order,
    )
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_reply(ticket, body="Looking into it.", actor=engineer)
    return ticket


def _tickets_app_models():
    # The deferral and routing models left the tickets app with their admin pages: still checked here.
    apps = ("tickets", "deferrals", "routing")
    return [(m, ma) for m, ma in admin.site._registry.items() if m._meta.app_label in apps or m is User]


def _deferral_rows(ticket, decider):
    """An absence and a decided deferral request, so their admin pages have a row to show (deferrals.services)."""
    from django.utils import timezone

    from deferrals.models import DeferralRequest
    from tickets.models import Absence

    requester = UserFactory(username="deferrer", role="engineer")
    today = timezone.localdate()
    Absence.objects.create(user=decider, substitute=requester, starts_on=today, ends_on=today)
    DeferralRequest.objects.create(
        ticket=ticket, requested_by=requester, addressed_to=decider, old_deadline=timezone.now(),
        status="declined", decided_by=decider, decided_at=timezone.now(), comment="no",
    )


def _routing_rows(ticket, agent):
    """A row for each routing and VIP admin (routing.strategies, routing.vip)."""
    from routing import models as m

    skill = m.Skill.objects.create(code="network", name="Network")
    m.AgentSkill.objects.create(user=agent, skill=skill, level=3)
    m.TicketTypeSkill.objects.create(ticket_type=ticket.ticket_type, skill=skill)
    m.ClassificationRule.objects.create(keywords="outage", ticket_type=ticket.ticket_type)
    m.VipRule.objects.create(tier=ticket.customer.vip_tier, kind=m.VipRule.Kind.STRATEGIC)
    m.CustomerTurnover.objects.create(customer=ticket.customer, date="2026-01-01", amount=100)
    m.CustomerTierChange.objects.create(customer=ticket.customer, to_tier=ticket.customer.vip_tier, reason="test")
    m.TicketSkip.objects.create(ticket=ticket, user=agent, queue=ticket.queue, reason="test")


def _tool_rows(ticket, actor):
    """A canned reply and a bulk job (tickets.canned, tickets.bulk)."""
    from tickets.models import BulkJob, CannedReply

    CannedReply.objects.create(name="Thanks", body="Thanks, {{customer_name}}", queue=ticket.queue)
    BulkJob.objects.create(actor=actor, action="priority", params={"priority": 1}, ticket_ids=[ticket.pk], total=1)


def test_every_admin_page_renders_for_a_superuser(client, superuser, full_ticket):
    IntakeChannelFactory(default_queue=full_ticket.queue)
    organisations.organisation_for_new_customer(full_ticket.customer)
    _deferral_rows(full_ticket, superuser)
    _routing_rows(full_ticket, superuser)
    _tool_rows(full_ticket, superuser)
    survey = SatisfactionSurvey.objects.create(ticket=full_ticket, route="email")
    SatisfactionRating.objects.create(survey=survey, ticket=full_ticket, rating="bad", queue=full_ticket.queue)
    client.force_login(superuser)
    models = _tickets_app_models()
    assert {m._meta.model_name for m, _ma in models} >= {
        "profile", "viptier", "customer", "relatedobject", "queue", "tickettype", "blockingreason", "ticket",
        "message", "ticketevent", "intakechannel", "user",
    }
    for model, model_admin in models:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, opts.model_name
        obj = model._default_manager.first()
        assert obj is not None, f"no {opts.model_name} to show"
        assert client.get(change_url(obj)).status_code == 200, opts.model_name
        add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403), opts.model_name


def test_the_ticket_changelist_costs_the_same_queries_for_many_tickets(client, superuser, queue, engineer):
    client.force_login(superuser)
    url = reverse("admin:tickets_ticket_changelist")
    TicketFactory.create_batch(3, queue=queue, performer=engineer)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    TicketFactory.create_batch(20, queue=queue, performer=engineer)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 15


def test_the_ticket_search_finds_a_ticket_by_its_number(client, superuser, full_ticket):
    client.force_login(superuser)
    TicketFactory(title="Something else")
    response = client.get(reverse("admin:tickets_ticket_changelist"), {"q": f"#{full_ticket.pk}"})
    assert list(response.context["cl"].result_list) == [full_ticket]


def test_the_ticket_page_shows_recent_history_and_links_to_all_of_it(client, superuser, full_ticket):
    client.force_login(superuser)
    TicketFactory()
    services.ticket_create(actor=None, title="Other", customer=CustomerFactory(), queue=full_ticket.queue)
    body = client.get(change_url(full_ticket)).content.decode()
    assert "ticket.replied" in body and "ticket.assigned" in body
    link = re.search(r'href="([^"]*ticketevent/\?ticket__id__exact=\d+)"', body).group(1)
    events = client.get(link.replace("&amp;", "&")).context["cl"].result_list
    assert {e.ticket_id for e in events} == {full_ticket.pk} and len(events) == full_ticket.events.count()


def test_an_admin_overrides_a_deadline_with_a_reason_and_history_records_it(client, ops_admin, full_ticket):
    client.force_login(ops_admin)
    data = form_data(client.get(change_url(full_ticket)))
    data.update(deadline_0=["2030-01-15"], deadline_1=["10:00:00"], override_reason=["Customer agreed by phone"])
    response = client.post(change_url(full_ticket), data)
    assert response.status_code == 302
    full_ticket.refresh_from_db()
    assert full_ticket.deadline == datetime(2030, 1, 15, 10, 0, tzinfo=ALMATY)
    event = full_ticket.events.get(kind="ticket.deadline_overridden")
    assert event.actor == ops_admin and event.data["reason"] == "Customer agreed by phone"
    assert event.data["previous"] is None


def test_a_deadline_change_without_a_reason_is_refused_and_changes_nothing(client, ops_admin, full_ticket):
    client.force_login(ops_admin)
    before = full_ticket.events.count()
    data = form_data(client.get(change_url(full_ticket)))
    data.update(deadline_0=["2030-01-15"], deadline_1=["10:00:00"], override_reason=["  "])
    response = client.post(change_url(full_ticket), data)
    assert response.status_code == 200
    assert "override_reason" in response.context["adminform"].form.errors
    full_ticket.refresh_from_db()
    assert full_ticket.deadline is None and full_ticket.events.count() == before


def test_without_the_override_permission_the_deadline_is_read_only(client, staff_dispatcher, full_ticket):
    client.force_login(staff_dispatcher)
    page = client.get(change_url(full_ticket))
    assert page.status_code == 200
    assert "deadline" not in page.context["adminform"].form.fields
    data = form_data(page)
    data.update(deadline_0=["2030-01-15"], deadline_1=["10:00:00"], priority=["3"])
    assert client.post(change_url(full_ticket), data).status_code == 302
    full_ticket.refresh_from_db()
    assert full_ticket.deadline is None and full_ticket.priority == 3
    assert not full_ticket.events.filter(kind="ticket.deadline_overridden").exists()
    update = full_ticket.events.get(kind="ticket.updated")
    assert update.actor == staff_dispatcher and update.data["changes"]["priority"] == {"from": 2, "to": 3}


def test_triage_and_people_changes_leave_history(client, superuser, full_ticket, manager, other_queue):
    client.force_login(superuser)
    data = form_data(client.get(change_url(full_ticket)))
    data.update(title=["Printer jams on page 2"], queue=[str(other_queue.pk)], approver=[str(manager.pk)],
                observers=[str(manager.pk)])
    assert client.post(change_url(full_ticket), data).status_code == 302
    full_ticket.refresh_from_db()
    assert full_ticket.title == "Printer jams on page 2" and full_ticket.queue == other_queue
    assert full_ticket.approver == manager and list(full_ticket.observers.all()) == [manager]
    kinds = list(full_ticket.events.values_list("kind", flat=True))
    assert {"ticket.updated", "ticket.approver_changed", "ticket.observers_changed"} <= set(kinds)
    changes = full_ticket.events.get(kind="ticket.updated").data["changes"]
    assert set(changes) == {"title", "queue"}


def test_an_owner_without_a_role_is_refused(client, superuser, full_ticket, engineer):
    nobody = UserFactory(username="nobody")
    client.force_login(superuser)
    data = form_data(client.get(change_url(full_ticket)))
    data["owner"] = [str(nobody.pk)]
    response = client.post(change_url(full_ticket), data)
    assert response.status_code == 200 and "owner" in response.context["adminform"].form.errors
    full_ticket.refresh_from_db()
    assert full_ticket.owner == engineer


def test_tickets_cannot_be_added_or_deleted_in_admin(client, superuser, full_ticket):
    client.force_login(superuser)
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    delete = reverse("admin:tickets_ticket_delete", args=[full_ticket.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.get(reverse("admin:tickets_ticket_changelist"))
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(response.wsgi_request)
    assert Ticket.objects.filter(pk=full_ticket.pk).exists()


@pytest.mark.parametrize("model", [TicketEvent, Message])
def test_history_and_messages_are_view_only(client, superuser, full_ticket, model):
    client.force_login(superuser)
    obj = model.objects.filter(ticket=full_ticket).first()
    name = model._meta.model_name
    page = client.get(change_url(obj))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(change_url(obj), {}).status_code == 403
    assert client.get(reverse(f"admin:tickets_{name}_delete", args=[obj.pk])).status_code == 403
    assert client.post(reverse(f"admin:tickets_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse(f"admin:tickets_{name}_add")).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_the_admin_group_cannot_change_history_either(client, ops_admin, full_ticket):
    client.force_login(ops_admin)
    event = full_ticket.events.first()
    assert client.post(change_url(event), {}).status_code == 403
    assert client.post(reverse("admin:tickets_ticketevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


# --- Intake channels --------------------------------------------------------------------------


def _token_from(response) -> str:
    found = [re.search(r": (\S+) — copy it now", m) for m in messages_of(response)]
    tokens = [m.group(1) for m in found if m]
    assert len(tokens) == 1, messages_of(response)
    return tokens[0]


def test_adding_an_intake_channel_shows_its_token_once(client, superuser, queue):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:tickets_intakechannel_add"),
        {"name": "Mail gateway", "channel": "email", "default_queue": queue.pk, "is_active": "on", "_save": "1"},
        follow=True,
    )
    token = _token_from(response)
    channel = IntakeChannel.objects.get(name="Mail gateway")
    assert channel.token_hash == hash_token(token) and channel.token_hint == token[:6]
    page = client.get(change_url(channel)).content.decode()
    assert token not in page and channel.token_hash not in page and f"{token[:6]}…" in page


def test_issuing_a_new_token_replaces_the_old_one(client, superuser, queue):
    channel = IntakeChannelFactory(default_queue=queue)
    old = channel.set_token()
    channel.save()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:tickets_intakechannel_changelist"),
        {"action": "issue_new_token", "_selected_action": [channel.pk]},
        follow=True,
    )
    token = _token_from(response)
    channel.refresh_from_db()
    assert token != old and channel.token_hash == hash_token(token) and channel.is_active


def test_revoking_a_channel_deactivates_it(client, superuser, queue):
    channel = IntakeChannelFactory(default_queue=queue)
    client.force_login(superuser)
    client.post(
        reverse("admin:tickets_intakechannel_changelist"),
        {"action": "revoke", "_selected_action": [channel.pk]},
        follow=True,
    )
    channel.refresh_from_db()
    assert channel.revoked_at is not None and not channel.is_active


# --- Users --------------------------------------------------------------------------------------


def test_the_direct_manager_is_edited_on_the_user_page(client, superuser, manager):
    worker = UserFactory(username="worker", role="engineer")
    client.force_login(superuser)
    data = form_data(client.get(change_url(worker)))
    assert "profile-0-manager" in data
    data["profile-0-manager"] = [str(manager.pk)]
    response = client.post(change_url(worker), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    worker.profile.refresh_from_db()
    assert worker.profile.manager == manager


def test_attachments_are_listed_read_only_on_the_message_and_ticket_pages(client, superuser, full_ticket, engineer):
    message = services.ticket_add_note(
        full_ticket, body="Scan", actor=engineer, attachments=[IncomingFile("Акт.pdf", "application/pdf", b"%PDF")]
    )
    download = reverse("attachments:download", args=[message.attachments.get().pk])
    client.force_login(superuser)
    for url in (reverse("admin:tickets_message_change", args=[message.pk]), change_url(full_ticket)):
        html = client.get(url).content.decode()
        assert f'<a href="{download}">Акт.pdf</a>' in html
        assert 'type="file"' not in html and "/media/" not in html
    assert not admin.site.is_registered(Attachment)  # no upload or edit through admin
