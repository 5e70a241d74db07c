"""Who may open what on the read side: the dashboard and reports, and the discipline report.

Which *tickets* a figure counts is the viewer's visibility (``tickets.visibility``), not decided here.
"""

from __future__ import annotations

from tickets import access


def can_view_dashboard(user) -> bool:
    """Dispatchers, managers and admins see the dashboard and the reports; engineers do not."""
    return bool(
        user and user.is_authenticated
        and (user.is_superuser or access.roles_of(user) & {access.DISPATCHER, access.MANAGER, access.ADMIN})
    )


def can_view_discipline(user) -> bool:
    """The deferral discipline report (it feeds pay): managers for their team, admins for everyone."""
    return bool(user and user.is_authenticated and (
        user.is_superuser or access.roles_of(user) & {access.MANAGER, access.ADMIN}
    ))


def sees_all_teams(user) -> bool:
    """Admins choose any team in the discipline report; a manager sees their direct team."""
    return access.is_admin(user)
