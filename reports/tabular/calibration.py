"""The SLA calibration report: actual times against the current targets, and a target for a compliance goal."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import metrics
from reports.dashboard.clocks import stopped_clocks
from reports.dashboard.common import Kind, bilingual
from reports.tabular.report import Report, Section, table

ADVICE = gettext_lazy(
    "First observe, then agree, then control: measure the actual times (this page), agree a target the team "
    "can hold at the chosen compliance (80 to 95 percent is typical), and only then switch on escalation. An "
    "unrealistic target that is always broken is worse than a longer one that holds."
)


def calibration_report(scope, period, form) -> Report:
    goal = (form.cleaned_data.get("goal") or 90) / 100
    report = Report("calibration", _("SLA calibration"), _(
        "Per ticket type and clock: the business time actually taken by clocks stopped in the period, against the "
        "current target; the compliance each candidate target would have had; a target for the goal."
    ), period, advice=str(ADVICE))
    observed: dict[tuple, list[float]] = defaultdict(list)
    targets: dict[tuple, Counter] = defaultdict(Counter)
    names = {}
    for type_id, name, name_ru, kind, consumed, target in (
        stopped_clocks(scope, period.start, period.end)
        .values_list("ticket__ticket_type_id", "ticket__ticket_type__name", "ticket__ticket_type__name_ru", "kind",
                     "consumed", "target").order_by()
    ):
        observed[(type_id, kind)].append(consumed.total_seconds())
        targets[(type_id, kind)][target.total_seconds()] += 1
        names[type_id] = bilingual(name, name_ru) if type_id else _("No type")
    summary, candidates = [], []
    for key in sorted(observed, key=lambda k: (names[k[0]], k[1] != Kind.FIRST_RESPONSE)):
        values = observed[key]
        current = targets[key].most_common(1)[0][0]
        suggested = metrics.suggest_target(values, goal)
        label = names[key[0]]
        clock = str(Kind(key[1]).label)
        summary.append({
            "type": label, "clock": clock, "count": len(values),
            "p50": metrics.percentile(values, 0.5), "p80": metrics.percentile(values, 0.8),
            "p90": metrics.percentile(values, 0.9), "current": current,
            "current_compliance": metrics.compliance(values, current), "suggested": suggested,
            "suggested_compliance": metrics.compliance(values, suggested),
        })
        for candidate in metrics.candidates(current, suggested):
            marks = [m for m, v in ((_("current"), current), (_("suggested"), suggested)) if v == candidate]
            candidates.append({"type": label, "clock": clock, "target": candidate,
                               "compliance": metrics.compliance(values, candidate), "mark": ", ".join(marks)})
    report.sections.append(Section("summary", _("Actual times against the target"), table(summary, [
        ("type", _("Type"), "text"), ("clock", _("Clock"), "text"), ("count", _("Clocks"), "int"),
        ("p50", "P50", "dur"), ("p80", "P80", "dur"), ("p90", "P90", "dur"),
        ("current", _("Current target"), "dur"), ("current_compliance", _("Met at current"), "pct"),
        ("suggested", _("Suggested target"), "dur"), ("suggested_compliance", _("Met at suggested"), "pct"),
    ], prefix="summary-"), note=_("Suggested: the smallest round target that at least %(goal)s %% of these "
                                  "clocks met.") % {"goal": round(goal * 100)}))
    report.sections.append(Section("candidates", _("Compliance each target would have had"), table(candidates, [
        ("type", _("Type"), "text"), ("clock", _("Clock"), "text"), ("target", _("Target"), "dur"),
        ("compliance", _("Would have been met"), "pct"), ("mark", _("Note"), "text"),
    ], prefix="candidates-")))
    return report
