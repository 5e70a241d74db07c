from django.urls import path

from portal import survey_views

app_name = "survey"
urlpatterns = [
    path("<str:token>/", survey_views.answer, name="answer"),
]
