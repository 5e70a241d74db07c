from django.urls import path

from escalations import manual_views

app_name = "escalations"
urlpatterns = [
    path("tickets/<int:pk>/functional/", manual_views.escalate_functional, name="functional"),
    path("tickets/<int:pk>/hierarchical/", manual_views.escalate_hierarchical, name="hierarchical"),
]
