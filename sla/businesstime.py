"""Business-time engine: working calendars and business-time arithmetic.

Pure Python (standard library only: no Django, no ORM, no settings), so the
SLA code, management commands, the admin preview and the benchmarks can all
share it.

A calendar is plain data, which is also the import/export format::

    {"tz": "Asia/Almaty",
     "week": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]], ..., "sun": []},
     "holidays": ["2026-03-23"],
     "overrides": {"2026-03-20": [["09:00", "17:00"]]}}

Semantics
---------
* Windows are local wall-clock times in ``tz``; an instant is business time
  when its local reading falls inside one of the windows ``[start, end)`` of
  its own local date.  ``"24:00"`` is allowed as an end.
* A holiday makes the whole local date non-working; an override replaces the
  windows of its date and wins over both ``week`` and ``holidays``.
* DST: each date is converted on its own with :mod:`zoneinfo`, never by adding
  24 h in UTC.  The working set of a window is *exactly* the set of instants
  whose local reading is in ``[start, end)``: a window crossing a spring-forward
  gap is an hour shorter, one crossing an autumn fold an hour longer (both
  passes of the repeated hour count), and a window lying wholly inside a fold
  yields two UTC intervals.

Design
------
The calendar is materialised lazily, by blocks of local years, into three
parallel lists: sorted, disjoint, maximal UTC working intervals
``starts``/``ends`` (aware UTC datetimes) and ``cum``, the running business
time (timedelta) at each interval end.  ``between`` is two bisections
(``cum(end) - cum(start)``) and ``add`` is two bisections (locate the start,
then the target cumulative total), so the cost does not depend on the span.
Working in datetime/timedelta keeps microsecond results exact and avoids any
conversion on the hot path for UTC inputs (what Django hands over).  The
materialised range grows on demand in both directions (supported local years:
2..9997); each state is an immutable snapshot swapped in atomically, so a
calendar may be shared between threads.  Touching windows are merged, so
:meth:`WorkCalendar.windows` yields maximal intervals.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["HORIZON_YEARS", "WEEKDAYS", "CalendarRules", "CalendarSpecError", "WorkCalendar"]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of ``spec["week"]``, Monday first (``date.weekday()`` order)."""

HORIZON_YEARS = 10
"""``add``/``next_opening`` give up after this many years without working time."""

MIN_YEAR = 2
MAX_YEAR = 9997

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ZERO = timedelta(0)
_ONE_S = timedelta(seconds=1)
_DAY = timedelta(days=1)
_DAY_S = 86_400
_HORIZON = timedelta(days=HORIZON_YEARS * 365 + 3)
_OFFSET_PROBE_S = 12 * 3600  # UTC-offset sampling step when looking for DST transitions
# Zero-length interval in front of everything, so that bisection never returns -1.
_SENTINEL = datetime(1, 1, 1, tzinfo=UTC)
_MAX_GROWTH_YEARS = 64

_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Window = tuple[int, int]
"""A working window as (start, end) seconds after local midnight, end <= 86400."""


# --------------------------------------------------------------------------- parsing


class CalendarSpecError(ValueError):
    """An invalid calendar spec; the message starts with the offending field."""


