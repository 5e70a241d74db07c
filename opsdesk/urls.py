from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.urls import include, path, reverse

from portal import search_views
from portal import views as ticket_views

# Models that moved to another app keep their rows but their admin pages follow the app label
# (docs/operations.md, "After upgrading"): old admin links redirect to the new place.
MOVED_ADMIN_PAGES: dict[tuple[str, str], str] = {
    **{("tickets", model): "deferrals" for model in ("deferralcause", "deferralrequest")},
    **{("tickets", model): "routing" for model in (
        "skill", "agentskill", "ticketskip", "classificationrule", "customerturnover", "viprule", "customertierchange",
    )},
    **{("escalations", model): "notifications" for model in (
        "notification", "digest", "delivery", "webhookendpoint", "notificationsettings",
    )},
}


def moved_admin_page(request, rest="", *, app_label, model):
    url = f"{reverse('admin:index')}{MOVED_ADMIN_PAGES[app_label, model]}/{model}/{rest}"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


urlpatterns = [
    path("", ticket_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", ticket_views.set_language, name="set_language"),
    path("search/", search_views.search, name="search"),
    path("tickets/", include("portal.urls")),
    path("notifications/", include("notifications.urls")),
    path("escalations/", include("escalations.manual_urls")),
    path("cases/", include("escalations.case_urls")),
    path("deferrals/", include("deferrals.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("intake.urls")),
    path("attachments/", include("portal.attachment_urls")),
    path("survey/", include("portal.survey_urls")),
    path("channels/", include("channels.urls")),
    *[
        path(f"admin/{app_label}/{model}/{suffix}", moved_admin_page, {"app_label": app_label, "model": model})
        for app_label, model in MOVED_ADMIN_PAGES
        for suffix in ("", "<path:rest>")
    ],
    path("admin/", admin.site.urls),
]
