from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("discipline/", views.discipline, name="discipline"),
    path("discipline/export.csv", views.discipline_export, {"fmt": "csv"}, name="discipline_csv"),
    path("discipline/export.xlsx", views.discipline_export, {"fmt": "xlsx"}, name="discipline_xlsx"),
    path("discipline/completed/", views.completed, name="completed"),
    path("discipline/deferrals/", views.deferral_list, name="deferrals"),
]

# The manager dashboard and the reports (issue 7).
urlpatterns += [
    path("", views.index, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("sla/", views.sla_report, name="sla"),
    path("delays/", views.delays_report, name="delays"),
    path("workload/", views.workload_report, name="workload"),
    path("repetitive/", views.repetitive_report, name="repetitive"),
    path("calibration/", views.calibration_report, name="calibration"),
    path("staffing/", views.staffing_report, name="staffing"),
]
