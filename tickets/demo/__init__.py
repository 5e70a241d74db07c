"""Demo data for development: people in every role, catalogues, customers and months of tickets.

``manage.py seed_demo [--tickets N] [--seed S]`` calls :func:`tickets.demo.runner.seed_demo`.
Everything here is for development databases only: the passwords (``opsdesk-demo``) and
the intake tokens are published in this package.

The modules
    * ``context``: ``DemoContext``, what the base seed produced (handed to the other apps'
      seeders), and the demo's time zone and history length;
    * ``people``: the demo users for every role, their profiles and direct managers;
    * ``catalogue``: queues with their agents and dispatcher, ticket types, VIP tiers;
    * ``customers``: the customers with their orders, deals and contracts, and the intake channels;
    * ``texts``: the bilingual ticket scenarios and the phrases of the conversations;
    * ``story``: one ticket's life (ticket columns, messages, history events) as the services write it;
    * ``generation``: the ticket generator and its bulk writing (``seed_tickets``);
    * ``runner``: ``seed_demo``, which runs the building blocks and then the extra seeders.

What it writes
    * users for every role (see ``people.DEMO_USERS``) with profiles and direct managers;
    * three queues with agents and a dispatcher, four ticket types, VIP tiers,
      about 200 customers with their orders, deals and contracts;
    * two intake channels with fixed development tokens (``customers.DEMO_TOKENS``);
    * N tickets spread over the last 60 days, in every status, with
      conversations and history.

Idempotent
    Users, catalogues, customers and related objects are looked up by their
    natural keys and created only when missing (existing rows are left as an
    admin edited them). The intake channels get the documented tokens back on
    every run, so the printed tokens always work. Ticket number ``i`` of seed
    ``S`` is generated from its own random stream ``(S, i)`` and marked in its
    ``ticket.created`` history event (``demo_seed``, ``demo_index``); a run
    creates only the indices that are missing, so a second run with the same
    N creates nothing, a larger N tops up, and another seed adds its own set.

Fast
    The per-ticket services in ``tickets.services`` lock rows and write one
    row per call, far too slow for 100,000 tickets. The generator therefore
    writes consistent state directly: ``story.Story`` mirrors what the services
    would write for each step (the same ticket fields and timestamps, the same
    ``Message`` rows and ``TicketEvent`` kinds and data, in order). Rows are
    plain dicts, not model instances, and go in by chunks of ``generation.CHUNK``
    tickets with ``executemany`` inside one transaction; even ``bulk_create``
    spends most of its time compiling values field by field. Primary keys are
    reserved up front (``core.bulk.reserve_ids``) so events can point at their
    messages. Columns come from the models' ``_meta``, so a field added later
    with a default needs no change here. 100,000 tickets take about 60 s of
    CPU on SQLite; 1,000 take about 2 s on PostgreSQL.

Extending
    The seeders of the apps above tickets (SLA calendars and policies, escalation
    rules, ...) are listed in ``opsdesk/demo.py`` (``DEMO_SEEDERS``), as dotted paths
    of callables ``seeder(ctx: DemoContext)``; the ``seed_demo`` command hands the
    list to ``seed_demo(seeders=...)``, so tickets names none of them. They run after
    the base seed, inside the same transaction, and must be idempotent themselves.
    The building blocks (``people.seed_people``, ``catalogue.seed_catalogue``,
    ``customers.seed_customers``, ``customers.seed_intake_channels``,
    ``generation.seed_tickets``) are plain functions and can be called on their own.
"""
