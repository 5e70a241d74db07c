# ruff: noqa: I001 (the imports name the OLD release's modules, which this checkout no longer has)
"""Rows that ``seed_demo`` of the old release leaves out, written through that release's own services.

Runs inside ``manage.py shell`` of the OLD release (git ``246e1f0``): the imports name its modules
(``tickets.deferrals``, ``escalations.notifications`` …), not the ones of the checkout under test, so
this file is never imported by the test suite. It follows the seed, on the same database.

What it adds, so every table has rows before the upgrade:
* a VIP critical incident on the 24/7 calendar, swept three hours later: firings through the sweep,
  the urgent mark (``TicketEscalationState``), notifications and their deliveries;
* a case rule that crosses on that firing (``CaseRuleCrossing`` and the case it opens), and a case opened
  by hand with tickets, customers, a service, members, an update and an escalation;
* a manual escalation, a skipped ticket, a waiting segment, a turnover import and the tier change it
  causes, notification settings, a digest, the weekly digest marker;
* what admins configure by hand (absence, webhook endpoint, case severity policy, affected service,
  level recipients, a direct user permission, an admin log entry) and what the framework keeps
  (a session, a finished django-q2 task, django-axes rows).
"""

from datetime import timedelta

from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone
from django_q.tasks import async_task

from escalations import case_rules, cases
from escalations import services as escalation_services
from escalations.models import (
    AffectedService,
    CaseRule,
    CaseSeverityPolicy,
    EscalationLevel,
    Urgency,
    WebhookEndpoint,
)
from escalations.notifications import delivery, notify
from escalations.notifications.preferences import settings_for
from escalations.sweep import sweep
from reports.digest import send_weekly_digests
from tickets import assignment, vip
from tickets import services as ticket_services
from tickets.models import (
    Absence,
    BlockingReason,
    Customer,
    DeferralCause,
    Queue,
    Status,
    Ticket,
    TicketType,
    VipTier,
)

now = timezone.now()
users = {u.username: u for u in User.objects.all()}
queues = {q.slug: q for q in Queue.objects.all()}

# --- Escalations: a VIP critical incident on the 24/7 calendar, swept three hours later ----------------
vip_customer = Customer.objects.filter(vip_tier__isnull=False).order_by("pk").first()
if vip_customer is None:
    vip_customer = Customer.objects.order_by("pk").first()
    vip_customer.manual_tier = vip_customer.vip_tier = VipTier.objects.order_by("rank", "pk").last()
    vip_customer.save()
incident = ticket_services.ticket_create(
    actor=users["dispatcher"], title="Upgrade test: payment terminal down", customer=vip_customer,
    queue=queues["support"], ticket_type=TicketType.objects.get(slug="critical-incident"),
    performer=users["bekzat"], description="Nothing works.",
)
later = now + timedelta(hours=3)
sweep(now=later)  # Firing, TicketEscalationState (an 80 % level marks urgent), notifications, deliveries
level = EscalationLevel.objects.filter(mark_urgent=True).order_by("pk").first()
level.users.add(users["lead"])
level.groups.add(Group.objects.get(name="manager"))

# --- Escalation cases ----------------------------------------------------------------------------------
CaseSeverityPolicy.objects.get_or_create(
    severity="sev2", defaults={"update_every": timedelta(hours=2), "escalate_after": timedelta(hours=8)}
)
service, _ = AffectedService.objects.get_or_create(code="payments", defaults={"name": "Payments", "name_ru": "Платежи"})
CaseRule.objects.create(name="Upgrade test: VIP level 20", kind=CaseRule.Kind.VIP_LEVEL, min_level_order=20,
                        owner=users["manager"])
case_rules.evaluate_rules(now=later)  # CaseRuleCrossing and the case it opens
open_tickets = list(Ticket.objects.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS]).order_by("pk")[:2])
case = cases.case_open(
    actor=users["manager"], title="Upgrade test: payments outage", severity="sev2", owner=users["manager"],
    triggering_criteria="Two customers cannot pay", tickets=open_tickets,
    customers=[t.customer for t in open_tickets], services=[service], members=[users["lead"]],
)
cases.case_post_update(case, actor=users["manager"], body="We are on it.", public=False, token="upgrade-test")
cases.case_escalate(case, actor=users["manager"], reason="Still down after an hour.")

