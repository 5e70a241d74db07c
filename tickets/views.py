from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def home(request):
    return HttpResponse("OpsDesk")


def set_language(request):
    return HttpResponse("")


@login_required
def ticket_list(request):
    return HttpResponse("")
