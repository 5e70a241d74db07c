"""No input gives a 500 (issue 19, measured goals: 0 responses ≥ 500 for any input).

Hostile values (huge, negative, overflowing, NUL, lone surrogates, the calendar's ends, SQL and script
strings, wrong types, repeated keys) go into every URL parameter, every form field and every id in the path of
the pages the portal links to, on GET and POST, as each demo role and anonymously; then into every field of the
intake API, with Hypothesis adding arbitrary JSON. A response may refuse (4xx), show the form again with its
errors (200) or redirect; it may never be a server error.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import vip
from tests.factories import QueueFactory
from tests.portal.test_unique_ids import crawl
from tests.tickets.intake_helpers import make_gateway, message, send

pytestmark = pytest.mark.django_db

HOSTILE = [
    "x" * 70_000,
    "-1",
    "-99999999999999999999",
    "99999999999999999999999",
    "a\x00b",
    "x\ud800",
    "9999-12-31",
    "0001-01-01T00:00",
    "' OR 1=1 --",
    '<script>alert(1)</script>"',
    "NaN",
    "1e309",
    "[]",
    "",
]
# The dispatcher (the most forms) gets every value; the other roles these, to keep the suite fast.
CORE = ["x" * 70_000, "-99999999999999999999", "a\x00b\ud800", "9999-12-31"]
NEVER_POST = ("/logout/", "/language/", "/login/")  # they end the session or only set a cookie
ROLES = ["admin", "dispatcher", "manager", "lead", "aigerim", None]


class _Forms(HTMLParser):
    """Every form of a page: (method, action, [field names])."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action") or "", []))
        elif (
            tag in ("input", "select", "textarea")
            and self.forms
            and attrs.get("name")
            and attrs.get("type") not in ("submit", "file")
            and attrs["name"] != "csrfmiddlewaretoken"
        ):
            self.forms[-1][2].append(attrs["name"])


def forms(html: str, page_url: str) -> list[tuple[str, str, list[str]]]:
    reader = _Forms()
    reader.feed(html)
    path = urlsplit(page_url).path
    return [(method, (action or path).replace("&amp;", "&"), names) for method, action, names in reader.forms]


def encode(pairs) -> str:
    """A query string or form body; lone surrogates go out as the bytes a broken client would send."""
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs)


def shape(url: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(url).path)


def targets(client) -> tuple[dict[str, list[str]], dict[str, tuple[str, list[str]]]]:
    """GET URLs by shape with the parameter names they take; POST actions by shape with their fields."""
    gets: dict[str, tuple[str, set]] = {}
    posts: dict[str, tuple[str, list[str]]] = {}
    for url, html in crawl(client).items():
        path_shape = shape(url)
        _path, names = gets.setdefault(path_shape, (urlsplit(url).path, set()))
        names.update(key for key, _value in parse_qsl(urlsplit(url).query, keep_blank_values=True))
        for method, action, fields in forms(html, url):
            if method == "get":
                gets.setdefault(shape(action), (urlsplit(action).path, set()))[1].update(fields)
            elif not action.startswith(NEVER_POST) and shape(action) not in posts:
                posts[shape(action)] = (action, fields)
    return {path: sorted(names) for path, names in gets.values()}, posts


def hit(client, method, url, body=None) -> str | None:
    """None, or what went wrong: a status ≥ 500 or the exception a view raised."""
    try:
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    except Exception as error:  # the point is to report any of them
        return f"{type(error).__name__}: {str(error)[:200]}"
    return f"status {response.status_code}" if response.status_code >= 500 else None


@pytest.fixture
def seeded(db):
    call_command("seed_demo", tickets=15, seed=11, force=True, stdout=StringIO())


