from django.urls import path

from deferrals import views

app_name = "deferrals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("team/", views.team, name="team"),
    path("ticket/<int:pk>/request/", views.request_deferral, name="request"),
    path("<int:pk>/", views.decide, name="decide"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/cause/", views.provide_cause, name="cause"),
    path("<int:pk>/distance/", views.distance, name="distance"),
]