def _fmt_time(seconds: int) -> str:
    """Format seconds after midnight as ``HH:MM`` (``24:00`` for 86400)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _parse_time(value: Any, where: str, *, is_end: bool) -> int:
    """Parse ``HH:MM`` (``H:MM`` accepted; ``24:00`` only as an end) to seconds."""
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarSpecError(f"{where}: bad time {value!r}")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise CalendarSpecError(f"{where}: bad time {value!r}")
    if hours == 24 and not is_end:
        raise CalendarSpecError(f"{where}: 24:00 is only allowed as an end")
    return hours * 3600 + minutes * 60


def _parse_windows(value: Any, where: str) -> tuple[Window, ...]:
    """Parse a list of ``[start, end]`` pairs; sorted, checked for overlaps."""
    if not isinstance(value, (list, tuple)):
        raise CalendarSpecError(f"{where}: windows must be a list, got {type(value).__name__}")
    parsed: list[tuple[int, int, int]] = []
    for i, item in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise CalendarSpecError(f"{here}: expected a [start, end] pair, got {item!r}")
        start = _parse_time(item[0], here, is_end=False)
        end = _parse_time(item[1], here, is_end=True)
        if end <= start:
            raise CalendarSpecError(f"{here}: end {_fmt_time(end)} is not after start {_fmt_time(start)}")
        parsed.append((start, end, i))
    parsed.sort()
    for (s0, e0, i0), (s1, e1, i1) in pairwise(parsed):
        if s1 < e0:
            first, second = sorted(((i0, s0, e0), (i1, s1, e1)))
            raise CalendarSpecError(
                f"{where}[{second[0]}]: {_fmt_time(second[1])}-{_fmt_time(second[2])} "
                f"overlaps {where}[{first[0]}] {_fmt_time(first[1])}-{_fmt_time(first[2])}"
            )
    return tuple((s, e) for s, e, _ in parsed)


def _parse_date(value: Any, where: str) -> date:
    """Parse an ISO ``YYYY-MM-DD`` string (or accept a ``date``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise CalendarSpecError(where) from None
    else:
        raise CalendarSpecError(where)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise CalendarSpecError(f"{where} (outside years {MIN_YEAR}-{MAX_YEAR})")
    return parsed


def _parse_tz(value: Any) -> ZoneInfo:
    """Resolve an IANA time-zone key."""
    if not isinstance(value, str) or not value:
        raise CalendarSpecError(f"tz: expected an IANA time zone name, got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarSpecError(f"tz: unknown time zone {value!r}") from None


def _parse_week(value: Any) -> tuple[tuple[Window, ...], ...]:
    """Parse ``spec["week"]``; missing weekdays have no working time."""
    if not isinstance(value, Mapping):
        raise CalendarSpecError(f"week: expected an object keyed by weekday, got {type(value).__name__}")
    for key in value:
        if key not in WEEKDAYS:
            raise CalendarSpecError(f"week: unknown weekday {key!r} (expected one of {', '.join(WEEKDAYS)})")
    return tuple(_parse_windows(value.get(day, []), f"week.{day}") for day in WEEKDAYS)


def _parse_holidays(value: Any) -> frozenset[date]:
    """Parse ``spec["holidays"]``: a list of ISO dates."""
    if not isinstance(value, (list, tuple)):
        raise CalendarSpecError(f"holidays: expected a list of dates, got {type(value).__name__}")
    return frozenset(_parse_date(item, f"holidays[{i}]: bad date {item!r}") for i, item in enumerate(value))


def _parse_overrides(value: Any) -> tuple[tuple[date, tuple[Window, ...]], ...]:
    """Parse ``spec["overrides"]``: ISO date -> windows (``[]`` = day off)."""
    if not isinstance(value, Mapping):
        raise CalendarSpecError(f"overrides: expected an object keyed by date, got {type(value).__name__}")
    result: dict[date, tuple[Window, ...]] = {}
    for key, windows in value.items():
        day = _parse_date(key, f"overrides.{key}: bad date")
        if day in result:
            raise CalendarSpecError(f"overrides.{key}: duplicate date")
        result[day] = _parse_windows(windows, f"overrides.{key}")
    return tuple(sorted(result.items()))


_SPEC_KEYS = frozenset({"tz", "week", "holidays", "overrides"})


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """The validated, normalised content of a calendar spec (hashable)."""

    tz_name: str
    week: tuple[tuple[Window, ...], ...]
    holidays: frozenset[date]
    overrides: tuple[tuple[date, tuple[Window, ...]], ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CalendarRules:
        """Validate ``spec``; raise :class:`CalendarSpecError` (a ``ValueError``) naming the field."""
        if not isinstance(spec, Mapping):
            raise CalendarSpecError(f"spec: expected an object, got {type(spec).__name__}")
        unknown = sorted(str(k) for k in spec if k not in _SPEC_KEYS)
        if unknown:
            raise CalendarSpecError(f"spec: unknown key {unknown[0]!r} (expected tz, week, holidays, overrides)")
        if "tz" not in spec:
            raise CalendarSpecError("tz: required")
        tz = _parse_tz(spec["tz"])
        return cls(
            tz_name=tz.key,
            week=_parse_week(spec.get("week", {})),
            holidays=_parse_holidays(spec.get("holidays", [])),
            overrides=_parse_overrides(spec.get("overrides", {})),
        )

    def to_spec(self) -> dict[str, Any]:
        """The normalised plain-data form (all seven weekdays, sorted dates)."""

        def windows(ws: tuple[Window, ...]) -> list[list[str]]:
            return [[_fmt_time(s), _fmt_time(e)] for s, e in ws]

        return {
            "tz": self.tz_name,
            "week": {day: windows(ws) for day, ws in zip(WEEKDAYS, self.week, strict=True)},
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "overrides": {d.isoformat(): windows(ws) for d, ws in self.overrides},
        }

    @property
    def has_windows(self) -> bool:
        """Whether any weekday or override has a working window at all."""
        return any(self.week) or any(ws for _, ws in self.overrides)


# --------------------------------------------------------------------- time zones


def _utc_offset_s(tz: ZoneInfo, t: int) -> int:
    """UTC offset of ``tz`` (whole seconds) at the UTC instant ``t`` (epoch seconds)."""
    try:
        local = datetime.fromtimestamp(t, tz)
    except (OverflowError, OSError, ValueError):  # platform limits: plain arithmetic
        local = (_EPOCH + timedelta(seconds=t)).astimezone(tz)
    offset = local.utcoffset()
    assert offset is not None
    return offset // _ONE_S


def _offset_segments(tz: ZoneInfo, lo: int, hi: int) -> tuple[list[int], list[int]]:
    """UTC-offset history of ``tz`` over epoch seconds ``[lo, hi]``.

    Returns ``(transitions, offsets)``: ``offsets[k]`` is in force on
    ``[transitions[k-1], transitions[k])`` (unbounded at both ends).  The offset
    is sampled every twelve hours and each change is bisected to the second
    (a change undone within twelve hours would be missed; tzdata has none).
    """
    transitions: list[int] = []
    current = _utc_offset_s(tz, lo)
    offsets = [current]
    t = lo
    while t < hi:
        probe = min(t + _OFFSET_PROBE_S, hi)
        if _utc_offset_s(tz, probe) == current:
            t = probe
            continue
        a, b = t, probe  # offset(a) == current != offset(b)
        while b - a > 1:
            mid = (a + b) // 2
            if _utc_offset_s(tz, mid) == current:
                a = mid
            else:
                b = mid
        current = _utc_offset_s(tz, b)
        transitions.append(b)
        offsets.append(current)
        t = b
    return transitions, offsets


def _window_pieces(
    wall_start: int, wall_end: int, transitions: list[int], offsets: list[int]
) -> Iterator[tuple[int, int]]:
    """UTC intervals (epoch seconds) whose local reading is in ``[wall_start, wall_end)``.

    ``wall_*`` are local wall-clock readings expressed as if they were UTC epoch
    seconds.  Within one offset segment the local reading is ``t + offset``, so
    the working set there is ``[wall_start - offset, wall_end - offset)`` clipped
    to the segment; gaps and folds fall out of the clipping.
    """
    k_first = bisect_right(transitions, wall_start - _DAY_S)
    k_last = bisect_right(transitions, wall_end + _DAY_S)
    for k in range(k_first, k_last + 1):
        offset = offsets[k]
        lo = wall_start - offset
        hi = wall_end - offset
        if k > 0 and transitions[k - 1] > lo:
            lo = transitions[k - 1]
        if k < len(transitions) and transitions[k] < hi:
            hi = transitions[k]
        if lo < hi:
            yield lo, hi


# ------------------------------------------------------------------------- index


@dataclass(frozen=True, slots=True)
class _Index:
    """Immutable snapshot of the materialised working intervals.

    ``starts``/``ends`` are sorted, disjoint, maximal working intervals as aware
    UTC datetimes (all sharing the ``UTC`` tzinfo object, so comparisons are a
    plain field comparison) and ``cum[i]`` is the business time from the first
    interval up to ``ends[i]``.  ``starts[0] == ends[0]`` is a zero-length
    sentinel with ``cum[0] == 0``.

    Every interval of local years ``[first_year, end_year)`` is present, so any
    instant ``t`` with ``lo <= t < hi`` is answered exactly: dates before
    ``first_year`` only produce instants ``< lo`` and dates from ``end_year`` on
    only instants ``>= hi`` (UTC offsets are less than a day).
    """

    first_year: int
    end_year: int
    lo: datetime
    hi: datetime
    starts: list[datetime]
    ends: list[datetime]
    cum: list[timedelta]


def _year_start(year: int, shift: timedelta) -> datetime:
    """The wall-clock reading of 1 January ``year`` 00:00 taken as UTC, plus ``shift``."""
    return datetime(year, 1, 1, tzinfo=UTC) + shift


def _utc(value: datetime, name: str) -> datetime:
    """An aware datetime converted to UTC (``ValueError`` for naive or non-datetimes)."""
    if value.__class__ is datetime and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name}: expected an aware datetime, got {value!r}")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name}: {value!r} is out of range") from None
    if utc.__class__ is not datetime:  # e.g. pandas.Timestamp: keep results plain datetimes
        utc = datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC)
    return utc


