from django.urls import path

from portal import attachment_views

app_name = "attachments"
urlpatterns = [
    path("<int:pk>/", attachment_views.download, name="download"),
    path("s/<str:token>/", attachment_views.signed, name="signed"),
]
