"""Benchmark of the agent pages: ticket list, My work, intake board and ticket page at scale.

Two modes, both on generated data (``INSERT … SELECT`` over a number series, no ORM per row):

- **latency** (default): a scratch database is migrated and filled with N tickets (SQLite: a
  temporary file; PostgreSQL with ``--postgres URL``: the database of that URL is dropped and created
  again, so give it a database of your own). Each page is then requested ``--rounds`` times through
  the Django test client as an admin (sees everything) and as an engineer who sees one queue of ten
  (about a tenth of the tickets; the intake board as that queue's dispatcher, engineers may not open
  it); the p95 and median server time and the number of queries are recorded. One ticket in twenty is
  open and one in a hundred new and unassigned, spread evenly over the ten queues, so that queue's
  engineer and dispatcher see a tenth of the open and of the waiting tickets too.
- **throughput** (``--throughput 10000 100000``): for each size, two SQLite files are migrated and
  seeded, one by this code and one by the previous main (``git worktree add --detach`` of
  ``--baseline``, default 36c68fb, each with its own migrations); each is served by gunicorn with two
  workers on loopback and four concurrent clients request each page for ``--seconds`` seconds as the
  admin. Requests per second are reported side by side.

Results are merged into ``bench/results.json`` under the key ``"pages"``.
Full run: ``python bench/bench_pages.py --tickets 100000 --postgres postgres://postgres@127.0.0.1:5432/wt_pages
--pg-tickets 1000000 --throughput 10000 100000``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
BASELINE = "36c68fb"
SECRET = "bench-pages-" + "s" * 60  # a throwaway key for the scratch databases

DESCRIPTION = """
The ticket list, My work and the intake board are django-tables2 tables over django-filter
querysets; the ticket page is one template with its panels. Profiled first (cProfile and
`connection.queries` through the test client at 10,000 tickets, previous main): the list page spent
most of its time in the cells (the SLA column was a `TemplateColumn` running the `{% sla_badges %}`
inclusion tag per row, and the row template asked every cell for its column's attributes and
translated header), then in sorting every visible ticket by `updated_at` without an index (70 ms
of SQL at 10,000 tickets, growing with the table), then in the filter form. What changed:

- **Cells without template round trips.** Every column renders in Python (`render_FOO` returning
  `format_html`); the SLA badges are built by `sla_tags.badges_html` (the same markup as the former
  `sla/_clock_badges.html`) from the clocks prefetched for the page, with one "now" per table; the
  intake board's inline assign form is one `format_html` per row, its agents' `<option>`s built once
  per queue. The table template takes each column's `<td>` attributes and `data-label` header from a
  list computed once per table (`table_row` filter), not per cell.
- **A number of queries independent of the data and the page size.** Customer, VIP tier, queue,
  type, blocking reason and performer come by `select_related`, the SLA clocks of the page by one
  prefetch, the escalation's urgent mark by an annotation, the intake's agents by one prefetch.
  `tests/portal/test_page_query_counts.py` renders each page with 3 and with 30 tickets (the ticket
  page with 3 and 30 messages) and asserts the same count.
- **A capped count.** Pagination needs to know whether there is a next page, not the exact size of
  a visible set of a million rows: `SELECT COUNT(*) FROM (… LIMIT 1001)`; beyond 1,000 the pages say
  "1000+" and "more than 1000 tickets".
- **An index for the default order.** The ticket list sorts by `-updated_at`: the index
  `ticket_updated` lets the database read the first page off the index and stop, for an admin and
  for an engineer whose visibility rule (`queue IN (their queues) OR performer = them OR …`) is then
  a filter on the index walk. My work sorts by the deadline (`ticket_deadline`) over the engineer's
  own open tickets (`ticket_performer_status`, `ticket_owner_status`).
