"""Benchmarks (``make bench``; ``bench/run.py`` runs them and writes ``docs/performance.md``)."""

from __future__ import annotations

import time


def reference_ms() -> float:
    """How fast this machine runs plain Python right now: the best of five runs of a fixed loop, in milliseconds.

    Saved beside a benchmark's figures: on these shared machines the same code's throughput moved by up to half
    between sessions (the speed of the machine, not of the code), and this figure tells the runs apart. It varies
    with the machine as request-handling CPU does; lower is faster.
    """
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(1000 * best, 1)
