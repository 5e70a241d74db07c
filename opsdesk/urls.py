from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views as ticket_views

urlpatterns = [
    path("", ticket_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", ticket_views.set_language, name="set_language"),
    path("tickets/", include("portal.urls")),
    path("notifications/", include("notifications.urls")),
    path("escalations/", include("escalations.manual_urls")),
    path("cases/", include("escalations.case_urls")),
    path("deferrals/", include("deferrals.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("intake.urls")),
    path("admin/", admin.site.urls),
]