def _check_delta(delta: timedelta) -> None:
    """Reject non-timedeltas and negative deltas."""
    if not isinstance(delta, timedelta):
        raise TypeError(f"delta: expected a timedelta, got {delta!r}")
    if delta < _ZERO:
        raise ValueError(f"delta: must not be negative, got {delta}")


class WorkCalendar:
    """A working calendar with exact, span-independent business-time arithmetic.

    Build it with :meth:`from_spec`; export it with :meth:`spec`.  All results
    are aware datetimes in UTC with microsecond precision.  Working intervals
    are stored merged: windows that touch (``18:00-24:00`` followed by the next
    day's ``00:00-...``) form one interval, which is what :meth:`windows` yields.
    """

    __slots__ = ("_holidays", "_index", "_lock", "_overrides", "_tz", "_week", "rules")

    def __init__(self, rules: CalendarRules) -> None:
        self.rules = rules
        self._tz = ZoneInfo(rules.tz_name)
        self._week = rules.week
        self._holidays = {d.toordinal() for d in rules.holidays}
        self._overrides = {d.toordinal(): ws for d, ws in rules.overrides}
        self._index: _Index | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ building

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> WorkCalendar:
        """Validate a plain-data spec; :class:`CalendarSpecError` (a ``ValueError``) names the bad field."""
        return cls(CalendarRules.from_spec(spec))

    @classmethod
    def always(cls, tz: str = "UTC") -> WorkCalendar:
        """A 24/7 calendar (every local day ``00:00-24:00``)."""
        return cls.from_spec({"tz": tz, "week": {day: [["00:00", "24:00"]] for day in WEEKDAYS}})

    def spec(self) -> dict[str, Any]:
        """The normalised plain-data spec; ``from_spec(c.spec())`` equals ``c``."""
        return self.rules.to_spec()

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._tz

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkCalendar) and other.rules == self.rules

    def __hash__(self) -> int:
        return hash(self.rules)

    def __repr__(self) -> str:
        rules = self.rules
        return f"<WorkCalendar tz={rules.tz_name} holidays={len(rules.holidays)} overrides={len(rules.overrides)}>"

    def day_windows(self, day: date) -> list[list[str]]:
        """The effective local windows of ``day`` (after holidays and overrides), spec-style."""
        return [[_fmt_time(s), _fmt_time(e)] for s, e in self._windows_on_ordinal(day.toordinal())]

    def _windows_on_ordinal(self, ordinal: int) -> tuple[Window, ...]:
        windows = self._overrides.get(ordinal)
        if windows is not None:
            return windows
        if ordinal in self._holidays:
            return ()
        return self._week[(ordinal - 1) % 7]  # date.fromordinal(1) is a Monday

    def _year_pieces(self, first_year: int, end_year: int) -> list[tuple[int, int]]:
        """UTC working pieces (epoch seconds) of local dates in ``[first_year, end_year)``."""
        first = date(first_year, 1, 1).toordinal()
        last = date(end_year, 1, 1).toordinal()
        base0 = (first - _EPOCH_ORDINAL) * _DAY_S
        transitions, offsets = _offset_segments(self._tz, base0 - 2 * _DAY_S, (last - _EPOCH_ORDINAL + 2) * _DAY_S)
        pieces: list[tuple[int, int]] = []
        append = pieces.append
        k = 0  # transitions[:k] all lie more than two days before the current date
        for ordinal in range(first, last):
            windows = self._windows_on_ordinal(ordinal)
            if not windows:
                continue
            base = (ordinal - _EPOCH_ORDINAL) * _DAY_S
            while k < len(transitions) and transitions[k] < base - 2 * _DAY_S:
                k += 1
            if k == len(transitions) or transitions[k] > base + 3 * _DAY_S:
                offset = offsets[k]  # one offset for the whole neighbourhood of this date
                for start, end in windows:
                    append((base + start - offset, base + end - offset))
            else:
                for start, end in windows:
                    pieces.extend(_window_pieces(base + start, base + end, transitions, offsets))
        return pieces

    def _rebuild(self, old: _Index | None, first_year: int, end_year: int) -> _Index:
        """A new snapshot covering ``[first_year, end_year)``, reusing ``old``'s intervals."""
        if old is None:
            spans = [(first_year, end_year)]
        else:
            spans = [(first_year, old.first_year), (old.end_year, end_year)]
        pieces: list[tuple[datetime, datetime]] = [
            (_EPOCH + _ONE_S * start, _EPOCH + _ONE_S * end)
            for a, b in spans
            if a < b
            for start, end in self._year_pieces(a, b)
        ]
        if old is not None:
            pieces.extend(zip(old.starts[1:], old.ends[1:], strict=True))
        pieces.sort()
        starts = [_SENTINEL]
        ends = [_SENTINEL]
        for start, end in pieces:
            if start <= ends[-1]:  # touching (or, defensively, overlapping): merge
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        cum = list(accumulate(e - s for s, e in zip(starts, ends, strict=True)))
        return _Index(
            first_year=first_year,
            end_year=end_year,
            lo=_year_start(first_year, _DAY),
            hi=_year_start(end_year, -_DAY),
            starts=starts,
            ends=ends,
            cum=cum,
        )

    def _cover(self, lo: datetime, hi: datetime) -> _Index:
        """A snapshot able to answer every UTC instant in ``[lo, hi]``."""
        index = self._index
        if index is not None and index.lo <= lo and hi < index.hi:
            return index
        need_first = lo.year - 1
        need_end = hi.year + 2
        if need_first < MIN_YEAR or need_end > MAX_YEAR + 1:
            raise ValueError(f"business time is only supported for years {MIN_YEAR}-{MAX_YEAR}")
        with self._lock:
            index = self._index
            if index is None:
                first_year, end_year = need_first, need_end
            else:
                span = min(index.end_year - index.first_year, _MAX_GROWTH_YEARS)
                first_year, end_year = index.first_year, index.end_year
                if need_first < first_year:
                    first_year = max(MIN_YEAR, min(need_first, first_year - span))
                if need_end > end_year:
                    end_year = min(MAX_YEAR + 1, max(need_end, end_year + span))
                if (first_year, end_year) == (index.first_year, index.end_year):
                    return index
            index = self._rebuild(index, first_year, end_year)
            self._index = index
            return index

    def _grow_forward(self, index: _Index, after: datetime) -> _Index:
        """Extend past ``index.hi``, or raise if there has been no working time for ten years."""
        if not self.rules.has_windows:
            raise ValueError("no working time: the calendar has no working windows")
        since = max(after, index.ends[-1])
        if index.hi - since > _HORIZON or index.end_year > MAX_YEAR:
            raise ValueError(f"no working time within {HORIZON_YEARS} years after {since.isoformat()}")
        return self._cover(index.lo, min(index.hi, datetime(MAX_YEAR - 2, 1, 1, tzinfo=UTC)) + 4 * 366 * _DAY)

    def materialize(self, first_year: int, last_year: int) -> None:
        """Precompute local years ``first_year..last_year`` (inclusive); optional warm-up."""
        if not MIN_YEAR <= first_year <= last_year <= MAX_YEAR:
            raise ValueError(f"years must be within {MIN_YEAR}-{MAX_YEAR}")
        with self._lock:
            index = self._index
            if index is not None:
                first_year = min(first_year, index.first_year)
                last_year = max(last_year, index.end_year - 1)
            self._index = self._rebuild(index, first_year, last_year + 1)

    # ----------------------------------------------------------------- queries

    def is_working(self, at: datetime) -> bool:
        """Whether ``at`` is business time."""
        t = _utc(at, "at")
        index = self._index
        if index is None or not index.lo <= t < index.hi:
            index = self._cover(t, t)
        return t < index.ends[bisect_right(index.starts, t) - 1]

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (in UTC) if working, else the start of the next working window."""
        t = _utc(at, "at")
        index = self._cover(t, t)
        while True:
            starts = index.starts
            i = bisect_right(starts, t) - 1
            if t < index.ends[i]:
                return t
            if i + 1 < len(starts) and starts[i + 1] < index.hi:
                return starts[i + 1]
            index = self._grow_forward(index, t)

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The UTC instant at which ``delta`` of business time has elapsed since ``start``.

        ``delta == 0`` returns ``start`` itself (in UTC), even outside working
        time; a result that lands exactly on a window end is that end.
        """
        # Hot path: two bisections and four timedelta operations, whatever the span.
        t = start if start.__class__ is datetime and start.tzinfo is UTC else _utc(start, "start")
        if delta.__class__ is not timedelta or delta <= _ZERO:
            _check_delta(delta)
            if not delta:
                return t
        index = self._index
        if index is None or not index.lo <= t < index.hi:
            index = self._cover(t, t)
        while True:
            starts, ends, cum = index.starts, index.ends, index.cum
            i = bisect_right(starts, t) - 1
            end = ends[i]
            # business time elapsed from the first interval up to t, plus delta
            target = cum[i] + delta - (end - t) if t < end else cum[i] + delta
            j = bisect_left(cum, target)
            if j < len(cum) and starts[j] < index.hi:
                return ends[j] - (cum[j] - target)
            index = self._grow_forward(index, t)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; negative (``-between(end, start)``) if end < start."""
        a = start if start.__class__ is datetime and start.tzinfo is UTC else _utc(start, "start")
        b = end if end.__class__ is datetime and end.tzinfo is UTC else _utc(end, "end")
        index = self._index
        if index is None or not (index.lo <= a < index.hi and index.lo <= b < index.hi):
            index = self._cover(a, b) if a <= b else self._cover(b, a)
        starts, ends, cum = index.starts, index.ends, index.cum
        i = bisect_right(starts, a) - 1
        j = bisect_right(starts, b) - 1
        end_i, end_j = ends[i], ends[j]
        cum_a = cum[i] - (end_i - a) if a < end_i else cum[i]
        cum_b = cum[j] - (end_j - b) if b < end_j else cum[j]
        return cum_b - cum_a

    # --------------------------------------------------------- business days

    def _local_instant(self, ordinal: int, seconds: int) -> datetime:
        """The UTC instant of ``seconds`` after local midnight of the date ``ordinal``."""
        local = datetime.combine(date.fromordinal(ordinal), datetime.min.time()) + timedelta(seconds=seconds)
        return local.replace(tzinfo=self._tz).astimezone(UTC)

    def _working_day(self, ordinal: int, days: int) -> int:
        """The ``days``-th working day (a local date with windows) after ``ordinal``, itself a working day."""
        if days < 0:
            raise ValueError("days must not be negative")
        limit = ordinal + _HORIZON.days
        while days:
            ordinal += 1
            if ordinal > limit:
                raise ValueError("no working day within the horizon")
            if self._windows_on_ordinal(ordinal):
                days -= 1
        return ordinal

    def _working_start(self, start: datetime) -> tuple[int, int, int]:
        """The working instant ``start`` counts from (``next_opening``): local date ordinal, seconds, microseconds."""
        if not self.rules.has_windows:
            raise ValueError("the calendar has no working hours")
        local = self.next_opening(start).astimezone(self._tz)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        ordinal = local.date().toordinal()
        if seconds == 0 and not any(s <= 0 < e for s, e in self._windows_on_ordinal(ordinal)):
            # An opening at midnight that continues the day before (a window ending 24:00): the earlier day.
            ordinal, seconds = ordinal - 1, _DAY_S
        return ordinal, seconds, local.microsecond

    def add_days(self, start: datetime, days: int) -> datetime:
        """``days`` working days after ``start``: the same local time on the ``days``-th working day.

        "3 days" means three working days of the calendar, not 72 hours of business time: a ticket
        opened on Monday at 15:00 is due on Thursday at 15:00 (Friday with a holiday in between).
        Counting starts at :meth:`next_opening` of ``start`` (a Saturday request counts from Monday's
        opening). A local time outside the target day's working hours moves to its next window, or to
        the day's close if it has none later (a shortened day); microseconds are kept.
        """
        ordinal, seconds, micro = self._working_start(start)
        target = self._working_day(ordinal, days)
        windows = self._windows_on_ordinal(target)
        for window_start, window_end in windows:
            if seconds < window_end:
                at = max(seconds, window_start)
                return self._local_instant(target, at) + timedelta(microseconds=micro if at == seconds else 0)
        return self._local_instant(target, windows[-1][1])

    def end_of_day(self, start: datetime, days_after: int = 0) -> datetime:
        """The close of the working day ``start`` falls in, or of the ``days_after``-th working day after it.

        "By the end of the business day": a request after the close (or on a day off) counts from the
        next opening, so it is due at the close of the next working day.
        """
        ordinal, _seconds, _micro = self._working_start(start)
        target = self._working_day(ordinal, days_after)
        return self._local_instant(target, self._windows_on_ordinal(target)[-1][1])

    def windows(self, from_: datetime, to: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals ``(start_utc, end_utc)`` clipped to ``[from_, to)``, in order.

        Touching windows are merged into one maximal interval (a 24/7 calendar
        yields a single interval).  Arguments are validated eagerly.
        """
        lo = _utc(from_, "from_")
        hi = _utc(to, "to")
        if hi <= lo:
            return iter(())
        return self._iter_windows(self._cover(lo, hi), lo, hi)

    @staticmethod
    def _iter_windows(index: _Index, lo: datetime, hi: datetime) -> Iterator[tuple[datetime, datetime]]:
        starts, ends = index.starts, index.ends
        i = bisect_right(starts, lo) - 1
        if ends[i] <= lo:
            i += 1
        while i < len(starts) and starts[i] < hi:
            yield max(starts[i], lo), min(ends[i], hi)
            i += 1
