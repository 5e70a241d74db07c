"""Every portal page, for every role, has unique ids and labels that point at their own field (issue 19,
"careful user" point 1: the internal-note label used to focus the customer-reply box), and is valid HTML
for the Nu checker (issue 19, measured goals: 0 errors except htmx's ``hx-*`` attributes).

The demo data (``seed_demo``) gives every kind of page something to show; a crawler follows the portal's
own links from the start pages, a few pages of each shape, as each demo role.
"""

from __future__ import annotations

import re
from collections import Counter
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from escalations import cases
from tests.portal import vnu
from tests.portal.html_checks import id_problems
from tickets.models import Ticket

ROLES = ["admin", "dispatcher", "manager", "lead", "aigerim", "dana"]
SKIP = ("/admin/", "/api/", "/static/", "/logout/", "/language/")
PER_SHAPE = 2  # pages of each URL shape (digits replaced) per role
MAX_PAGES = 120


def start_pages() -> list[str]:
    return [
        reverse("tickets:my_work"), reverse("tickets:list"), reverse("tickets:intake"), reverse("tickets:create"),
        reverse("tickets:create_internal"), f"{reverse('search')}?q=заказ",
        reverse("tickets:queue_monitor"), reverse("deferrals:inbox"), reverse("deferrals:team"),
        reverse("notifications:inbox"), reverse("notifications:settings"), reverse("cases:list"),
        reverse("cases:create"), reverse("cases:report"), reverse("reports:index"), reverse("reports:dashboard"),
        reverse("reports:discipline"), reverse("reports:completed"), reverse("reports:deferrals"),
        *(reverse(f"reports:{name}") for name in
          ("sla", "delays", "workload", "repetitive", "calibration", "staffing")),
    ]


def shape(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def crawl(client) -> dict[str, str]:
    """GET the start pages and every portal link they lead to (a few of each shape): {url: html} of the 200s."""
    pages: dict[str, str] = {}
    seen_shapes: Counter = Counter()
    queue = list(start_pages())
    visited = set()
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        if seen_shapes[shape(url)] >= PER_SHAPE:
            continue
        seen_shapes[shape(url)] += 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[url] = html
        for href in re.findall(r'<a [^>]*href="([^"#]+)', html):
            href = href.replace("&amp;", "&")
            if href.startswith("/") and not href.startswith(SKIP) and not href.endswith((".csv", ".xlsx")):
                queue.append(href)
    return pages


@pytest.fixture
def demo(db):
    """The demo data, plus two escalation cases (the demo has none): one open, one with its resolution announced."""
    call_command("seed_demo", tickets=40, seed=7, force=True, stdout=StringIO())
    users = {user.username: user for user in get_user_model().objects.all()}
    tickets = list(Ticket.objects.order_by("pk")[:4])
    cases.case_open(actor=users["manager"], owner=users["lead"], title="Payment gateway outage", severity="sev1",
                    triggering_criteria="Three customers down", tickets=tickets[:2],
                    customers=[tickets[0].customer], members=[users["aigerim"]])
    resolved = cases.case_open(actor=users["manager"], owner=users["manager"], title="Mail delays", severity="sev2",
                               tickets=tickets[2:], members=[users["dana"]])
    cases.case_announce_resolution(resolved, actor=users["manager"], summary="The relay is back.")


# One language per CI pass (.ci/run): English in the PostgreSQL pass, Russian in the SQLite pass.
@pytest.mark.parametrize(
    "language", [pytest.param("en", marks=pytest.mark.pg_pass), pytest.param("ru", marks=pytest.mark.once)]
)
def test_every_portal_page_has_unique_ids_and_working_label_targets_and_is_valid_html(
    client, demo, language, settings
):
    settings.DEBUG = False  # the branded 404 page, as in production
    problems = {}
    visited = 0
    checked = {}  # every page goes into one run of the Nu checker: Java starts slowly
    client.cookies.load({"django_language": language})
    checked["anonymous login"] = client.get(reverse("login")).content.decode()
    for username in ROLES:
        user = get_user_model().objects.get(username=username)
        user.profile.language = language
        user.profile.save(update_fields=["language"])
        client.force_login(user)
        pages = crawl(client)
        visited += len(pages)
        for url, html in pages.items():
            checked[f"{username} {url}"] = html
            if found := id_problems(html):
                problems[f"{username} {url}"] = found
        checked[f"{username} 404"] = client.get("/tickets/999999/").content.decode()
        if username == "dispatcher":  # a form shown again with its errors
            checked["dispatcher: new ticket with errors"] = client.post(reverse("tickets:create"), {}).content.decode()
        client.logout()
    assert visited > 100
    assert not problems, "\n".join(f"{page}: {', '.join(found)}" for page, found in problems.items())
    invalid = vnu.errors(checked)
    assert not invalid, "\n".join(f"{page}: {'; '.join(found)}" for page, found in invalid.items())


def test_the_note_label_focuses_the_note_box_not_the_customer_reply(client, engineer, ticket):
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    reply = re.search(r'<form[^>]*action="[^"]*/reply/"[^>]*>(.*?)</form>', html, re.S).group(1)
    note = re.search(r'<form[^>]*action="[^"]*/note/"[^>]*>(.*?)</form>', html, re.S).group(1)
    reply_target = re.search(r'<label for="([^"]+)"', reply).group(1)
    note_target = re.search(r'<label for="([^"]+)"', note).group(1)
    assert reply_target != note_target
    assert re.search(rf'<textarea[^>]*name="body"[^>]*id="{note_target}"', note)
    assert re.search(rf'<textarea[^>]*name="body"[^>]*id="{reply_target}"', reply)
    assert not id_problems(html)


def test_a_form_shown_again_with_errors_points_at_its_help_and_errors(client, dispatcher, queue):
    client.force_login(dispatcher)
    response = client.post(reverse("tickets:create"), {"title": "", "queue": queue.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "_error" in html
    assert not id_problems(html)
    html = response.content.decode()
    assert "_error" in html
    assert not id_problems(html)


def test_the_validator_reports_what_the_issue_found_and_lets_htmx_attributes_pass():
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
        '<p><time datetime="{}">now</time></p><ul role="alert"><li>x</li></ul>'
        '<div hx-get="/x" hx-trigger="every 45s">ok</div></body></html>'
    )
    found = vnu.errors(
        {"bad": page.format("2026-12-06T16:43:40.578634+00:00"), "good": page.format("2026-12-06T16:43:40+00:00")}
    )
    assert "fraction of a second" in " ".join(found["bad"])
    assert all("hx-" not in message for message in found["good"]), found["good"]
    assert any("role" in message for message in found["good"])
