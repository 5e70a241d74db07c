"""Small helpers views share."""

from __future__ import annotations

from django.contrib import messages
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The ``next`` parameter if it points back into this site, else ``fallback`` (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")  # a path on this site: anything else would be taken for a URL name by redirect()
        and target.isprintable()
        and _encodable(target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot go into a Location header
        return False
    return True


def form_errors_to_messages(request, form) -> None:
    """Each error of ``form`` as an error message ("Field: error"), for views that redirect back."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
