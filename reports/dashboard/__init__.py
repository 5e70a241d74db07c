"""The manager dashboard's selectors: a constant number of aggregate queries, one module per section.

Every figure is scoped to the tickets the viewer may see (``Ticket.objects.visible_to``)
and comes with the ticket-list link that shows the tickets behind it (``portal.filters``).
Periods are whole local dates of the viewer (``reports.selectors.Period``); each period
figure is computed for the period and for the previous period of equal length in the
same query. Definitions: docs/reports.md.

The modules, by section of the page:

* ``scoping``: which tickets a figure counts
  (``Scope``, ``scope``, ``in_scope``);
* ``common``: what every section shares: the previous period and presets, the period bucket
  of a row, links to the ticket list, names in the viewer's language, ``Figure``, durations,
  and the rollup records a period reads (``clock_records``, ``ticket_records``);
* ``now``: the "now" figures (open, red zone, without performer or next step, deferrals pending, waiting);
* ``clocks``: the clocks a period counts (``stopped_clocks``) and their statistics (``clock_stats``);
* ``period``: the period against the previous one (compliance, times, closed on time, escalations);
* ``breakdowns``: the figures per agent, queue, type, customer tier, channel and SLA policy;
* ``violators``: the largest breaches and the customers with most breaches;
* ``workload``: open, taken and done per person and per queue;
* ``trends``: the charts' data: compliance day by day, the first-response histogram;
* ``waiting``: business time spent waiting, per blocking reason, queue or customer.

The reports (``reports.tabular``) reuse these selectors.
"""
