"""Context shared by every portal page."""

from tickets import access


def portal(request):
    user = getattr(request, "user", None)
    roles = access.roles_of(user) if user is not None and user.is_authenticated else frozenset()
    return {
        # django-htmx's {% htmx_script %} reads csp_nonce; django-csp provides CSP_NONCE.
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "user_roles": roles,
        # Dispatchers, managers and admins: queues, dashboard, reports, cases.
        "is_lead": bool(roles & {access.DISPATCHER, access.MANAGER, access.ADMIN}),
    }
