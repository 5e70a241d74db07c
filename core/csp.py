"""django-csp's middleware with the policy of an ordinary response built once instead of for every response.

django-csp 4.0 builds both policies (enforced and report-only) from the settings for each response, exempt ones
included: about a twentieth of an intake API request's CPU. A response whose view changed nothing about the policy
(no ``csp_update``/``csp_replace``/config decorator) and whose request never asked for a nonce gets the same
headers every time, so they are built once per process (again when a ``CONTENT_SECURITY_POLICY*`` setting changes)
and set under django-csp's own rules: not over a header already set, not on an exempt response, not under an
excluded URL prefix, not on a debug error page. Any other response is django-csp's.
"""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view's decorators set on its response to change the policy (``csp.middleware.get_policy_parts``).
_CHANGES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_POLICIES = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
)
_built: dict[str, tuple[str, tuple[str, ...]]] = {}  # setting -> (policy, excluded URL prefixes)


def _policy(setting: str, report_only: bool) -> tuple[str, tuple[str, ...]]:
    built = _built.get(setting)
    if built is None:
        prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
        built = _built[setting] = (build_policy(report_only=report_only), prefixes)
    return built


@receiver(setting_changed)
def _forget(setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _CHANGES
        ):
            return super().process_response(request, response)
        debug_page = response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
        if debug_page and settings.DEBUG:
            return response
        for header, setting, exempt, report_only in _POLICIES:
            policy, prefixes = _policy(setting, report_only)
            if (
                policy
                and header not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
