"""The portal's URLs plus one view that fails, to see the 500 page through the whole stack."""

from django.urls import path

from opsdesk.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), *portal_urlpatterns]
