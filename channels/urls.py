from django.urls import path

from channels import views

app_name = "channels"

urlpatterns = [
    path("messages/<int:pk>/retry/", views.retry, name="retry"),
    path("tickets/<int:pk>/survey/retry/", views.retry_survey, name="retry_survey"),
    path("tickets/<int:pk>/logged-call/", views.log_call, name="log_call"),
]
