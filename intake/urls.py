from django.urls import path

from intake import api

app_name = "api"
urlpatterns = [
    path("intake/v1/messages", api.intake_message, name="intake_message"),
]
