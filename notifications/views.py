"""Notification pages: the inbox, opening a notification, marking read, the person's own settings.

Everybody sees only their own notifications: another person's id is a 404.
Delivery status for admins lives in the Django admin (Deliveries changelist).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.http import safe_next as _safe_next
from notifications import preferences, service
from notifications.forms import NotificationSettingsForm
from notifications.models import Delivery, Notification
from tickets.access import role_required

PAGE_SIZE = 25




def target_url(request, notification: Notification) -> str:
    """Where opening ``notification`` leads: its link, else its ticket, else the inbox."""
    inbox = reverse("notifications:inbox")
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return notification.url
    if notification.ticket_id:
        try:
            return reverse("tickets:detail", args=[notification.ticket_id])
        except NoReverseMatch:
            pass
    return inbox


@role_required
def inbox(request):
    notifications = service.inbox_for(request.user)
    only_unread = request.GET.get("show") == "unread"
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "escalations/inbox.html",
        {"page": page, "only_unread": only_unread, "unread_count": service.unread_count(request.user)},
    )


@role_required
@require_http_methods(["GET", "POST"])
def open_notification(request, pk: int):
    """Mark the notification read and go to its target.

    POST from the inbox; GET too, because links in emails and messenger
    messages are one click. Marking read is an idempotent read receipt.
    """
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    service.notification_mark_read(notification)
    return redirect(target_url(request, notification))


@role_required
@require_POST
def mark_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    service.notification_mark_read(notification)
    return redirect(_safe_next(request, reverse("notifications:inbox")))


@role_required
@require_POST
def mark_all_read(request):
    count = service.notifications_mark_all_read(request.user)
    if count:
        messages.success(request, _("All notifications are marked read."))
    return redirect(_safe_next(request, reverse("notifications:inbox")))


@role_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    prefs = preferences.settings_for(request.user)
    unreachable = preferences.unreachable_channels(request.user, prefs)  # as saved, before the form edits prefs
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, instance=prefs)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:settings")
    else:
        form = NotificationSettingsForm(instance=prefs)
    recent = (
        Delivery.objects.filter(recipient=request.user)
        .select_related("notification")
        .order_by("-created_at", "-id")[:10]
    )
    return render(
        request,
        "escalations/settings.html",
        {
            "form": form,
            "unreachable": unreachable,
            "recent_deliveries": recent,
            "has_calendar": preferences.working_calendar_for(request.user) is not None,
        },
    )


@require_http_methods(["GET"])
def header_badges(request):
    """The header's approvals and inbox badges, for the htmx refresh every 60 s (templates/base.html).

    A small constant number of queries whatever the inbox holds (the two counts, plus the session and the user).
    Anonymous visitors (a session that expired while the page stayed open) get 204 and no body: htmx then
    leaves the header as it is instead of swapping in a login page or following a redirect loop.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(request, "escalations/_header_badges.html")
    response["Cache-Control"] = "no-store"
    return response
