"""``core.csp.CSPMiddleware``: django-csp's headers, the policy of an ordinary response built once."""

from __future__ import annotations

import re

import pytest
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from core import csp

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path="/api/intake/v1/messages", prepare=None, status=200, nonce=False):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda r: None)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)
    response = JsonResponse({"ok": True}, status=status)
    if prepare:
        prepare(response)
    response = middleware.process_response(request, response)
    # Each request's nonce is its own: compared as a placeholder, that it is there.
    return {name: re.sub(r"'nonce-[^']+'", "'nonce-N'", response.get(name) or "") for name in HEADERS}


def _exempt(response):
    response._csp_exempt = True


def _preset(response):
    response["Content-Security-Policy"] = "default-src 'none'"


def _updated(response):
    response._csp_update = {"img-src": ["https://example.kz"]}


CASES = [
    {},
    {"prepare": _exempt},
    {"prepare": _preset},
    {"prepare": _updated},
    {"nonce": True},
    {"status": 404},
    {"path": "/static/app.css"},
]


@pytest.mark.parametrize("case", CASES)
def test_the_headers_are_django_csps(case):
    ours = _headers(csp.CSPMiddleware, **case)
    assert ours == _headers(DjangoCSPMiddleware, **case)
    assert ("'nonce-N'" in ours["Content-Security-Policy"]) == bool(case.get("nonce"))


@pytest.mark.parametrize("case", CASES)
def test_with_a_report_only_policy_and_an_excluded_prefix_too(case):
    with override_settings(
        CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'none'"]}},
        CONTENT_SECURITY_POLICY={
            "EXCLUDE_URL_PREFIXES": ["/static/"],
            "DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", "'nonce'"]},
        },
    ):
        ours, theirs = _headers(csp.CSPMiddleware, **case), _headers(DjangoCSPMiddleware, **case)
    assert ours == theirs


def test_an_ordinary_response_has_the_policy_built_once_until_the_settings_change(monkeypatch):
    built = []
    real = csp.build_policy
    monkeypatch.setattr(csp, "build_policy", lambda **kw: built.append(kw) or real(**kw))
    csp._built.clear()
    first = [_headers(csp.CSPMiddleware) for _ in range(5)]
    assert len(built) == 2 and first[0]["Content-Security-Policy"] and len({str(h) for h in first}) == 1
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        assert _headers(csp.CSPMiddleware)["Content-Security-Policy"] == "default-src 'none'"
    assert _headers(csp.CSPMiddleware) == first[0]


def test_a_nonce_asked_for_after_the_headers_is_refused_as_django_csp_refuses_it():
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    middleware = csp.CSPMiddleware(lambda r: None)
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse("ok"))
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_the_project_uses_it():
    from django.conf import settings

    assert "core.csp.CSPMiddleware" in settings.MIDDLEWARE and "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE
