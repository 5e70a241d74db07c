"""Roles and permissions: views, services and the API ask here, never re-derive.

Roles are Django groups (created from ``ROLE_PERMISSIONS`` after every
migrate); what a role may do is its group's permissions, which admins can
adjust. Which tickets a user sees is ``Ticket.objects.visible_to(user)``.
"""

from __future__ import annotations

from functools import wraps

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import router
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.rowcache import Precompiled
from tickets.choices import MembershipRole, Status

# The models are looked up in the app registry: ``tickets.models`` builds the ticket manager from
# ``tickets.querysets``, whose visibility rule asks this module (no import cycle).
AGENT_MEMBERSHIP, DISPATCHER_MEMBERSHIP = MembershipRole.AGENT, MembershipRole.DISPATCHER

ENGINEER = "engineer"
DISPATCHER = "dispatcher"
MANAGER = "manager"
ADMIN = "admin"
ROLES = (ENGINEER, DISPATCHER, MANAGER, ADMIN)
ROLE_LABELS = {ENGINEER: _("Engineer"), DISPATCHER: _("Dispatcher"), MANAGER: _("Manager"), ADMIN: _("Admin")}

_WORK = ["tickets.view_ticket", "tickets.change_ticket", "tickets.add_message", "tickets.view_customer"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ENGINEER: _WORK,
    DISPATCHER: [*_WORK, "tickets.add_ticket", "tickets.assign_ticket", "tickets.set_deadline", "tickets.add_customer"],
    MANAGER: [*_WORK, "tickets.add_ticket", "tickets.assign_ticket", "tickets.set_deadline", "tickets.add_customer",
              "tickets.view_cannedreply", "tickets.add_cannedreply", "tickets.change_cannedreply",
              "tickets.delete_cannedreply"],
    # Admins configure OpsDesk in Django admin: every permission of these apps
    # (history stays read-only there whatever the permissions say).
    ADMIN: [
        "tickets.*", "sla.*", "notifications.*", "routing.*", "deferrals.*", "escalations.*", "reports.*", "intake.*",
        "auth.view_user", "auth.change_user", "auth.add_user",
    ],
}


def sync_roles() -> None:
    """Create the role groups and give them exactly the permissions in the table (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".")
            if codename == "*":
                query |= Q(content_type__app_label=app_label)
            else:
                query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(query))


def roles_of(user) -> frozenset[str]:
    """The role names of ``user``, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_opsdesk_roles", None)
    if cached is None:
        names = {name for (name,) in _ROLE_NAMES.rows(user.pk, using=router.db_for_read(Group))}
        if user.is_superuser:
            names.add(ADMIN)
        cached = frozenset(names)
        user._opsdesk_roles = cached
    return cached


# Stand for the person while the SQL is compiled: nobody has them.
_ROLE_NAMES = Precompiled(
    lambda user_id: Group.objects.filter(user__pk=user_id, name__in=ROLES).values_list("name", flat=True),
    -7_100_906,
    prepare=True,
)


def sees_everything(user) -> bool:
    return user.is_superuser or ADMIN in roles_of(user) or user.has_perm("tickets.view_all_tickets")


def team_user_ids(manager):
    """Users whose direct manager is ``manager`` (a subquery)."""
    return apps.get_model("tickets", "Profile").objects.filter(manager=manager).values("user_id")


def is_admin(user) -> bool:
    """An OpsDesk admin (the admin role, or a superuser)."""
    return bool(user and user.is_authenticated and (user.is_superuser or ADMIN in roles_of(user)))


def is_staff_role(user) -> bool:
    return bool(roles_of(user) & {DISPATCHER, MANAGER, ADMIN})


def can_see_notes(user) -> bool:
    """Internal notes (and their files) are for OpsDesk staff: anyone holding a role, never a bare observer."""
    return bool(roles_of(user))


def can_create_ticket(user) -> bool:
    return user.has_perm("tickets.add_ticket")


def can_create_internal_task(user) -> bool:
    """Every OpsDesk role may ask another department for something: an internal task, never sent to a customer."""
    return bool(roles_of(user))


def can_set_deadline_on_create(user) -> bool:
    return user.has_perm("tickets.set_deadline")


def can_override_deadline(user) -> bool:
    return user.has_perm("tickets.override_deadline")


def can_assign(user, ticket) -> bool:
    """Dispatchers of the ticket's queue, managers who see it, and admins may assign."""
    if not user.has_perm("tickets.assign_ticket"):
        return False
    return _visible(user, ticket)


def can_bulk_act(user) -> bool:
    """Change many tickets in one action (``tickets.bulk``): dispatchers, managers and admins, never engineers."""
    return bool(user and user.is_authenticated and user.has_perm("tickets.assign_ticket")
                and roles_of(user) & {DISPATCHER, MANAGER, ADMIN})


def can_manage_canned_replies(user) -> bool:
    """Write, change and remove canned replies in the portal: managers and admins."""
    return bool(user and user.is_authenticated and user.has_perm("tickets.change_cannedreply")
                and roles_of(user) & {MANAGER, ADMIN})


def can_work(user, ticket) -> bool:
    """Reply, add notes, change status and next step: everyone who sees it except pure observers."""
    if not user.has_perm("tickets.change_ticket") or not _visible(user, ticket):
        return False
    if is_staff_role(user) or user.pk in (ticket.performer_id, ticket.owner_id, ticket.approver_id):
        return True
    return apps.get_model("tickets", "QueueMembership").objects.filter(user=user, queue_id=ticket.queue_id).exists()


def can_retry_delivery(user, ticket, *, assign: bool | None = None, visible: bool | None = None) -> bool:
    """Send a failed public message again: the performer, the queue's dispatchers, managers who see it, admins.

    ``assign``, ``visible``: the caller's ``can_assign(user, ticket)`` and visibility when it already has them.
    """
    if not user.is_authenticated:
        return False
    if user.pk == ticket.performer_id and (visible if visible is not None else _visible(user, ticket)):
        return True
    return can_assign(user, ticket) if assign is None else assign


def can_merge(user, ticket) -> bool:
    """Merge a duplicate into another ticket (both ends): whoever may assign it (dispatchers, managers, admins).

    Engineers are refused: a merge closes a ticket and moves its conversation, a triage decision (docs/merge.md).
    """
    return can_assign(user, ticket)


def can_link(user, ticket) -> bool:
    """Link tickets (related, duplicate of, parent / child): everyone who works the ticket."""
    return can_work(user, ticket)


def can_decide_approval(user, ticket) -> bool:
    """Approve or reject: only the ticket's approver, and only while it is on approval."""
    return user.is_authenticated and ticket.approver_id == user.pk and ticket.status == Status.ON_APPROVAL


def _visible(user, ticket) -> bool:
    """Whether ``user`` sees ``ticket``: no query for those who see everything, nor for a ticket a page
    loaded through ``visible_to(user)`` (``mark_visible``); a page asks this several times (its panels)."""
    if getattr(ticket, "_opsdesk_visible_to", None) == user.pk and user.pk is not None:
        return True
    from tickets import visibility  # it builds its rule from this module's roles

    return visibility.sees(user, ticket)


def mark_visible(ticket, user):
    """Record that ``user`` was found to see ``ticket`` (``visibility.sees`` or a read through
    ``Ticket.objects.visible_to(user)``), for this request."""
    ticket._opsdesk_visible_to = user.pk
    return ticket


def role_required(view):
    """A view for OpsDesk staff: logged in (else the login page) and holding a role (else 403)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not roles_of(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
