"""``make bench-summary``: the newest scale-1 and scale-10 bench results against issue 8's
targets (2 cores, medians of 3 runs).

Reads the newest ``bench/results/<stamp>-scale1.json`` and ``-scale10.json`` that ``python
-m bench`` wrote (or the files given), prints each target with the measured value and
met / missed, including the cross-scale ones, the fixed costs, then the same as a Markdown
table for the README. A target whose figure is absent (no such file, a section skipped, an
older result format) is "n/a". Prints only; it never fails on a missed target.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, load_json, machine, newest_result

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


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "MiB":
        return f"{value / GIB:.2f} GiB"
    if unit == "x":
        return f"{value:.2f}x"
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


def checks(s1: dict | None, s10: dict | None) -> list[Check]:
    """Every target of issue 8, measured from the two results (either may be None)."""
    wall1, rss1, rss1_train = without_training(s1)
    wall10, rss10, rss10_train = without_training(s10)
    incr1, incr10 = incremental_seconds(s1), incremental_seconds(s10)
    upper = "whole run incl. training: upper bound"
    return [
        Check("scale 1: platform without training, wall", wall1, 60, "s"),
        Check(
            "scale 1: platform without training, peak RSS",
            rss1,
            2 * GIB,
            "MiB",
            upper if rss1_train else "",
        ),
        Check("scale 1: platform without training / compute floor", floor_ratio(s1), 6, "x"),
        Check(
            "scale 10 / scale 1: time without training",
            _ratio(wall10, wall1),
            12,
            "x",
            "" if wall10 is None else f"scale 10: {wall10:.1f} s",
        ),
        Check(
            "scale 10: platform without training, peak RSS",
            rss10,
            6 * GIB,
            "MiB",
            upper if rss10_train else "",
        ),
        Check("scale 1: incremental 1,000-order batch", incr1, 20, "s"),
        Check(
            "incremental: scale 10 / scale 1",
            _ratio(incr10, incr1),
            1.5,
            "x",
            "" if incr10 is None else f"scale 10: {incr10:.1f} s",
        ),
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
        ("import olist.cli", imp["olist.cli"]["seconds"]),
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
            f"| {c.name} | {_fmt(c.measured, c.unit)}{note} | {limit_text(c)} | {c.status} |"
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
    rows = checks(s1, s10)
    width = max(len(c.name) for c in rows)
    print(f"\n{'target':<{width}}  {'measured':>12}  {'limit':>12}  status")
    for c in rows:
        note = f"  ({c.note})" if c.note else ""
        print(
            f"{c.name:<{width}}  {_fmt(c.measured, c.unit):>12}  {limit_text(c):>12}  {c.status}{note}"
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
    print("\nMarkdown for the README:\n")
    print(markdown(rows, header, fixed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
