"""Benchmark of the business-time engine (``sla.businesstime``) against its peers.

Calendar: Mon-Fri 09:00-18:00 in Asia/Almaty with the Kazakhstan holidays of
2025-2027 from the ``holidays`` package, expressed in each library:

* ours: ``WorkCalendar.from_spec`` (starts are aware UTC datetimes, as Django
  hands them over with ``USE_TZ=True``);
* businesstimedelta: ``Rules([WorkDayRule(..., tz=pytz Almaty), HolidayRule(set, tz=...)])``,
  ``start + BusinessTimeDelta(rules, timedelta=d)`` and ``rules.difference(a, b)``;
* pandas: ``CustomBusinessHour(start="09:00", end="18:00", holidays=[...])`` added to
  naive local ``Timestamp``s (pandas' business hours ignore time zones; Almaty has
  had no DST since 2024, so naive local time is exact here) and localised back.
  ``CustomBusinessHour`` only takes a whole number of hours, so pandas gets each
  delta rounded down to whole hours (at least 1 h) and our engine is timed and
  checked on exactly those inputs for the pandas ratio.  pandas has no
  business-time difference, so it has no "between" figure.

Each peer's setup (offset objects, ``Timestamp`` conversion) is done before the
clock starts, which favours the peers.  Every result is checked against the slow
reference implementation of the test-suite (``tests/sla/businesstime_reference.py``).
A peer answer that lands exactly on a closing time is reported as the next
opening by pandas; those are counted as disagreements but also shown separately
as "boundary" cases (same business instant, different wall-clock instant).

Results are merged into ``bench/results.json`` under the key ``"businesstime"``.
Run: ``python bench/bench_businesstime.py [--cases N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"

DESCRIPTION = """
`sla/businesstime.py` keeps working time as sorted UTC intervals with running
totals, built lazily by year blocks and searched by bisection: `add` and
`between` are two binary searches each, flat in the span. The benchmark draws
seeded random cases on Mon–Fri 09:00–18:00 Asia/Almaty with KZ holidays
2025–2027 (starts over two years, business-time deltas from 30 minutes to 30
days), times OpsDesk against `businesstimedelta` (WorkDayRule + HolidayRule)
and pandas' `CustomBusinessHour` in one run, and checks every answer against
the slow reference kept in the tests. pandas works on naive local time with
whole hours only, so both sides are timed on rounded inputs there; its
disagreements are at closing times, where it returns the next opening
instead. A new calendar costs a few milliseconds to build three years, so
OpsDesk caches one per calendar version.
"""
ALMATY = ZoneInfo("Asia/Almaty")
HOUR = timedelta(hours=1)
_ZERO = timedelta(0)


def kz_holidays(first_year: int, last_year: int) -> list[date]:
    """Kazakhstan public holidays (with observed days) from the ``holidays`` package."""
    import holidays

    return sorted(holidays.country_holidays("KZ", years=range(first_year, last_year + 1)))


def calendar_spec(holiday_dates: Sequence[date]) -> dict[str, Any]:
    """The benchmark calendar as a spec: Mon-Fri 09:00-18:00 Almaty plus holidays."""
    return {
        "tz": "Asia/Almaty",
        "week": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": [d.isoformat() for d in holiday_dates],
    }


def make_cases(n: int, seed: int) -> tuple[list[tuple[datetime, timedelta]], list[tuple[datetime, datetime]]]:
    """``n`` add cases and ``n`` between cases.

    Starts are uniform over 2025-2026 (whole seconds); add deltas are log-uniform
    between 30 minutes and 30 days of business time (whole minutes); between
    ends lie 0-120 days (real time) after the start.
    """
    rng = random.Random(seed)
    lo = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2027, 1, 1, tzinfo=UTC) - lo).total_seconds())
    low, high = math.log(30), math.log(30 * 24 * 60)
    adds, betweens = [], []
    for _ in range(n):
        start = lo + timedelta(seconds=rng.randrange(span))
        adds.append((start, timedelta(minutes=round(math.exp(rng.uniform(low, high))))))
        betweens.append((start, start + timedelta(seconds=rng.randrange(120 * 86_400))))
    return adds, betweens


def timed(fn: Callable[..., Any], cases: Sequence[tuple[Any, ...]], repeat: int = 1) -> tuple[float, list[Any]]:
    """Best-of-``repeat`` throughput (ops/s) of ``fn(*case)`` and the results of the last run."""
    best, results = math.inf, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = [fn(*case) for case in cases]
        best = min(best, time.perf_counter() - t0)
    return len(cases) / best, results


def interleaved(runs: dict[str, tuple[Callable[..., Any], Sequence[tuple[Any, ...]]]], rounds: int) -> dict[str, Any]:
    """Time several ``(fn, cases)`` in alternation, ``rounds`` times, keeping each one's best.

    Alternating makes the ratios robust to load changes on a shared machine.
    """
    best: dict[str, float] = dict.fromkeys(runs, 0.0)
    results: dict[str, list[Any]] = {}
    for _ in range(rounds):
        for name, (fn, cases) in runs.items():
            ops, results[name] = timed(fn, cases)
            best[name] = max(best[name], ops)
    return {"ops": best, "results": results}


def count_disagreements(got: Sequence[Any], expected: Sequence[Any]) -> int:
    return sum(1 for g, e in zip(got, expected, strict=True) if g != e)


Runs = dict[str, tuple[Callable[..., Any], list[tuple[Any, ...]]]]


def ours_runs(
    spec: dict[str, Any],
    adds: list[tuple[datetime, timedelta]],
    hour_adds: list[tuple[datetime, timedelta]],
    betweens: list[tuple[datetime, datetime]],
) -> Runs:
    """Our engine: add, add on pandas' whole-hour inputs, between, and fixed deltas for flatness."""
    from sla.businesstime import WorkCalendar

    cal = WorkCalendar.from_spec(spec)
    cal.add(adds[0][0], adds[0][1])  # first use materialises the years around it (one-off, ~ms)
    starts = [start for start, _ in adds]
    runs: Runs = {
        "ours.add": (cal.add, list(adds)),
        "ours.add_whole_hours": (cal.add, list(hour_adds)),
        "ours.between": (cal.between, list(betweens)),
    }
    for label, delta in FLATNESS_DELTAS.items():
        runs[f"ours.flat.{label}"] = (cal.add, [(s, delta) for s in starts])
    return runs