# --- Tickets, routing, VIP --------------------------------------------------------------------------------
movable = Ticket.objects.filter(status=Status.IN_PROGRESS, queue=queues["sales"]).order_by("pk").first()
escalation_services.escalate_functional(movable, to_queue=queues["service"], reason="Needs the service team",
                                        actor=users["manager"])
waiting = Ticket.objects.filter(status=Status.IN_PROGRESS).exclude(pk=movable.pk).order_by("pk").first()
reason = BlockingReason.objects.get(code="customer")
ticket_services.ticket_change_status(waiting, status=Status.WAITING, reason=reason, actor=waiting.performer)
ticket_services.ticket_change_status(waiting, status=Status.IN_PROGRESS, actor=waiting.performer)
ticket_services.ticket_change_status(waiting, status=Status.WAITING, reason=reason, actor=waiting.performer)
pulled = ticket_services.ticket_create(actor=users["dispatcher"], title="Upgrade test: printer jam",
                                       customer=Customer.objects.order_by("pk")[1], queue=queues["support"])
assignment.ticket_skip(pulled, user=users["timur"], reason="Not my area")
plain = Customer.objects.filter(vip_tier__isnull=True, manual_tier__isnull=True).exclude(email="").order_by("pk")
imported = vip.import_turnover(
    "customer,date,amount,reference\n"
    + "".join(f"{c.email},{(now - timedelta(days=30)).date()},{9_000_000_000 - i},UPG-{i}\n"
              for i, c in enumerate(plain[:3]))
)
assert not imported.errors, imported.errors
vip.evaluate_customers(now.date(), customer_ids=[c.pk for c in plain[:3]])  # CustomerTierChange
Absence.objects.create(user=users["lead"], starts_on=now.date() + timedelta(days=30),
                       ends_on=now.date() + timedelta(days=34), substitute=users["manager"], note="Holiday")

# --- Notifications: settings, a digest, a webhook endpoint, the weekly digest -------------------------
prefs = settings_for(users["lead"])
prefs.routine_channels, prefs.digest_window_minutes = ["in_app", "email"], 15
prefs.save()
for n in range(3):
    notify(users["lead"], kind="ticket.assigned", urgency=Urgency.ROUTINE, title=f"Upgrade test {n}", body="")
delivery.deliver_pending(now=now + timedelta(minutes=16))  # Digest
WebhookEndpoint.objects.create(name="Messenger bridge", url="http://127.0.0.1:9/hook", is_active=False)
send_weekly_digests(now)  # DigestSent

# --- What admins and the framework write ---------------------------------------------------------------
cause = DeferralCause.objects.order_by("pk").first()
users["lead"].user_permissions.add(
    Permission.objects.get(content_type__app_label="tickets", codename="view_deferralrequest")
)
LogEntry.objects.log_actions(
    users["admin"].pk, [cause], CHANGE, change_message=[{"changed": {"fields": ["Name"]}}], single_object=True
)
session = SessionStore()
session["_auth_user_id"] = str(users["admin"].pk)
session.create()
async_task("reports.rollups.refresh_task", sync=True)  # a finished task row
axes = apps.get_app_config("axes")
attempt = axes.get_model("AccessAttempt").objects.create(
    username="intruder", ip_address="10.0.0.9", user_agent="curl", http_accept="*/*", path_info="/login/",
    failures_since_start=1, get_data="", post_data="",
)
axes.get_model("AccessAttemptExpiration").objects.create(access_attempt=attempt, expires_at=now + timedelta(hours=1))
axes.get_model("AccessFailureLog").objects.create(username="intruder", ip_address="10.0.0.9", user_agent="curl",
                                                  http_accept="*/*", path_info="/login/", locked_out=False)
axes.get_model("AccessLog").objects.create(username="admin", ip_address="10.0.0.1", user_agent="curl",
                                           http_accept="*/*", path_info="/login/")

# Every table has rows now, or the upgrade test would prove nothing about the empty ones.
with connection.cursor() as cursor:
    empty = []
    for table in connection.introspection.table_names():
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
        if cursor.fetchone() is None:
            empty.append(table)
assert not empty, f"the old release left tables empty: {empty}"
ContentType.objects.clear_cache()