- **One pass per row, not per cell.** The table template prints each row's `<td>`s from one filter
  (`table_row`) that resolves, once per table, how every column draws its cell (the attribute, the
  column's default for an empty value, the `render_FOO` with the arguments it declares); django-tables2's
  own per-cell path walked the accessor, probed `get_FOO_display` and ran `inspect.signature` for each of
  the 300 cells of a page (the list's table: 75 → 35 ms of CPU at 100,000 tickets under load).
- **Form widgets in Python.** Django draws each widget through its templates, a `<select>` with one
  template render per `<option>`; the filter form of the list (29 fields, people, organisations) and the
  ticket page's forms paid for it on every view. `core.form_renderer.FastRenderer` (`FORM_RENDERER`)
  builds the same markup in Python for inputs, text areas and selects (other widgets, or overridden
  templates, still go through the templates); `tests/portal/test_form_renderer.py` compares both
  renderings (the list's filter form: 28 → 15 ms).
- **The bulk bar.** Every list page of a lead carries the bulk bar (added after 36c68fb): people twice,
  reasons, queues, statuses and priorities were `<option>` loops in the template and the people model
  instances; they are now built once per request from plain rows. This bar was most of what My work (an
  empty table for the admin) lost against the previous main in throughput.
- **Keys only for the capped count.** `COUNT(*)` over `LIMIT 1001` selected the whole row with its joins and
  annotations; on the intake board that meant the queue order's "next SLA due" subquery for every waiting
  ticket just to count them (57 → 3 ms at 100,000 tickets). It now counts `SELECT id … LIMIT 1001`.
- **The ticket page asks visibility once.** The page reads its ticket through `visible_to(user)` and marks
  it (`access.mark_visible`); `can_work`, `can_assign`, the deferral and escalation panels no longer ask the
  database again (36 → 33 queries for an engineer, 38 → 35 for an admin in the tests). The links panel
  tested `target IN (every ticket the viewer sees)`, a list of the whole visible set (180–250 ms for an
  engineer at 100,000 tickets); it now tests the other end of each link by its key (`EXISTS`, 1–4 ms).
- **Garbage collection.** A full collection walked every object of the process (modules, models,
  templates) every few hundred requests, a pause of tens of milliseconds in one request: the gap between
  the median and the p95. `opsdesk.apps` freezes the objects alive at start-up and after the first request
  (`gc.freeze()`), so collections walk only what requests create.
- **Per-request and per-process constants.** Roles are read once per request (`access.roles_of`
  caches them on the user); templates are compiled once per process: Django's cached template
  loader is on in `opsdesk/settings.py` and in the test settings (the `loaders` option is left
  unset, so Django wraps the loaders in the cached one; a test pins it).
- **The intake board's "next SLA due".** The queue order sorts every waiting ticket by its earliest running
  SLA clock, a subquery per ticket; the index `sla_clock_ticket_running_due` (`ticket, due_at, kind` over
  running clocks) answers each from the index in due order (the board's SQL at 100,000 tickets: 18 → 10 ms).
- **The ticket page's panels read what the page loaded.** The escalation panel takes the urgent mark from the
  ticket's annotation and the next escalation from its prefetched clocks; the deferral panel reads the pending
  request and the last decision in one query of two rows; the triage form reads its queues once (a required
  `<select>` without an empty choice read them twice). 31 → 27 queries as admin, 28 → 25 as engineer.
- **Each table joins what its rows draw, no more.** The list, My work and the intake board each name their
  own `select_related` (`portal.selectors`: no owner and owner profile anywhere, no type on the list, no queue or
  performer on My work); the ticket page's "other tickets" panel no longer joins the performer. PostgreSQL spent
  10-25 ms *planning* the eleven-table list query that then ran in about 1 ms; with eight tables or fewer the
  planner's exhaustive search stays small (My work 0.5 ms, the intake 1 ms at 100,000 tickets). The escalation's
  urgent mark is a per-row subquery instead of a join: the join stayed in the count and key queries, and SQLite
  does not combine two indexes for an `OR` when the query joins another table.
- **My work and a dispatcher's board without the visibility rule.** The tickets one performs or owns are always
  visible to that person, and so are the tickets of the queues a dispatcher dispatches (`tickets.visibility`), so
  My work filters on `performer OR owner` alone and a dispatcher's intake board on their queues alone: the
  database reads the person's open tickets off the `(performer, status)` and `(owner, status)` indexes instead of
  testing queue memberships and observers on every candidate.
- **Keys first, then the rows of the page.** My work (by deadline) and the intake board (the queue order: VIP tier,
  earliest running SLA clock, priority, age, computed per ticket) sort every candidate: the database joined each of
  them to customer, queue, type… before sorting. `tickets.tables.KeysFirstPaginator` makes the page one query whose
  inner part sorts the keys (`ORDER BY … LIMIT 25 OFFSET …`) and whose outer part joins those 25 rows only; same
  rows, same order, same number of queries (intake page query on PostgreSQL at 100,000 tickets: ~12 ms planning +
  ~16 ms execution → 1-2 ms + 2-3 ms). On PostgreSQL the intake's candidates come off the partial index
  `ticket_waiting` (tickets 0023: the open tickets nobody performs or still new, with the columns they are tested
  and sorted on) by an index-only scan, not one heap page per waiting ticket; SQLite does not match a partial
  index against bound parameters. On SQLite the queue order reads the VIP tier per ticket: joined, SQLite's
  planner walked every customer and then its tickets.
- **Cells.** `core.formatting.format_dt` builds "6 Dec, 20:54" directly (the output of `date_format` with that
  format, checked in both languages) instead of parsing the format and probing the locale's format modules per
  call; ticket URLs are reversed once per table; clock labels are translated once per language.
- **A stored "next SLA due".** The queue order's "time left to the SLA breach" is `Ticket.sla_next_due`, the earliest
  due instant of the ticket's running SLA clocks, written by the SLA alone (`sla.clocks.store_next_due`: every clock
  save, new clocks, the backfill, a calendar's re-projection; a full ticket save leaves it alone) and carried by the
  intake's index `ticket_waiting`: the admin's board sorted 10,000 waiting tickets at 1,000,000 with one subquery
  each (about 46 ms of a 55 ms query on a loaded machine); it now sorts the index's rows (6 ms).
- **The keys-first page joins by key alone.** The outer part of `KeysFirstPaginator`'s query repeated the filters; on
  the intake board PostgreSQL then expected one row of the 25 and joined each to every customer in a nested loop
  (12 ms). It now tests `pk IN (keys)` only.
- **My work on PostgreSQL.** By deadline over one person's open tickets, PostgreSQL walked the index of every ticket's
  deadline past the closed ones (20,000 rows for 25 at 1,000,000 tickets, 19 ms); the partial index
  `ticket_open_deadline` (open tickets only) gives the page in under 1 ms.
- **The unbound filter form is drawn once.** A list without filters in its URL shows the same filter fields to
  everyone in a language while the choices stay the same: `portal.filters` draws them once and reuses the HTML while
  the rows of the choice queries (queues, types, people, reasons, tiers, organisations; their SQL compiled once, run
  on every view) are those it was drawn from (the form: about 25 → 4 ms of CPU under load).
- **The ticket page's query plans in a third of the time.** Its ticket was read with 22 joined tables (owner,
  performer, approver, creator and requester with their profiles among them); PostgreSQL spent about 40 ms (loaded
  machine) planning the page's queries per view. The five people and the observers now come in one query of users
  (`portal.selectors._load_people`, which fills the same caches `select_related` and the observers' prefetch would),
  the deferral and manual-escalation panels join only what their rows need and read their people in one query when
  there are rows (`tickets.selectors.load_people`): planning 43 → 13 ms for the admin, 36 → 14 ms for the engineer
  (EXPLAIN ANALYZE of every query of the page, median of five), with one query fewer for the admin.
- **The ticket page's fields without an include each.** `{% form_field %}` (`tickets/templatetags/opsdesk.py`) draws
  a form field's label, widget, help and errors in Python, byte for byte what `tickets/_field.html` draws (a test
  renders both in both languages); the conversation prints a message's files in its own loop, not through a partial.
  The assign form reads its agents once, the SLA panel takes the first reply's sending delay from the conversation
  already loaded. About 12 % fewer Python calls and 20–25 % less CPU per view.
- **The ticket page's panels, again (2026-12-07, second round).** Measured per part of the view on PostgreSQL at
  1,000,000 tickets: the customer's other tickets sorted all of the customer's tickets (2,285 heap pages for the
  measured one) to show ten; the index `ticket_customer_open_first` (customer, the open-or-closed rank
  `tickets.models.closed_rank`, newest) gives them in order (8 → 0.2 ms; `tests/portal/test_customer_page.py`
  checks that PostgreSQL's plan uses it). The links panel compiled two `EXISTS` with the visibility rule for a
  ticket that, like most, has no link: the links are now read by a statement compiled once per process, and the
  rule is asked about the other ends by key only when there are some (3.4 → 0.2 ms of CPU). Django reads a model
  select's options through `QuerySet.iterator()`, a server-side cursor on PostgreSQL (`DECLARE`, `FETCH`, `CLOSE`:
  three round trips, four selects on the page); `core.forms.ModelChoiceField` reads them with one plain query. The
  visibility condition is built once per user object (the page asked three times). Together: median 54 → 48 ms,
  process CPU 43 → 38 ms for the engineer. Then what every page and the ticket page compiled on every view:
  the header's two badge counts (pending deferrals on one's desk, unread notices), the ticket page's panels (the
  latest firings and manual escalations, the deferral panel's requests, the SLA history, the escalation cases), its
  conversation and history, its clocks and those of the other open tickets (`sla.selectors.attach_clocks`) now run
  statements compiled once per process (`core.rowcache.Precompiled`); a select of people is drawn from the columns
  of their names (`core.forms.PersonChoiceField`); a person's permissions come in one query instead of two
  (`core.auth.ModelBackend`: one query fewer on every page for everyone but superusers). The engineer's ticket page
  went from 43 to 32-34 ms of process CPU, median 48 → 42-45 ms. Tried and dropped: psycopg's server-side
  binding with automatic prepared statements (the page's PostgreSQL planning is 4.5 ms of its 5.3 ms of server
  time) made no measurable difference, because the per-query cost is on the Python side (compiling, psycopg,
  building the objects: about 0.8 ms per query for the page's 26). What is left: 25-26 queries and 14-16 ms of
  rendering per view.
- **What every request compiled (2026-12-07, third round).** Each signed-in request read its session, its user,
  the user's profile, their role names and permissions through the ORM, compiling each statement anew: the session
  engine `core.sessions` (Django's database sessions, same table and format), `core.auth.ModelBackend.get_user`
  (the user with the relations `AUTH_USER_SELECT_RELATED` names, the profile, in the same query) and
  `tickets.access.roles_of` now run statements compiled once per process, and the permissions' `UNION` too: one
  query fewer on every page. The ticket page reads its ticket by key through a compiled statement and checks it
  with `tickets.visibility.sees`, the visibility rule for one row (no query when the viewer sees everything or is
  the ticket's owner, performer or approver; otherwise the rule asked about this key alone): before, its SQL was
  compiled on every view with the viewer's rule inside (3.6 ms). The bulk bar's people, reasons and queues are read
  by compiled statements too. Ticket page on PostgreSQL at 1,000,000 tickets, process CPU 28 → 24 ms and median
  38-40 → 33-35 ms in the same hour.
- **The queue order off an index.** The intake board of someone who sees every queue sorted all 10,000 waiting
  tickets of 1,000,000 by their customer's VIP tier, joined through customer and tier (PostgreSQL: 2.2 ms of
  planning and 4.5 ms of execution, growing with the number of waiting tickets). The tier's queue priority is now
  stored on the ticket (`Ticket.vip_queue_priority`, −1 without a tier, kept by `tickets.queue_priority`: copied
  when the ticket is created, rewritten on all of a customer's tickets in one `UPDATE` whenever their tier or the
  tier's priority changes), and the partial index `ticket_queue_order` follows the queue order, so the first page
  is read off it: 0.4 ms of planning and 0.03 ms of execution, whatever the number of waiting tickets
  (`tests/tickets/test_queue_priority.py` checks each writer against the join, and that PostgreSQL's plan uses
  the index without a sort). The dispatcher's board (one queue) reads its tickets off `ticket_waiting`, which now
  carries the column too: index-only, 2.4 → 0.45 ms. The page's query, compiling included, 4.9 → 2.5 ms.
- **Prepared statements where the plan does not depend on the values (2026-12-07, evening).** The lookups every
  signed-in request makes (the session, the user with their profile, their roles and permissions) and the ticket
  page's ticket are prepared on the server and planned once per connection (`core.rowcache.Precompiled(…,
  prepare=True)`, `DB_PREPARED_STATEMENTS`); it is the intake API that gains (`bench_intake.py`). The pages' ORM
  queries are not prepared, and must not be: with every statement prepared (Django's `server_side_binding` with a
  `prepare_threshold`), PostgreSQL kept generic plans for some of them after five runs, and a generic plan cannot
  use a partial index whose condition a parameter stands in for. The admin's intake board at 1,000,000 tickets
  went from a median of 83 to 130 ms (p95 100 → 201 ms) in the same hour; the other pages showed no change beyond
  the noise. With only the marked lookups prepared, the same database right after: the admin's intake board at a
  median of 54.5 ms (p95 74.0), the other pages as before within the noise of a slow hour (the figures of the
  tables below were taken at the machine's usual speed).

How to read the figures below: measured on 2026-12-07 on a machine at its usual speed (a fixed 20M-step Python loop
in 1.2 s; PostgreSQL's 1,000,000 tickets seeded in about 95 s), after a session on the same machine at half speed
whose figures were twice these. The third round's tables were taken later that day; its gains above come from runs
of both versions in the same hour, not from comparing these tables with older ones. Each page is requested 100 times
(`--rounds`, default 100): the p95 of the 20 requests of earlier runs was their slowest. The remaining variance is
PostgreSQL and the test client sharing two cores, and the garbage collector's full collections (about one request in
thirty on the intake board, 12-15 ms each).

The data: N tickets over two years in ten queues with five agents each; one ticket in twenty is
open (one in a hundred is new and unassigned, for the intake board), the others are done; each has
a first-response and a resolution clock; one customer in ten is VIP. The open and the new tickets are spread
evenly over the ten queues (and over VIP and other customers, types and priorities), so the measured engineer
(agent0-0 of queue bench-0) sees a tenth of the tickets, open or done, and performs or owns a fiftieth of the open
ones, and the dispatcher's board (queue bench-0) holds a tenth of the waiting ones. (Until 2026-12-07 every open
ticket fell in the first queue: the engineer saw every open ticket and the dispatcher every waiting one; figures
in older results are not comparable.) Latency: the Django test
client in one process, server time, and that process's CPU time (PostgreSQL's own work is not in it); on
PostgreSQL the seeding ends with `VACUUM ANALYZE`, as autovacuum would have run on a live database.
Throughput: gunicorn (2 sync workers, `DEBUG=false`) on loopback, four client threads, each page in turn
as the admin, beside the previous main (commit 36c68fb) seeded the same way with its own migrations. Full run:
`python bench/bench_pages.py --tickets 100000 --postgres postgres://postgres@127.0.0.1:5432/<scratch>
--pg-tickets 1000000 --throughput 10000 100000` (the PostgreSQL database is dropped and created).
Each table states the machine's load average: figures taken with a load far above the two cores
(other benchmarks and test suites running) are mostly time spent waiting for a CPU; compare the
ratios there and rerun on a quiet machine for absolute times.
"""

PAGES = [
    ("ticket list", "/tickets/"),
    ("my work", "/tickets/my/"),
    ("intake board", "/tickets/intake/"),
    ("ticket page", "/tickets/{ticket}/"),
]
QUEUES = 10
AGENTS_PER_QUEUE = 5


# --- seeding (runs inside a Django process) -------------------------------------------------------------------


def _series(vendor: str, n: int) -> tuple[str, str]:
    """(prefix, FROM source) yielding integers g = 1..n."""
    if vendor == "postgresql":
        return "", f"generate_series(1, {n}) AS s(g)"
    return f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) ", "s"


def _ago(vendor: str, seconds: str) -> str:
    if vendor == "postgresql":
        return f"(now() - ({seconds}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({seconds}) || ' seconds')"


def _plus(vendor: str, column: str, seconds: str) -> str:
    if vendor == "postgresql":
        return f"({column} + ({seconds}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+' || ({seconds}) || ' seconds')"


def _copy_insert(table: str, columns: list[str], overrides: dict[str, str], source: str, prefix: str = "") -> str:
    """INSERT INTO table (every column but id) SELECT override-or-template column FROM source."""
    cols = [c for c in columns if c != "id"]
    exprs = [overrides.get(c, f"tpl.{c}") for c in cols]
    return f"{prefix}INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {source}"


def seed(n: int) -> dict[str, Any]:
    """N tickets and their clocks; returns the ids the measurements need."""
    from datetime import timedelta

    from django.db import connection

    from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
    from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketTypeFactory, UserFactory
    from tickets.models import Customer, QueueMembership, Ticket, VipTier

    vendor = connection.vendor
    t0 = time.perf_counter()
    calendar = Calendar.objects.create(name="Bench office", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=d, start="09:00", end="18:00") for d in range(5)
    )
    policy = SLAPolicy.objects.create(
        name="Bench",
        precedence=1,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=8),
    )
    queues = [QueueFactory(name=f"Queue {q}", slug=f"bench-{q}") for q in range(QUEUES)]
    types = [TicketTypeFactory(name=f"Type {t}", slug=f"bench-type-{t}") for t in range(4)]
    agents = []
    for q in range(QUEUES):
        for a in range(AGENTS_PER_QUEUE):
            user = UserFactory(username=f"agent{q}-{a}", role="engineer")
            MembershipFactory(queue=queues[q], user=user)
            agents.append(user.pk)
    dispatcher = UserFactory(username="bench-dispatcher", role="dispatcher")
    MembershipFactory(queue=queues[0], user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    UserFactory(username="bench-admin", role="admin", is_superuser=True, is_staff=True)
    tier = VipTier.objects.order_by("rank").first() or VipTier.objects.create(name="Bench gold", rank=1)
    customers = [CustomerFactory(name="Bench customer 0").pk]
    customers += [c.pk for c in CustomerFactory.create_batch(499)]
    Customer.objects.filter(pk__in=customers[::10]).update(vip_tier=tier)
    for ids, what in ((agents, "agents"), ([q.pk for q in queues], "queues"), (customers, "customers")):
        if ids != list(range(ids[0], ids[0] + len(ids))):
            raise RuntimeError(f"the bench needs consecutive ids for the {what}")
    template = Ticket.objects.create(
        title="template", customer_id=customers[0], queue=queues[0], ticket_type=types[0], status="done"
    )
    for kind, target in (("first_response", timedelta(hours=2)), ("resolution", timedelta(hours=8))):
        SLAClock.objects.create(
            ticket=template,
            kind=kind,
            policy=policy,
            calendar=calendar,
            target=target,
            state="stopped",
            state_changed_at=template.created_at,
            started_at=template.created_at,
        )
    step = max(1, 730 * 86400 // n)  # two years of history
    age = f"(({n} - g) * {step} + 600)"
    q0, a0, c0 = queues[0].pk, agents[0], customers[0]
    # Ticket g is open when g is a multiple of 20 and new when a multiple of 100. Its queue, customer, type and
    # priority must not follow g % 10 (or g % 4) alone, or every open ticket would land in the same queue, with a VIP
    # customer, the first type and priority 1. The queue is (g + k + k / 10) % 10 with k = g / 20: for the open
    # tickets (g = 20k) that is (k + k / 10) % 10, which takes each of the ten values once in every ten consecutive
    # k and, for the new ones (k = 5m), once in every ten consecutive m.
    queue = f"((g + g / 20 + g / 200) % {QUEUES})"
    agent = f"{a0} + {queue} * {AGENTS_PER_QUEUE} + (g / 7) % {AGENTS_PER_QUEUE}"  # an agent of its queue
    performer = f"CASE WHEN g % 100 = 0 THEN NULL ELSE {agent} END"
    ticket_cols = [f.column for f in Ticket._meta.concrete_fields]
    prefix, source = _series(vendor, n)
    ticket_sql = (
        _copy_insert(
            "tickets_ticket",
            ticket_cols,
            {
                "title": "'Request ' || (g % 97) || ' about order ' || g",
                "customer_id": f"{c0} + (g + g / 7) % {len(customers)}",  # VIP: one customer in ten
                "queue_id": f"{q0} + {queue}",
                "ticket_type_id": f"{types[0].pk} + (g / 3) % {len(types)}",
                "priority": "1 + (g + g / 20) % 4",
                "status": "CASE WHEN g % 100 = 0 THEN 'new' WHEN g % 20 = 0 THEN 'in_progress' ELSE 'done' END",
                "performer_id": performer,
                "owner_id": performer,
                "next_step": "CASE WHEN g % 3 = 0 THEN '' ELSE 'call back' END",
                "created_at": _ago(vendor, age),
                "status_changed_at": _ago(vendor, age),
                "updated_at": _ago(vendor, f"{age} - 300"),
                "deadline": _ago(vendor, f"{age} - 86400"),
                "done_at": f"CASE WHEN g % 20 = 0 THEN NULL ELSE {_ago(vendor, f'{age} - 1800')} END",
            },
            f"{source} CROSS JOIN tickets_ticket tpl",
            prefix,
        )
        + f" WHERE tpl.id = {template.pk}"
    )
    clock_cols = [f.column for f in SLAClock._meta.concrete_fields]
    running = "(t.status <> 'done' AND tpl.kind = 'resolution')"
    clock_sql = _copy_insert(
        "sla_slaclock",
        clock_cols,
        {
            "ticket_id": "t.id",
            "state": f"CASE WHEN {running} THEN 'running' ELSE 'stopped' END",
            "state_changed_at": "t.created_at",
            "started_at": "t.created_at",
            "due_at": f"CASE WHEN {running} THEN {_plus(vendor, 't.created_at', '28800')} END",
            "stopped_at": f"CASE WHEN {running} THEN NULL ELSE {_plus(vendor, 't.created_at', '3600')} END",
            "consumed": "tpl.consumed",
        },
        "tickets_ticket t CROSS JOIN sla_slaclock tpl",
    )
    clock_sql += f" WHERE tpl.ticket_id = {template.pk} AND t.id <> {template.pk}"
    with connection.cursor() as cur:
        cur.execute(ticket_sql)
        cur.execute(clock_sql)
    template.delete()
    if any(f.name == "sla_next_due" for f in Ticket._meta.concrete_fields):  # code that stores the next SLA due
        from sla.clocks import store_next_due

        store_next_due(Ticket.objects.exclude(status="done").values_list("pk", flat=True))
    if any(f.name == "vip_queue_priority" for f in Ticket._meta.concrete_fields):  # code that stores the tier's
        from tickets.models import Customer
        from tickets.queue_priority import refresh_queue_priority

        refresh_queue_priority(customers=Customer.objects.filter(vip_tier__isnull=False).values("pk"))
    with connection.cursor() as cur:
        # What autovacuum does on a live database: statistics, and on PostgreSQL the visibility map too (an index-only
        # scan of freshly inserted rows still visits the heap for each of them).
        cur.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    return _ids(round(time.perf_counter() - t0, 1))


def _ids(seconds: float | None) -> dict[str, Any]:
    """The ids the measurements need, read back from a seeded database (``seed`` or a kept one)."""
    from django.contrib.auth import get_user_model

    from tickets.models import Queue, Ticket

    users = get_user_model().objects
    engineer_id = users.get(username="agent0-0").pk
    q0 = Queue.objects.get(slug="bench-0").pk
    sample = (
        Ticket.objects.filter(queue_id=q0, performer_id=engineer_id)
        .exclude(status="done")
        .order_by("-updated_at")
        .values_list("pk", flat=True)
        .first()
    )
    return {
        "admin": users.get(username="bench-admin").pk,
        "engineer": engineer_id,
        "dispatcher": users.get(username="bench-dispatcher").pk,
        "ticket": sample,
        "seconds": seconds,
        "tickets": Ticket.objects.count(),
        "users": users.count(),
    }


def _setup_django(code_root: Path) -> None:
    os.chdir(code_root)
    sys.path.insert(0, str(code_root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    import django

    django.setup()


def measure(ids: dict[str, Any], rounds: int, only: str = "") -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects
    rows = []
    for viewer, user_id in (("admin", ids["admin"]), ("engineer", ids["engineer"]), ("dispatcher", ids["dispatcher"])):
        client = Client()
        client.force_login(users.get(pk=user_id))
        for name, url in PAGES:
            if (name == "intake board") != (viewer == "dispatcher") and viewer != "admin":
                continue
            if only and only not in f"{name} as {viewer}":
                continue  # the intake board: admin and dispatcher; the other pages: admin and engineer
            path = url.format(ticket=ids["ticket"])
            client.get(path)  # warm caches (templates, calendars, the connection)
            times, cpu = [], []
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as queries:
                    c0, t0 = time.process_time(), time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)  # this process only: not PostgreSQL's side
                if response.status_code != 200:
                    raise RuntimeError(f"{path} as {viewer}: HTTP {response.status_code}")
            times.sort()
            rows.append(
                {
                    "page": name,
                    "as": viewer,
                    "queries": len(queries.captured_queries),
                    "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
                    "median_ms": round(statistics.median(times), 1),
                    "cpu_median_ms": round(statistics.median(cpu), 1),
                }
            )
    return rows


def _sessions(ids: dict[str, Any]) -> dict[str, str]:
    """A logged-in session key per viewer, stored in the database (gunicorn reads the same table)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
    from django.contrib.sessions.backends.db import SessionStore

    # What signing in stores: the first backend that loads people (this code's or the previous main's).
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))
    keys = {}
    for viewer in ("admin", "engineer"):
        user = get_user_model().objects.get(pk=ids[viewer])
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        keys[viewer] = store.session_key
    return keys


def worker(args) -> None:
    _setup_django(Path(args.code_root))
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings

    if args.keep and get_user_model().objects.filter(username="bench-admin").exists():
        ids = _ids(None)  # a kept database, seeded by an earlier run
    else:
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            ids = seed(args.tickets)  # fifty users: a fast hasher for the seeding only
    out: dict[str, Any] = {"seed": ids}
    if args.worker == "latency":
        from django.db import connection

        out["rows"] = measure(ids, args.rounds, args.only)
        out["vendor"] = connection.vendor
    else:
        out["sessions"] = _sessions(ids)
    print(json.dumps(out))


# --- orchestration ------------------------------------------------------------------------------------------


def _env(database_url: str, **extra: str) -> dict[str, str]:
    # One secret for the seeding process and gunicorn: the stored sessions are signed with it.
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "opsdesk.settings",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": SECRET,
        **extra,
    }


def _prepare(
    code_root: Path, database_url: str, tickets: int, mode: str, rounds: int = 0, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    env = _env(database_url, DEBUG="true", ALLOWED_HOSTS="testserver,localhost,127.0.0.1")
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=code_root, env=env, check=True)
    out = subprocess.run(
        [
            python,
            str(Path(__file__).resolve()),
            "--worker",
            mode,
            "--code-root",
            str(code_root),
            "--tickets",
            str(tickets),
            "--rounds",
            str(rounds),
            *extra,
        ],
        cwd=code_root,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reset_postgres(url: str, keep: bool = False) -> None:
    """Drop and create the database of ``url``; with ``keep``, only create it if it does not exist."""
    head, _sep, name = url.rpartition("/")
    admin_url = f"{head}/postgres"
    if keep:
        exists = subprocess.run(
            ["psql", admin_url, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists:
            return
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def latency(
    database: str,
    tickets: int,
    rounds: int,
    postgres: str | None,
    keep: bool = False,
    only: str = "",
    code_root: Path = ROOT,
) -> dict[str, Any]:
    """``keep``: reuse the database of an earlier ``--keep`` run (PostgreSQL: not dropped; SQLite: a file named
    after the size in the temporary directory), seeding it only if it is new; ``only``: the pages whose
    "page as viewer" contains it."""
    extra = (*(("--keep",) if keep else ()), *(("--only", only) if only else ()))
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        if postgres:
            _reset_postgres(postgres, keep)
            url = postgres
        elif keep:
            url = f"sqlite:///{tempfile.gettempdir()}/bench-pages-{tickets}.sqlite3"
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        out = _prepare(code_root, url, tickets, "latency", rounds, extra)
    return {
        "database": out["vendor"],
        "tickets": out["seed"]["tickets"],
        "seed_s": out["seed"]["seconds"],
        "rounds": rounds,
        "rows": out["rows"],
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(code_root: Path, database_url: str):
    port = _free_port()
    env = _env(
        database_url,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="false",
        BEHIND_PROXY="false",
    )
    # Production settings serve hashed static names from the manifest: collect them as production would.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=code_root, env=env, check=True
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "opsdesk.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=code_root,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def _hammer(port: int, path: str, session: str, seconds: float, clients: int = 4) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * clients
    errors: list[str] = []

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: HTTP {response.status}")
                return
            counts[i] += 1
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(counts) / (time.monotonic() - t0)


def throughput(sizes: list[int], seconds: float, baseline: str) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pages-tp-") as tmp:
        old_root = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_root), baseline],
            check=True,
            capture_output=True,
        )
        try:
            for size in sizes:
                for label, code_root in (("previous main", old_root), ("this branch", ROOT)):
                    url = f"sqlite:///{tmp}/{label.replace(' ', '-')}-{size}.sqlite3"
                    out = _prepare(code_root, url, size, "sessions")
                    proc, port = _serve(code_root, url)
                    try:
                        for name, path in PAGES:
                            path = path.format(ticket=out["seed"]["ticket"])
                            _hammer(port, path, out["sessions"]["admin"], 1.0)  # warm both workers
                            rate = _hammer(port, path, out["sessions"]["admin"], seconds)
                            rows.append({"tickets": size, "code": label, "page": name, "rps": round(rate, 1)})
                            print(f"  {size:>9,} {label:<14} {name:<13} {rate:7.1f} req/s", flush=True)
                    finally:
                        proc.terminate()
                        proc.wait(timeout=30)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_root)], check=False)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets on SQLite (latency)")
    parser.add_argument(
        "--rounds", type=int, default=100, help="requests per page (the p95 of 20 would be the slowest of them)"
    )
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL database (dropped!)")
    parser.add_argument("--pg-tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--throughput",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="gunicorn throughput at these SQLite sizes, beside --baseline",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per page (throughput)")
    parser.add_argument("--baseline", default=BASELINE, help="the previous main's commit")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="latency on PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="reuse (or create and keep) the seeded databases")
    parser.add_argument("--only", default="", help='only the pages whose "page as viewer" contains this')
    parser.add_argument("--no-save", action="store_true", help="print only; leave bench/results.json alone")
    parser.add_argument("--worker", choices=["latency", "sessions"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--code-root", default=str(ROOT), help="the checkout whose code is measured (latency; default: this one)"
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    payload: dict[str, Any] = {"latency": [], "throughput": []}
    if not args.no_latency:
        if not args.no_sqlite:
            print(f"latency, sqlite, {args.tickets:,} tickets", flush=True)
            payload["latency"].append(
                latency("sqlite", args.tickets, args.rounds, None, args.keep, args.only, Path(args.code_root))
            )
        if args.postgres:
            print(f"latency, postgresql, {args.pg_tickets:,} tickets", flush=True)
            payload["latency"].append(
                latency(
                    "postgresql",
                    args.pg_tickets,
                    args.rounds,
                    args.postgres,
                    args.keep,
                    args.only,
                    Path(args.code_root),
                )
            )
    if args.throughput:
        print("throughput (gunicorn, 2 workers, 4 clients)", flush=True)
        payload["throughput"] = throughput(args.throughput, args.seconds, args.baseline)
        payload["throughput_seconds"] = args.seconds
        payload["baseline"] = args.baseline
    payload["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    payload["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.no_save:
        print(markdown(payload))
        return payload
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = data.get("pages", {})
    for key in ("latency", "throughput"):  # a partial run keeps the other half of the last one
        if not payload[key] and previous.get(key):
            payload[key] = previous[key]
            for extra in ("throughput_seconds", "baseline") if key == "throughput" else ():
                payload[extra] = previous.get(extra)
    data["pages"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    parts = [
        f"Load average (1, 5, 15 min) of the 2-core machine at the end of the last run: {payload.get('load', '?')}."
    ]
    for run in payload.get("latency", []):
        seeded = f"seeded in {run['seed_s']} s" if run["seed_s"] is not None else "a kept database"
        parts.append(
            f"\nServer time, {run['tickets']:,} tickets on {run['database']} ({seeded}), "
            f"{run['rounds']} requests per page, load average {run.get('load', '?')}:\n"
        )
        parts.append(
            "| page | as | p95, ms | median, ms | process CPU median, ms | queries |\n|---|---|---:|---:|---:|---:|"
        )
        for row in run["rows"]:
            parts.append(
                f"| {row['page']} | {row['as']} | {row['p95_ms']} | {row['median_ms']} "
                f"| {row.get('cpu_median_ms', '—')} | {row['queries']} |"
            )
    if payload.get("throughput"):
        parts.append(
            f"\nThroughput as the admin, gunicorn with 2 workers, 4 clients on loopback, SQLite, "
            f"{payload.get('throughput_seconds')} s per page; previous main = {payload.get('baseline')}:\n"
        )
        parts.append("| tickets | page | previous main, req/s | this code, req/s | ratio |\n|---:|---|---:|---:|---:|")
        table: dict[tuple[int, str], dict[str, float]] = {}
        for row in payload["throughput"]:
            table.setdefault((row["tickets"], row["page"]), {})[row["code"]] = row["rps"]
        for (size, page), rates in table.items():
            old, new = rates.get("previous main"), rates.get("this branch")
            ratio = f"{new / old:.1f}x" if old and new else ""
            parts.append(f"| {size:,} | {page} | {old} | {new} | {ratio} |")
    return "\n".join(parts)


if __name__ == "__main__":
    main()