# PostgreSQL (its own refusals, e.g. NUL in text) is proven through the dispatcher, who has the most forms.
@pytest.mark.parametrize(
    "username",
    [role if role in ("dispatcher", None) else pytest.param(role, marks=pytest.mark.once) for role in ROLES],
    ids=[role or "anonymous" for role in ROLES],
)
def test_no_hostile_parameter_field_or_id_gives_a_server_error(seeded, username):
    crawler = Client()
    if username:
        crawler.force_login(get_user_model().objects.get(username=username))
        gets, posts = targets(crawler)
    else:  # anonymous: what the dispatcher's pages link to and post to
        crawler.force_login(get_user_model().objects.get(username="dispatcher"))
        gets, posts = targets(crawler)
        crawler.logout()
    assert len(gets) > 3
    failures = []
    for value in HOSTILE if username == "dispatcher" else CORE:
        client = Client()
        if username:
            client.force_login(get_user_model().objects.get(username=username))
        for path, names in gets.items():
            query = encode([(name, value) for name in names] + [(names[0], "2")] if names else [("q", value)])
            if problem := hit(client, "get", f"{path}?{query}"):
                failures.append(f"GET {path} {names} = {value[:30]!r}: {problem}")
        for action, fields in posts.values():
            if problem := hit(client, "post", action, encode([(name, value) for name in fields])):
                failures.append(f"POST {action} {fields} = {value[:30]!r}: {problem}")
    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    for path in {*gets, *(action for action, _fields in posts.values())}:
        for number in ("99999999999999999999", "0"):
            strange = re.sub(r"/\d+/", f"/{number}/", path)
            if strange != path and (problem := hit(client, "get", strange)):
                failures.append(f"GET {strange}: {problem}")
    assert not failures, "\n".join(failures)


# --- The intake API ---------------------------------------------------------------------------------------------


@pytest.fixture
def gateway(db):
    return make_gateway("Fuzz mail", QueueFactory(name="Service", slug="fuzz-service"))


FIELDS = ["message_id", "subject", "body", "ticket", "type", "customer", "related", "attachments", "channel"]
WRONG = [*HOSTILE, 10**30, -1, 1.5, True, None, [], ["x"], {}, {"x": "\ud800"}, [[[[[]]]]]]


@pytest.mark.parametrize("field", FIELDS)
def test_no_hostile_value_in_any_intake_field_gives_a_server_error(client, gateway, field):
    failures = []
    for value in WRONG:
        payload = message(**{field: value})
        body = json.dumps(payload).encode()  # json.dumps escapes a lone surrogate as \\ud800, as a gateway may
        response = send(client, gateway.token, body)
        if response.status_code >= 500:
            failures.append(f"{field} = {value!r:.40}: {response.status_code}")
    base = {"customer": message()["customer"], "related": {"kind": "order", "ref": "A-1001"}}
    nested = {"customer": ["name", "email", "phone", "telegram", "whatsapp", "language"], "related": ["kind", "ref"]}
    for key, names in nested.items():
        for name, value in ((name, value) for name in names for value in WRONG):
            payload = message(**{key: {**base[key], name: value}})
            response = send(client, gateway.token, json.dumps(payload).encode())
            if response.status_code >= 500:
                failures.append(f"{key}.{name} = {value!r:.40}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null", b"{" * 5000 + b"}" * 5000, b'{"a": NaN}'],
)
def test_a_body_that_is_not_a_message_object_is_refused(client, gateway, body):
    assert 400 <= send(client, gateway.token, body).status_code < 500


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=4))
def test_arbitrary_json_in_the_intake_fields_never_gives_a_server_error(client, gateway, changes):
    response = send(client, gateway.token, json.dumps(message(**changes)).encode())
    assert response.status_code < 500, (changes, response.content[:300])


@pytest.mark.parametrize("sent_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"])
def test_an_intake_message_sent_outside_the_date_range_is_refused_with_the_field_named(client, gateway, sent_at):
    response = send(client, gateway.token, message(sent_at=sent_at))
    assert response.status_code == 422
    assert "sent_at" in response.json()["error"]["fields"]


def test_a_turnover_csv_with_an_impossible_id_or_date_lists_its_errors(db):
    result = vip.parse_turnover_csv(
        "customer,date,amount,reference\n99999999999999999999,2025-03-31,10,r1\nx@y.example,9999-12-31,10,r2\n"
    )
    assert not result.rows
    assert any("unknown customer" in error for error in result.errors)
    assert any("between" in error for error in result.errors)


@pytest.mark.parametrize("target", ["-1", "tickets:list", "//evil.example/", "/x\x00y", "https://evil.example/"])
def test_a_next_that_is_not_a_path_on_this_site_falls_back_instead_of_failing(client, dispatcher, ticket, target):
    client.force_login(dispatcher)
    response = client.post(f"/tickets/{ticket.pk}/assign/", {"performer": "", "next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
