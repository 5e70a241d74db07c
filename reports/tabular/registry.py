"""The reports by name (``BUILDERS``) and ``build(name, user, form)``, which scopes and builds one."""

from __future__ import annotations

from reports.dashboard.scoping import Scope
from reports.tabular.calibration import calibration_report
from reports.tabular.delays import delays_report
from reports.tabular.repetitive import repetitive_report
from reports.tabular.report import Report
from reports.tabular.sla import sla_report
from reports.tabular.staffing import staffing_report
from reports.tabular.workload import workload_report


def build(name: str, user, form) -> Report:
    data = form.cleaned_data
    scope = Scope(user, queue=data.get("queue"), ticket_type=data.get("ticket_type"))
    return BUILDERS[name](scope, form.the_period, form)


BUILDERS = {
    "sla": sla_report,
    "delays": delays_report,
    "workload": workload_report,
    "repetitive": repetitive_report,
    "calibration": calibration_report,
    "staffing": staffing_report,
}
