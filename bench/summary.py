"""``make bench-summary``: the newest scale-1 and scale-10 bench results against the
performance targets (2 cores, medians of 3 runs).

Reads the newest ``bench/results/<stamp>-scale1.json`` and ``-scale10.json`` that ``python
-m bench`` wrote (or the files given), prints each target with the measured value and
met / missed, including the cross-scale ones, the fixed costs, then the same as a Markdown
table for the README, and writes the checks to ``bench/results/<stamp>-targets.json``. The
other benchmarks' newest figures join them: the dbt modes (``bench.dbt_modes``), a batch's
contracts on each scale's history (``bench.ingest``) and ``make test``'s wall time. A target
whose figure is absent (no such file, a section skipped, an older result format) is "n/a".
``without_training``, ``floor_ratio`` and ``incremental_seconds`` read those figures from a
result of any format. Prints only; it never fails on a missed target.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, load_json, machine, newest_batch_contracts, newest_result

GIB = 1024.0


@dataclass
class Check:
    name: str
    measured: float | None
    limit: float
    unit: str  # "s", "MiB" or "x"
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.measured is None else self.measured <= self.limit

    @property
    def status(self) -> str:
        return {True: "met", False: "MISSED", None: "n/a"}[self.met]


def _fmt(value: float | None, unit: str, limit: float | None = None) -> str:
    """``value`` for the table; next to ``limit``, with a third decimal where two would
    print a missed ratio as the limit itself (1.202 as "1.20x MISSED" against 1.20x)."""
    if value is None:
        return "n/a"
    if unit == "MiB":
        return f"{value / GIB:.2f} GiB"
    if unit == "x":
        close = limit is not None and value != limit and f"{value:.2f}" == f"{limit:.2f}"
        return f"{value:.3f}x" if close else f"{value:.2f}x"
    return f"{value:.1f} s"


def without_training(result: dict | None) -> tuple[float | None, float | None, bool]:
    """(wall seconds without train, peak RSS MiB, whether that RSS includes training); from
    the current format or, for older results, from ``run`` and ``stages``."""
    if not result:
        return None, None, False
    if w := result.get("platform_without_training"):
        return w.get("wall_seconds"), w.get("peak_rss_mib"), bool(w.get("rss_includes_train"))
    run, stages = result.get("run") or {}, result.get("stages") or []
    train = sum(s["seconds"] for s in stages if s["stage"] == "train")
    wall = run.get("seconds")
    return (None if wall is None else wall - train), run.get("peak_rss_mib"), train > 0


def floor_ratio(result: dict | None) -> float | None:
    """Platform without training / compute floor of the same bench run."""
    fl = (result or {}).get("floor") or {}
    if fl.get("ratio") is not None:
        return fl["ratio"]
    wall, _, _ = without_training(result)
    total = fl.get("total_seconds")
    return wall / total if wall is not None and total else None


def incremental_seconds(result: dict | None) -> float | None:
    return ((result or {}).get("incremental") or {}).get("seconds")


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# the dbt mode flows/transform.py runs (bench.dbt_modes names the modes)
PRODUCT_DBT_MODE = "per_wave"


@dataclass
class Extras:
    """Figures that other benchmarks write: the dbt modes (``bench.dbt_modes``), a batch's
    contracts on each scale's history (``bench.ingest``) and the test suite's wall time
    (written by ``make test``'s session hook in ``tests/conftest.py``)."""

    dbt_modes: dict | None = None
    ingest1: dict | None = None
    ingest10: dict | None = None
    test_suite: dict | None = None


def _newest_json(results: Path, pattern: str) -> dict | None:
    files = sorted(results.glob(pattern))
    return load_json(files[-1]) if files else None


def suite_seconds(record: dict | None) -> tuple[float | None, str]:
    """The suite's wall time and a note naming the run. A run with failed tests or a
    non-zero exit is not a measure of the suite (a failure can end a test early): no
    figure, and the note says why."""
    if not record:
        return None, ""
    when = str(record.get("at", ""))[:16].replace("T", " ")
    note = f"{record.get('note', '')}, {when} UTC".strip(", ")
    if record.get("failed") or record.get("exit_status"):
        return None, f"{record.get('seconds')} s not counted: {note}"
    return record.get("seconds"), note


def extras(results: Path = RESULTS) -> Extras:
    return Extras(
        dbt_modes=_newest_json(results, "*-dbt-modes-scale1.json"),
        ingest1=newest_batch_contracts(1, results),
        ingest10=newest_batch_contracts(10, results),
        test_suite=_newest_json(results, "*-test-suite.json"),
    )


def checks(s1: dict | None, s10: dict | None, more: Extras | None = None) -> list[Check]:
    """Every target of the performance issue, measured from the two main results and the
    other benchmarks' newest figures (any may be missing: that target is n/a)."""
    more = more or Extras()
    _, rss10, rss10_train = without_training(s10)
    incr1, incr10 = incremental_seconds(s1), incremental_seconds(s10)
    upper = "whole run incl. training: upper bound"
    dbt_ratio = ((more.dbt_modes or {}).get("ratio_to_cli") or {}).get(PRODUCT_DBT_MODE)
    batch1 = (more.ingest1 or {}).get("batch_contracts_seconds")
    batch10 = (more.ingest10 or {}).get("batch_contracts_seconds")
    suite, suite_note = suite_seconds(more.test_suite)
    return [
        Check("scale 1: platform without training / compute floor", floor_ratio(s1), 4, "x"),
        Check("scale 10: platform without training / compute floor", floor_ratio(s10), 2, "x"),
        Check(
            f"dbt stage through Prefect ({PRODUCT_DBT_MODE}) / plain dbt build, scale 1",
            dbt_ratio,
            1.3,
            "x",
        ),
        Check(
            "1,000-order batch end to end: scale 10 / scale 1",
            _ratio(incr10, incr1),
            1.2,
            "x",
            "" if incr10 is None or incr1 is None else f"{incr1:.1f} s → {incr10:.1f} s",
        ),
        Check(
            "1,000-order batch contracts: scale 10 / scale 1 history",
            _ratio(batch10, batch1),
            1.2,
            "x",
            "" if batch10 is None or batch1 is None else f"{batch1:.2f} s → {batch10:.2f} s",
        ),
        Check(
            "scale 10: peak memory",
            rss10,
            6 * GIB,
            "MiB",
            upper if rss10_train else "",
        ),
        Check("make test, wall", suite, 15 * 60, "s", suite_note),
    ]


def limit_text(c: Check) -> str:
    return f"≤ {_fmt(c.limit, c.unit)}"


def fixed_rows(result: dict | None) -> list[tuple[str, float]]:
    """(label, seconds) of the fixed costs in a result, if measured."""
    f = (result or {}).get("fixed")
    if not f:
        return []
    imp, pw, dbt = f["imports"], f["prefect"], f["dbt_parse"]
    return [
        ("import flows.platform", imp["flows.platform"]["seconds"]),
        ("import cli.main", imp["cli.main"]["seconds"]),
        ("Prefect API start (existing PREFECT_HOME)", pw["api_start"]),
        ("Prefect API start (fresh PREFECT_HOME)", f["prefect_fresh_home"]["api_start"]),
        ("dbt parse, cold", dbt["cold"]),
        ("dbt parse, warm (partial parse)", dbt["warm"]),
        ("dbt parse, new warehouse path", dbt["new_path"]),
    ]


def markdown(rows: list[Check], header: str, fixed: list[tuple[str, float]]) -> str:
    lines = [header, "", "| target | measured | limit | status |", "|---|---|---|---|"]
    for c in rows:
        note = f" ({c.note})" if c.note else ""
        lines.append(
            f"| {c.name} | {_fmt(c.measured, c.unit, c.limit)}{note} | {limit_text(c)} | {c.status} |"
        )
    if fixed:
        lines += ["", "| fixed cost (scale 1 run) | seconds |", "|---|---|"]
        lines += [f"| {label} | {s:.2f} |" for label, s in fixed]
    return "\n".join(lines)


def describe(name: str, path: Path | None, result: dict | None) -> str:
    if result is None:
        return f"{name}: no result (run `make bench SCALE={name.split()[-1]} REPEAT=3`)"
    repeat = result.get("repeat", 1)
    warn = "" if repeat >= 3 else f"; targets are medians of 3, this is of {repeat}"
    trained = any(s.get("stage") == "train" for s in result.get("stages") or [])
    train = "with training" if trained else "no train stage"
    scale = result.get("scale")
    other = "" if scale == float(name.split()[-1]) else f"; CAUTION: a scale-{scale:g} result"
    file = path.name if path else "?"
    return f"{name}: {file} ({result.get('at', '?')[:16]}, {train}{warn}{other})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.summary", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--scale1", type=Path, help="a scale-1 result file (default: newest)")
    parser.add_argument("--scale10", type=Path, help="a scale-10 result file (default: newest)")
    args = parser.parse_args(argv)
    p1 = args.scale1 or newest_result(1.0, args.results)
    p10 = args.scale10 or newest_result(10.0, args.results)
    s1 = load_json(p1) if p1 else None
    s10 = load_json(p10) if p10 else None
    print(describe("scale 1", p1, s1))
    print(describe("scale 10", p10, s10))
    rows = checks(s1, s10, extras(args.results))
    width = max(len(c.name) for c in rows)
    print(f"\n{'target':<{width}}  {'measured':>12}  {'limit':>12}  status")
    for c in rows:
        note = f"  ({c.note})" if c.note else ""
        print(
            f"{c.name:<{width}}  {_fmt(c.measured, c.unit, c.limit):>12}  {limit_text(c):>12}  {c.status}{note}"
        )
    fixed = fixed_rows(s1)
    if fixed:
        print("\nfixed costs (scale-1 run; do not scale with data):")
        for label, s in fixed:
            print(f"  {label:<44}{s:>7.2f} s")
    m = (s1 or s10 or {}).get("machine") or machine()
    when = (s1 or s10 or {}).get("at", datetime.now(UTC).isoformat())[:10]
    repeats = sorted({r.get("repeat", 1) for r in (s1, s10) if r})
    header = (
        f"Machine: {m['cpus']} cores, {m['memory_gib']} GiB, Python {m['python']}; {when}; "
        f"medians of {'/'.join(map(str, repeats)) or '?'} runs (`make bench SCALE=1 REPEAT=3`, "
        "`SCALE=10`, `make bench-summary`)."
    )
    targets = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-targets.json"
    if args.results == RESULTS:
        targets.parent.mkdir(parents=True, exist_ok=True)
        targets.write_text(
            json.dumps(
                [
                    {
                        "target": c.name,
                        "measured": c.measured,
                        "limit": c.limit,
                        "unit": c.unit,
                        "status": c.status,
                        "note": c.note,
                    }
                    for c in rows
                ],
                indent=2,
            )
            + "\n"
        )
        print(f"\nwritten: {targets}")
    print("\nMarkdown for bench/README.md:\n")
    print(markdown(rows, header, fixed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