FLATNESS_DELTAS = {"30min": timedelta(minutes=30), "8h": timedelta(hours=8), "30days": timedelta(days=30)}


def businesstimedelta_runs(
    holiday_dates: Sequence[date], adds: list[tuple[datetime, timedelta]], betweens: list[tuple[datetime, datetime]]
) -> Runs:
    """businesstimedelta: WorkDayRule + HolidayRule in the pytz Almaty zone (aware UTC inputs)."""
    import businesstimedelta
    import pytz

    tz = pytz.timezone("Asia/Almaty")
    workday = businesstimedelta.WorkDayRule(
        start_time=time_of_day(9), end_time=time_of_day(18), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    # A frozenset keeps HolidayRule's per-day membership test O(1) (a list would be O(n)).
    rules = businesstimedelta.Rules([workday, businesstimedelta.HolidayRule(frozenset(holiday_dates), tz=tz)])
    add_cases = [(start, businesstimedelta.BusinessTimeDelta(rules, timedelta=delta)) for start, delta in adds]
    return {
        "businesstimedelta.add": (lambda start, btd: (start + btd).astimezone(UTC), add_cases),
        "businesstimedelta.between": (lambda a, b: rules.difference(a, b).timedelta, list(betweens)),
    }


def time_of_day(hour: int) -> Any:
    return datetime(2000, 1, 1, hour).time()


def whole_hours(delta: timedelta) -> timedelta:
    """pandas' CustomBusinessHour takes whole hours only: round down, at least one hour."""
    return max(1, delta // HOUR) * HOUR


def pandas_runs(holiday_dates: Sequence[date], hour_adds: list[tuple[datetime, timedelta]]) -> Runs:
    """pandas: naive local Timestamp + CustomBusinessHour(n) (offsets and Timestamps prepared beforehand)."""
    import pandas as pd
    from pandas.tseries.offsets import CustomBusinessHour

    hols = [d.isoformat() for d in holiday_dates]
    offsets: dict[int, Any] = {}
    cases = []
    for start, delta in hour_adds:
        n = delta // HOUR
        if n not in offsets:
            offsets[n] = CustomBusinessHour(n=n, start="09:00", end="18:00", holidays=hols)
        cases.append((pd.Timestamp(start.astimezone(ALMATY).replace(tzinfo=None)), offsets[n]))
    return {"pandas.add_whole_hours": (lambda ts, offset: ts + offset, cases)}


def pandas_to_utc(results: Sequence[Any]) -> list[datetime]:
    return [r.to_pydatetime().replace(tzinfo=ALMATY).astimezone(UTC) for r in results]


def memory_of_materialised_calendar(first_year: int, last_year: int) -> dict[str, Any]:
    """tracemalloc bytes of a calendar with ``first_year..last_year`` holidays, fully materialised."""
    from sla.businesstime import WorkCalendar

    spec = calendar_spec(kz_holidays(first_year, last_year))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cal = WorkCalendar.from_spec(spec)
    cal.materialize(first_year, last_year)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    span = (datetime(first_year - 1, 12, 30, tzinfo=UTC), datetime(last_year + 1, 1, 3, tzinfo=UTC))
    intervals = sum(1 for _ in cal.windows(*span))
    return {
        "years": f"{first_year}-{last_year}",
        "holidays": len(spec["holidays"]),
        "intervals": intervals,
        "bytes": after - before,
        "peak_bytes": peak - before,
        "bytes_per_interval": round((after - before) / max(intervals, 1), 1),
    }


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def merge_results(payload: dict[str, Any]) -> None:
    """Write ``payload`` under ``"businesstime"`` in results.json, keeping the other keys."""
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data["businesstime"] = payload
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def markdown(payload: dict[str, Any]) -> str:
    rows = [
        "| operation | library | ops/s | ours ÷ peer | disagreements with reference |",
        "|---|---|---:|---:|---:|",
    ]
    for op in ("add", "add_whole_hours", "between"):
        for lib, entry in payload[op].items():
            ratio = entry.get("ratio_ours_over_peer")
            disagreements = f"{entry['disagreements']}/{payload['cases']}"
            if entry.get("boundary_cases"):
                disagreements += f" ({entry['boundary_cases']} at a closing time)"
            rows.append(
                f"| {op} | {lib} | {entry['ops_per_s']:,.0f} | {'' if ratio is None else f'{ratio:,.0f}x'} "
                f"| {disagreements} |"
            )
    flat = payload["flatness_ops_per_s"]
    rows.append("")
    rows.append("| our add, delta | " + " | ".join(flat) + " |")
    rows.append("|---|" + "---:|" * len(flat))
    rows.append("| ops/s | " + " | ".join(f"{v:,.0f}" for v in flat.values()) + " |")
    mem = payload["memory"]
    rows.append("")
    rows.append(
        f"Memory, calendar with {mem['years']} holidays fully materialised: {mem['intervals']:,} intervals, "
        f"{mem['bytes'] / 1024:,.0f} KiB ({mem['bytes_per_interval']} B/interval, "
        f"peak {mem['peak_bytes'] / 1024:,.0f} KiB)"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="random cases per operation (default 1000)")
    parser.add_argument("--seed", type=int, default=20260320)
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds, best kept (default 3)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.sla.businesstime_reference import Reference

    holiday_dates = kz_holidays(2025, 2027)
    spec = calendar_spec(holiday_dates)
    adds, betweens = make_cases(args.cases, args.seed)
    hour_adds = [(start, whole_hours(delta)) for start, delta in adds]

    t0 = time.perf_counter()
    reference = Reference(spec)
    expected = {
        "add": [reference.add(s, d) for s, d in adds],
        "add_whole_hours": [reference.add(s, d) for s, d in hour_adds],
        "between": [reference.between(a, b) for a, b in betweens],
    }
    reference_seconds = time.perf_counter() - t0

    fast = interleaved(
        {**ours_runs(spec, adds, hour_adds, betweens), **pandas_runs(holiday_dates, hour_adds)}, args.rounds
    )
    slow = interleaved(businesstimedelta_runs(holiday_dates, adds, betweens), 1)
    ops = {**fast["ops"], **slow["ops"]}
    results = {**fast["results"], **slow["results"]}
    results["pandas.add_whole_hours"] = pandas_to_utc(results["pandas.add_whole_hours"])

    from sla.businesstime import WorkCalendar

    cal = WorkCalendar.from_spec(spec)
    report: dict[str, dict[str, Any]] = {}
    for op, libs in (
        ("add", ("ours", "businesstimedelta")),
        ("add_whole_hours", ("ours", "pandas")),
        ("between", ("ours", "businesstimedelta")),
    ):
        report[op] = {}
        for lib in libs:
            got, want = results[f"{lib}.{op}"], expected[op]
            row: dict[str, Any] = {
                "ops_per_s": round(ops[f"{lib}.{op}"]),
                "disagreements": count_disagreements(got, want),
            }
            if lib != "ours":
                row["ratio_ours_over_peer"] = round(ops[f"ours.{op}"] / ops[f"{lib}.{op}"], 1)
            if op.startswith("add") and row["disagreements"]:
                # Same business instant, different wall-clock one (closing time vs next opening)?
                row["boundary_cases"] = sum(
                    1 for g, w in zip(got, want, strict=True) if g != w and cal.between(min(g, w), max(g, w)) == _ZERO
                )
            report[op][lib] = row

    payload = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        "versions": {p: version(p) for p in ("businesstimedelta", "pandas", "pytz", "holidays")},
        "calendar": "Mon-Fri 09:00-18:00 Asia/Almaty, KZ holidays 2025-2027 (holidays package)",
        "cases": args.cases,
        "seed": args.seed,
        "inputs": "starts uniform over 2025-2026 (aware UTC, whole seconds); add deltas log-uniform "
        "30 min..30 days of business time (whole minutes); between ends 0..120 days after start",
        **report,
        "flatness_ops_per_s": {label: round(ops[f"ours.flat.{label}"]) for label in FLATNESS_DELTAS},
        "memory": memory_of_materialised_calendar(2015, 2034),
        "reference_seconds": round(reference_seconds, 1),
    }
    merge_results(payload)
    print(markdown(payload))
    return payload


if __name__ == "__main__":
    main()
