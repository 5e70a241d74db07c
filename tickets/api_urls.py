from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("intake/v1/messages", api.intake_message, name="intake_message"),
]
