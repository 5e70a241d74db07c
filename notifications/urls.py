from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("settings/", views.notification_settings, name="settings"),
    path("badges/", views.header_badges, name="header_badges"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
]
