from django.urls import path

from portal import bulk_views, canned_views, customer_views, merge_views, views
from routing import views as routing_views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("my/", views.my_work, name="my_work"),
    path("intake/", views.intake, name="intake"),
    path("new/", views.ticket_create, name="create"),
    path("new/customers/", views.customer_search, name="customer_search"),
    path("new/internal/", views.internal_task_create, name="create_internal"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("<int:pk>/note/", views.ticket_note, name="note"),
    path("<int:pk>/status/", views.ticket_status, name="status"),
    path("<int:pk>/approval/", views.ticket_approval, name="approval"),
    path("<int:pk>/next-step/", views.ticket_next_step, name="next_step"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/unassign/", views.ticket_unassign, name="unassign"),
    path("<int:pk>/triage/", views.ticket_triage, name="triage"),
    # Bulk actions and canned replies (portal.bulk_views, portal.canned_views)
    path("bulk/", bulk_views.bulk_apply, name="bulk"),
    path("bulk/<int:pk>/", bulk_views.bulk_job, name="bulk_job"),
    path("canned/", canned_views.canned_list, name="canned_list"),
    path("canned/new/", canned_views.canned_edit, name="canned_create"),
    path("canned/<int:pk>/", canned_views.canned_edit, name="canned_edit"),
    path("canned/<int:pk>/delete/", canned_views.canned_delete, name="canned_delete"),
    path("<int:pk>/merge/", merge_views.ticket_merge, name="merge"),
    path("<int:pk>/links/", merge_views.ticket_link, name="link"),
    path("<int:pk>/links/remove/", merge_views.ticket_unlink, name="unlink"),
    path("customers/<int:pk>/", customer_views.customer_page, name="customer"),
    # Queues and routing (routing.views)
    path("queues/", routing_views.monitor, name="queue_monitor"),
    path("queues/<int:queue_pk>/take-next/", routing_views.take_next, name="take_next"),
    path("<int:pk>/skip/", routing_views.skip, name="skip"),
]
