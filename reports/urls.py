from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("discipline/", views.discipline, name="discipline"),
    path("discipline/export.csv", views.discipline_export, {"fmt": "csv"}, name="discipline_csv"),
    path("discipline/export.xlsx", views.discipline_export, {"fmt": "xlsx"}, name="discipline_xlsx"),
    path("discipline/completed/", views.completed, name="completed"),
    path("discipline/deferrals/", views.deferral_list, name="deferrals"),
]
