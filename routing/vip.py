"""VIP tiers: which tier each customer deserves, applied set-based every night.

Tiers, turnover and the account manager belong to the customer's **organisation** (seed 000): the
turnover a rule reads is the organisation's (all its contacts together; the top X % ranks
organisations), the inputs (manual tier, strategic partner, premium contract, account manager) are
set on the organisation and copied onto its contacts, and after a change the organisation takes its
contacts' tier (``Organisation.vip_tier``). ``Customer.vip_tier`` stays the effective tier readers use.

Rules (``VipRule``) grant a tier: turnover over the last N months at or above
an amount, the top X % of customers by turnover over the last N months, the
strategic-partner flag, or a premium contract that has not ended. A customer
gets the highest-ranked tier any active rule grants.

``evaluate_customers`` (nightly, django-q2) works on aggregates, never per
customer queries: one turnover aggregation per distinct period, one read of
every customer's tier state, then grouped ``UPDATE``\\ s and one bulk insert
of ``CustomerTierChange`` rows:

* a manual tier (``Customer.manual_tier``) that has not expired overrides the rules;
  an expired one is cleared and the rules apply at once;
* upgrades apply at once;
* a customer that qualifies for less keeps the tier during the tier's
  ``downgrade_grace_days`` (counted from ``tier_below_since``) and loses it after;
* each change notifies the customer's account manager (one grouped notice per
  manager and night) and re-matches the SLA of the customer's open tickets
  (``sla.lifecycle.sla_rematch``; the policy's retarget mode keeps consumed time).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import dates
from core.forms import is_pk
from notifications.service import notify
from routing.models import CustomerTierChange, CustomerTurnover, VipRule
from sla.lifecycle import sla_rematch
from tickets.models import Customer, Organisation, Ticket, TierSource, VipTier
from tickets.queue_priority import refresh_queue_priority

CHUNK = 2000
Kind = VipRule.Kind

# The customer fields a tier rests on besides turnover: an admin who changes one re-evaluates the customer.
TIER_INPUTS = frozenset({"manual_tier", "manual_tier_until", "strategic_partner", "premium_contract_until"})


def months_ago(day: date, months: int) -> date:
    """The same day ``months`` earlier (clamped to the month's end): 31 May - 3 months = 28/29 Feb."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _money(value) -> str:
    return number_format(value, decimal_pos=0, force_grouping=True)


def _units() -> dict[int, tuple[str, int]]:
    """customer id → the unit its turnover is counted for: ("org", organisation id), or ("customer", its id)."""
    return {pk: ("org", org) if org is not None else ("customer", pk)
            for pk, org in Customer.objects.values_list("pk", "organisation_id").iterator(chunk_size=CHUNK)}


def turnover_totals(today: date, months: int, *, units: dict | None = None) -> dict[int, Decimal]:
    """Turnover over the ``months`` before ``today`` (inclusive), per customer: the turnover of the customer's
    **organisation** (all its contacts together), so every contact of an organisation gets the same total."""
    rows = (
        CustomerTurnover.objects.filter(date__gt=months_ago(today, months), date__lte=today)
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    units = _units() if units is None else units
    by_unit: dict[tuple, Decimal] = defaultdict(Decimal)
    for customer_id, total in rows:
        by_unit[units.get(customer_id, ("customer", customer_id))] += total
    return {pk: by_unit[unit] for pk, unit in units.items() if unit in by_unit}


def qualifying_tiers(today: date) -> dict[int, tuple[int, str]]:
    """customer id → (tier id, reason) of the best tier the active rules grant."""
    rules = list(VipRule.objects.filter(active=True).select_related("tier"))
    best: dict[int, tuple[int, int, str]] = {}

    def grant(customer_id: int, rule: VipRule, reason: str) -> None:
        current = best.get(customer_id)
        if current is None or rule.tier.rank > current[1]:
            best[customer_id] = (rule.tier_id, rule.tier.rank, reason)

    totals_by_months: dict[int, dict[int, Decimal]] = {}
    customer_count = None
    units = _units() if rules else {}
    for rule in rules:
        if rule.kind in (Kind.TURNOVER, Kind.TOP_PERCENT) and rule.months:
            if rule.months not in totals_by_months:
                totals_by_months[rule.months] = turnover_totals(today, rule.months, units=units)
            totals = totals_by_months[rule.months]
        if rule.kind == Kind.TURNOVER and rule.months and rule.amount is not None:
            for customer_id, total in totals.items():
                if total >= rule.amount:
                    grant(customer_id, rule, _("turnover %(total)s over %(months)d months ≥ %(amount)s") % {
                        "total": _money(total), "months": rule.months, "amount": _money(rule.amount)})
        elif rule.kind == Kind.TOP_PERCENT and rule.months and rule.percent:
            if customer_count is None:
                customer_count = len(set(units.values()))  # organisations (and customers without one)
            places = math.ceil(customer_count * float(rule.percent) / 100)
            per_unit = {units.get(pk, ("customer", pk)): t for pk, t in totals.items()}
            ranked = sorted((t for t in per_unit.values() if t > 0), reverse=True)
            if places and ranked:
                cutoff = ranked[min(places, len(ranked)) - 1]  # ties at the cutoff all qualify
                for customer_id, total in totals.items():
                    if total > 0 and total >= cutoff:
                        grant(customer_id, rule, _("top %(percent)s %% by turnover over %(months)d months") % {
                            "percent": rule.percent.normalize(), "months": rule.months})
        elif rule.kind == Kind.STRATEGIC:
            for customer_id in Customer.objects.filter(strategic_partner=True).values_list("pk", flat=True):
                grant(customer_id, rule, _("strategic partner"))
        elif rule.kind == Kind.PREMIUM:
            premium = Customer.objects.filter(premium_contract_until__gte=today).values_list(
                "pk", "premium_contract_until"
            )
            for customer_id, until in premium:
                grant(customer_id, rule, _("premium contract until %(date)s") % {"date": until.isoformat()})
    return {cid: (tier_id, reason) for cid, (tier_id, _rank, reason) in best.items()}


@dataclass
class Change:
    customer_id: int
    from_tier: int | None
    to_tier: int | None
    reason: str
    source: str
    account_manager_id: int | None


@dataclass
class Evaluation:
    changes: list[Change] = field(default_factory=list)
    grace_started: list[int] = field(default_factory=list)
    grace_cleared: list[int] = field(default_factory=list)
    manual_expired: list[int] = field(default_factory=list)
    source_fixed: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    rematched_tickets: int = 0

    def as_dict(self) -> dict:
        return {
            "changes": len(self.changes),
            "grace_started": len(self.grace_started),
            "manual_expired": len(self.manual_expired),
            "rematched_tickets": self.rematched_tickets,
        }


def plan(today: date, *, customer_ids=None) -> Evaluation:
    """Decide every customer's tier for ``today`` (reads only)."""
    tiers = {t.pk: t for t in VipTier.objects.all()}
    rank = {pk: t.rank for pk, t in tiers.items()}
    qualified = qualifying_tiers(today)
    customers = Customer.objects.all()
    if customer_ids is not None:
        customers = customers.filter(pk__in=list(customer_ids))
    result = Evaluation()
    rows = customers.values_list(
        "pk", "vip_tier_id", "manual_tier_id", "manual_tier_until", "tier_source", "tier_below_since",
        "account_manager_id",
    )
    for pk, current, manual, manual_until, source, below_since, manager in rows.iterator(chunk_size=CHUNK):
        if manual is not None and (manual_until is None or manual_until >= today):
            if current != manual:
                reason = (_("manual tier until %(date)s") % {"date": manual_until.isoformat()}) if manual_until \
                    else _("manual tier")
                result.changes.append(Change(pk, current, manual, reason, TierSource.MANUAL, manager))
            elif source != TierSource.MANUAL or below_since is not None:
                result.source_fixed[TierSource.MANUAL].append(pk)
            continue
        target, reason = qualified.get(pk, (None, ""))
        if manual is not None:  # expired: the rules apply again at once
            result.manual_expired.append(pk)
            if target != current:
                why = _("manual tier expired on %(date)s") % {"date": manual_until.isoformat()}
                result.changes.append(Change(pk, current, target, f"{why}; {reason}" if reason else why,
                                             TierSource.RULES if target else TierSource.NONE, manager))
            continue
        current_rank = rank.get(current, -1) if current is not None else -1
        target_rank = rank.get(target, -1) if target is not None else -1
        if target_rank > current_rank:
            result.changes.append(Change(pk, current, target, reason, TierSource.RULES, manager))
        elif target_rank == current_rank:
            if below_since is not None:
                result.grace_cleared.append(pk)
            if current is not None and source != TierSource.RULES:
                result.source_fixed[TierSource.RULES].append(pk)
        elif below_since is None:
            result.grace_started.append(pk)
        elif (today - below_since).days >= tiers[current].downgrade_grace_days:
            why = _("no longer qualifies since %(date)s (grace %(days)d days)") % {
                "date": below_since.isoformat(), "days": tiers[current].downgrade_grace_days}
            result.changes.append(Change(pk, current, target, f"{why}; {reason}" if reason else why,
                                         TierSource.RULES if target else TierSource.NONE, manager))
    return result


def _follow_organisations(customer_ids: list[int]) -> None:
    """An organisation's tier is its contacts' tier (they share turnover and inputs): the best one wins."""
    rank = dict(VipTier.objects.values_list("pk", "rank"))
    best: dict[int, int | None] = {}
    rows = Customer.objects.filter(pk__in=customer_ids, organisation__isnull=False).values_list(
        "organisation_id", "vip_tier_id")
    for organisation_id, tier_id in rows:
        current = best.get(organisation_id)
        if organisation_id not in best or rank.get(tier_id, -1) > rank.get(current, -1):
            best[organisation_id] = tier_id
    for organisation_id, tier_id in best.items():
        Organisation.objects.filter(pk=organisation_id).update(vip_tier_id=tier_id)


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


@transaction.atomic
def evaluate_customers(today: date | None = None, *, customer_ids=None, actor=None) -> Evaluation:
    """Re-evaluate the tiers of every customer (or of ``customer_ids``) and apply the changes."""
    today = today or timezone.localdate()
    result = plan(today, customer_ids=customer_ids)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for change in result.changes:
        groups[(change.to_tier, change.source)].append(change.customer_id)
    for (tier_id, source), ids in groups.items():
        for chunk in _chunks(ids):
            Customer.objects.filter(pk__in=chunk).update(vip_tier_id=tier_id, tier_source=source,
                                                         tier_below_since=None)
    for chunk in _chunks(result.manual_expired):
        Customer.objects.filter(pk__in=chunk).update(manual_tier=None, manual_tier_until=None)
    for chunk in _chunks(result.grace_started):
        Customer.objects.filter(pk__in=chunk).update(tier_below_since=today)
    for chunk in _chunks(result.grace_cleared):
        Customer.objects.filter(pk__in=chunk).update(tier_below_since=None)
    for source, ids in result.source_fixed.items():
        for chunk in _chunks(ids):
            Customer.objects.filter(pk__in=chunk).update(tier_source=source, tier_below_since=None)
    now = timezone.now()
    CustomerTierChange.objects.bulk_create(
        [CustomerTierChange(customer_id=c.customer_id, from_tier_id=c.from_tier, to_tier_id=c.to_tier,
                            reason=c.reason[:300], actor=actor, created_at=now) for c in result.changes],
        batch_size=CHUNK,
    )
    changed = [c.customer_id for c in result.changes]
    _follow_organisations(changed)
    for chunk in _chunks(changed):
        refresh_queue_priority(customers=chunk)  # the queue order's first key, on their tickets
    result.rematched_tickets = _rematch(changed, actor=actor)
    transaction.on_commit(lambda: _notify_managers(result.changes, today))
    return result


def _rematch(customer_ids: list[int], *, actor) -> int:
    """Re-match the SLA of the open tickets of customers whose tier changed."""
    changed = 0
    for chunk in _chunks(customer_ids):
        for ticket in Ticket.objects.open().filter(customer_id__in=chunk).select_related("customer", "queue"):
            changed += sla_rematch(ticket, actor=actor)
    return changed


def _notify_managers(changes: list[Change], today: date) -> None:
    by_manager: dict[int, list[Change]] = defaultdict(list)
    for change in changes:
        if change.account_manager_id is not None:
            by_manager[change.account_manager_id].append(change)
    if not by_manager:
        return
    users = get_user_model().objects.in_bulk(list(by_manager))
    names = dict(Customer.objects.filter(pk__in=[c.customer_id for cs in by_manager.values() for c in cs[:10]])
                 .values_list("pk", "name"))
    tiers = {t.pk: t.name for t in VipTier.objects.all()}
    for manager_id, items in by_manager.items():
        lines = [
            f"{names.get(c.customer_id, c.customer_id)}: {tiers.get(c.from_tier, '—')} → {tiers.get(c.to_tier, '—')}"
            f" ({c.reason})"
            for c in items[:10]
        ]
        if len(items) > 10:
            lines.append(_("… and %(count)d more.") % {"count": len(items) - 10})
        notify(
            users.get(manager_id),
            kind="vip.tier_changed",
            urgency="routine",
            title=ngettext("The VIP tier of %(count)d of your customers changed",
                           "The VIP tier of %(count)d of your customers changed", len(items)) % {"count": len(items)},
            body="\n".join(lines),
            dedupe_key=f"vip-{manager_id}-{today.isoformat()}-{items[0].customer_id}-{len(items)}",
        )


def evaluate_nightly_task() -> dict:
    return evaluate_customers().as_dict()


# --- Turnover import -------------------------------------------------------------------------------

CSV_COLUMNS = ("customer", "date", "amount", "reference")


@dataclass
class ImportResult:
    rows: list[CustomerTurnover] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_turnover_csv(text: str) -> ImportResult:
    """Check every row of a turnover CSV (``customer,date,amount,reference``; customer = email or id).

    Returns the rows to create, or the errors per line (then nothing may be imported).
    """
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        result.errors.append(_("Line 1: missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        return result
    raw = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]
    emails = {r["customer"].lower() for r in raw if "@" in r.get("customer", "")}
    ids = {int(r["customer"]) for r in raw if is_pk(r.get("customer", ""))}
    by_email = {e.lower(): pk for pk, e in Customer.objects.filter(email__in=emails).values_list("pk", "email")}
    known_ids = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
    refs = {r.get("reference", "") for r in raw} - {""}
    existing = set(CustomerTurnover.objects.filter(reference__in=refs).values_list("customer_id", "reference"))
    seen: set[tuple[int, str]] = set()
    for line, row in enumerate(raw, start=2):
        problems = []
        key = row.get("customer", "")
        customer_id = by_email.get(key.lower()) if "@" in key else (int(key) if is_pk(key) and int(key) in
                                                                       known_ids else None)
        if customer_id is None:
            problems.append(_("unknown customer “%(customer)s”") % {"customer": key})
        day = None
        try:
            day = parse_date(row.get("date", ""))
        except ValueError:
            day = None
        if day is None:
            problems.append(_("the date must look like 2025-03-31"))
        elif not dates.in_range(day):
            problems.append(dates.out_of_range_message())
        amount = None
        try:
            amount = Decimal(row.get("amount", "").replace(" ", "").replace(",", "."))
            if not amount.is_finite() or abs(amount) >= Decimal("1e14"):
                raise InvalidOperation
        except InvalidOperation:
            amount = None
            problems.append(_("the amount must be a number"))
        reference = row.get("reference", "")[:120]
        if customer_id is not None and reference:
            if (customer_id, reference) in existing:
                problems.append(_("reference “%(ref)s” is already imported") % {"ref": reference})
            elif (customer_id, reference) in seen:
                problems.append(_("reference “%(ref)s” appears twice in the file") % {"ref": reference})
            seen.add((customer_id, reference))
        if problems:
            result.errors.append(_("Line %(line)d: %(problems)s.") % {"line": line, "problems": "; ".join(problems)})
        else:
            result.rows.append(CustomerTurnover(customer_id=customer_id, date=day, amount=amount, reference=reference))
    if not raw:
        result.errors.append(_("The file has no rows."))
    return result


@transaction.atomic
def import_turnover(text: str) -> ImportResult:
    """Import a turnover CSV all or nothing: any bad line and nothing is written."""
    result = parse_turnover_csv(text)
    if not result.errors:
        CustomerTurnover.objects.bulk_create(result.rows, batch_size=CHUNK)
    return result
