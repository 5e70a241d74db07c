"""The reports: each is sections of (title, django-tables2 table), rendered by one template and exported as is.

One module per report, plus what they share:

* ``report``: what a report is (``Report``, ``Section``, ``table``, ``ReportColumn``) and ``export``,
  which writes the same sections to CSV (one block per section) or XLSX (one sheet per section),
  with the values the columns' ``value()`` gives (durations as decimal hours, shares as percent numbers);
* ``registry``: ``BUILDERS`` (report name → builder) and ``build(name, user, form)``;
* ``sla``: the SLA report (compliance and times, breakdowns, breaches and their cause);
* ``delays``: causes of delay (waiting per reason, queue and customer; longest stalls; bounces);
* ``workload``: per person, per queue, per day, per person and day;
* ``repetitive``: the most frequent types and title patterns;
* ``calibration``: actual times against the SLA targets, and a target for a goal;
* ``staffing``: arrivals per hour against an Erlang C estimate and the agents on shift.

The figures come from the dashboard's selectors (``reports.dashboard``). Definitions of every
figure: docs/reports.md.
"""
