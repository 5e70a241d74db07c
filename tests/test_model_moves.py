"""Models that changed app keep their tables, rows, content types and permissions (docs/operations.md).

Deferrals moved from tickets to ``deferrals``, routing and VIP data from tickets to ``routing``, the
notification models from escalations to ``notifications`` and waiting segments from reports to
``tickets``: state-only migrations plus a re-labelling of their content types.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from deferrals.models import DeferralCause, DeferralRequest
from notifications.models import Delivery, Notification
from routing.models import AgentSkill, Skill
from tickets.models import WaitSegment

# The last migrations before the moves, and the apps the moves created.
BEFORE = [
    ("tickets", "0007_vip_rule_kind_label"),
    ("escalations", "0005_level_clock_deadline"),
    ("reports", "0006_ticket_rollups"),
    ("deferrals", None),
    ("routing", None),
    ("notifications", None),
]


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def _labels(model_names):
    return dict(ContentType.objects.filter(model__in=model_names).values_list("model", "app_label"))


def _fill_before_the_move(apps):
    """Rows written through the models as they were before the move (their old apps)."""
    User = apps.get_model("auth", "User")
    requester = User.objects.create(username="requester")
    manager = User.objects.create(username="decider")
    queue = apps.get_model("tickets", "Queue").objects.create(name="Service", slug="service-moves")
    customer = apps.get_model("tickets", "Customer").objects.create(name="Moves LLP")
    ticket = apps.get_model("tickets", "Ticket").objects.create(title="Moved", customer=customer, queue=queue)
    cause = apps.get_model("tickets", "DeferralCause").objects.get(code="other")
    apps.get_model("tickets", "DeferralRequest").objects.create(
        ticket=ticket, requested_by=requester, addressed_to=manager, cause=cause, old_deadline=timezone.now(),
    )
    skill = apps.get_model("tickets", "Skill").objects.create(code="moves", name="Moves")
    apps.get_model("tickets", "AgentSkill").objects.create(user=requester, skill=skill, level=2)
    notification = apps.get_model("escalations", "Notification").objects.create(
        recipient=manager, kind="moves", title="Moved notice", ticket=ticket,
    )
    apps.get_model("escalations", "Delivery").objects.create(
        notification=notification, recipient=manager, channel="email",
    )
    reason = apps.get_model("tickets", "BlockingReason").objects.get(code="customer")
    apps.get_model("reports", "WaitSegment").objects.create(
        ticket=ticket, reason=reason, queue=queue, customer=customer, started_at=timezone.now(),
    )
    # A group granted a permission of a model that moves, by id, as an admin would have done.
    ContentTypeOld = apps.get_model("contenttypes", "ContentType")
    PermissionOld = apps.get_model("auth", "Permission")
    decide = PermissionOld.objects.get(
        content_type=ContentTypeOld.objects.get(app_label="tickets", model="deferralrequest"),
        codename="change_deferralrequest",
    )
    group = apps.get_model("auth", "Group").objects.create(name="deferral clerks")
    group.permissions.add(decide)
    requester.groups.add(group)
    return decide.pk


@pytest.mark.once  # on PostgreSQL the upgrade test moves them from the real old release (tests/upgrade)
@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_rows_content_types_and_permissions_through_the_migrations():
    moved = ["deferralrequest", "deferralcause", "skill", "agentskill", "notification", "delivery", "waitsegment"]
    executor = _migrate(BEFORE)
    # Migrating back gave the content types their old app labels again (the operation is reversible).
    assert _labels(moved) == {
        "deferralrequest": "tickets", "deferralcause": "tickets", "skill": "tickets", "agentskill": "tickets",
        "notification": "escalations", "delivery": "escalations", "waitsegment": "reports",
    }
    permission_id = _fill_before_the_move(executor.loader.project_state(BEFORE[:3]).apps)
    causes = DeferralCause.objects.count()
    # A content type already created under the new label (say by a partial migrate) is left as it is.
    ContentType.objects.create(app_label="routing", model="viprule")

    _migrate()

    assert _labels(moved) == {
        "deferralrequest": "deferrals", "deferralcause": "deferrals", "skill": "routing", "agentskill": "routing",
        "notification": "notifications", "delivery": "notifications", "waitsegment": "tickets",
    }
    assert set(ContentType.objects.filter(model="viprule").values_list("app_label", flat=True)) == {
        "tickets", "routing",
    }
    request = DeferralRequest.objects.select_related("ticket", "cause").get()
    assert request.ticket.title == "Moved" and request.cause.code == "other" and request.is_pending
    assert DeferralCause.objects.count() == causes
    assert AgentSkill.objects.select_related("skill").get().skill == Skill.objects.get(code="moves")
    assert Delivery.objects.get().notification == Notification.objects.get(title="Moved notice")
    assert WaitSegment.objects.get().ticket == request.ticket
    permission = Permission.objects.select_related("content_type").get(pk=permission_id)
    assert (permission.content_type.app_label, permission.codename) == ("deferrals", "change_deferralrequest")
    assert request.requested_by.has_perm("deferrals.change_deferralrequest")


def test_old_admin_links_of_moved_models_lead_to_their_new_app(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/escalations/delivery/", {"status__exact": "failed"})
    assert response.status_code == 301
    assert response["Location"] == reverse("admin:notifications_delivery_changelist") + "?status__exact=failed"
    response = client.get("/admin/tickets/deferralrequest/5/change/")
    assert response["Location"] == reverse("admin:deferrals_deferralrequest_change", args=[5])
    assert client.get("/admin/tickets/viprule/").status_code == 301
    assert client.get("/admin/tickets/ticket/").status_code == 200
