"""Run every OpsDesk benchmark, merge results into bench/results.json, rewrite docs/performance.md.

Usage: ``make bench`` (or ``.venv/bin/python bench/run.py [--only NAME ...] [--quick]``).
Each benchmark module exposes ``main(argv) -> payload`` (it merges its own key into
results.json) and ``markdown(payload) -> str``. Timings are measured here, never asserted
in the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "performance.md"

# name -> (module, title, argv for a full run, argv for --quick)
BENCHES = {
    "businesstime": ("bench.bench_businesstime", "Business-time engine", [], ["--cases", "300", "--rounds", "1"]),
    "seed_demo": ("bench.bench_seed", "Demo data generation", [], ["--tickets", "10000"]),
    "reports": ("bench.bench_reports", "Dashboard and reports", [], ["--tickets", "20000", "--rounds", "3"]),
    "dashboard": ("bench.bench_dashboard", "Dashboard at scale (open tickets with running clocks)", [],
                  ["--quick"]),
    "routing": ("bench.bench_routing", "Routing and VIP evaluation", [],
                ["--tickets", "1000", "--db-tickets", "500", "--customers", "10000"]),
    "sweep": ("bench.bench_sweep", "Escalation sweep", [], ["--sizes", "10000", "100000"]),
    "email": ("bench.bench_email", "Receiving email", [], ["--emails", "100"]),
    "intake": ("bench.bench_intake", "Intake API over HTTP", [], ["--tickets", "300", "--messages", "500"]),
    # PostgreSQL at 1,000,000 tickets: add --postgres postgres://…/<your database> (run the module directly).
    "pages": ("bench.bench_pages", "Agent pages: list, My work, intake, ticket page",
              ["--tickets", "100000", "--throughput", "10000", "100000"],
              ["--tickets", "10000", "--rounds", "5", "--throughput", "10000", "--seconds", "3"]),
    "search": ("bench.bench_search", "Search", [], ["--tickets", "100000", "--rounds", "10"]),
}

INTRO = """# Performance

Figures measured by `make bench` on this project's machines (2 cores, 24 GiB).
They are written to `bench/results.json` by the benchmarks and summarised here
by `bench/run.py`; nothing here is typed by hand. The test suite never asserts
timings.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    for name in args.only or BENCHES:
        module, title, full, quick = BENCHES[name]
        print(f"== {title} ==", flush=True)
        importlib.import_module(module).main(quick if args.quick else full)
    write_doc()


def write_doc() -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    parts = [INTRO]
    for name, (module, title, _full, _quick) in BENCHES.items():
        if name not in data:
            continue
        mod = importlib.import_module(module)
        payload = data[name]
        parts.append(f"## {title}\n")
        if getattr(mod, "DESCRIPTION", ""):
            parts.append(mod.DESCRIPTION.strip() + "\n")
        parts.append(f"Measured {payload.get('generated', '?')}.\n")
        parts.append(mod.markdown(payload) + "\n")
    DOC.write_text("\n".join(parts))
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
