from django.urls import path

from escalations import case_views as views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("report/", views.case_report, name="report"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/update/", views.post_update, name="update"),
    path("<int:pk>/members/add/", views.add_member, name="add_member"),
    path("<int:pk>/members/remove/", views.remove_member, name="remove_member"),
    path("<int:pk>/tasks/add/", views.add_task, name="add_task"),
    path("<int:pk>/tickets/add/", views.add_ticket, name="add_ticket"),
    path("<int:pk>/customers/add/", views.add_customer, name="add_customer"),
    path("<int:pk>/services/add/", views.add_service, name="add_service"),
    path("<int:pk>/escalate/", views.escalate, name="escalate"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/rca/", views.write_rca, name="rca"),
    path("<int:pk>/rca/approve/", views.approve_rca, name="approve_rca"),
    path("<int:pk>/close/", views.close, name="close"),
]
