"""``make bench-ingest SCALE=1``: ingest + contract validation throughput, in process, and
the contracts of a 1,000-order batch on that scale's history.

Generates the data set once per scale (reused afterwards), then times strict parsing into
``landing`` and the contracts into ``bronze``/``quarantine`` on a fresh DuckDB file,
printing rows/s and the process's peak RSS. Then, on the history just loaded and in a new
process (as an incremental run is), it lands
``--batches`` (default 5) fresh 1,000-order JSON batches one after the other and times the
batch's parse (``batches.land_batches``) and its contracts (``batches.clean_batches``:
pandera on the batch's rows, the orphan checks as SQL over bronze): the median is the
figure. The contracts of a batch must cost what the batch holds, so once both scale 1 and
scale 10 have a result, it prints the scale-10 / scale-1 ratio of that median against the
limit of 1.2 (at most 20% growth with ten times the history). Figures are printed, never
asserted.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench.common import RESULTS, ROOT, median, newest_batch_contracts, scale_data
from ingestion import batches, cleaning
from ingestion import csv_files as ingest
from synthetic.batches import generate_batch
from warehouse import local as warehouse

BATCH_ORDERS = 1_000
# a batch's contracts may grow by at most 20% with ten times the history (issue: warehouse)
BATCH_GROWTH_LIMIT = 1.2


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _batch_contracts(
    con: duckdb.DuckDBPyConnection, data: Path, work: Path, count: int, seed: int
) -> dict:
    """Land ``count`` fresh 1,000-order batches one at a time on the loaded history; the
    median parse and contracts seconds of one batch."""
    parse, contracts, loaded = [], [], 0
    for n in range(count):
        folder = work / f"batch-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        generate_batch(data, folder, BATCH_ORDERS, seed=seed * 1000 + n)
        start = time.perf_counter()
        batches.land_batches(con, folder, f"bench-batch-{n}")
        landed = time.perf_counter()
        results, _, ok = batches.clean_batches(con, f"bench-batch-{n}", threshold=1.0)
        done = time.perf_counter()
        if not ok:
            raise SystemExit(f"batch {n} did not load: the benchmark measures a good batch")
        loaded += sum(r.accepted for r in results if r.table == "batch_orders")
        parse.append(landed - start)
        contracts.append(done - landed)
    return {
        "batch_orders": BATCH_ORDERS,
        "batches": count,
        "batch_orders_loaded": loaded,
        "batch_parse_seconds": round(median(parse) or 0.0, 3),
        "batch_contracts_seconds": round(median(contracts) or 0.0, 3),
    }


# the batch timing's own process: ``python -c`` with the warehouse, data, work folder, count, seed
_FRESH = """
import json, sys
from pathlib import Path
from bench.ingest import _batch_contracts
from warehouse import local as warehouse
wh, data, work, count, seed = sys.argv[1:]
with warehouse.connect(Path(wh)) as con:
    got = _batch_contracts(con, Path(data), Path(work), int(count), int(seed))
print("RESULT " + json.dumps(got))
"""


def _batch_contracts_in_a_new_process(
    wh: Path, data: Path, work: Path, count: int, seed: int
) -> dict:
    """``_batch_contracts`` in a process of its own, as an incremental run is: the process
    that has just loaded the whole history holds its heap (a scale-10 load leaves ~2 GiB
    behind), which slowed the batch after it by more than the batch's own SQL grew."""
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, str(wh), str(data), str(work), str(count), str(seed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the batch timing failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def print_growth(results: Path = RESULTS) -> None:
    """Scale 10 against scale 1: the full contracts stage and a batch's contracts."""
    small, large = newest_batch_contracts(1, results), newest_batch_contracts(10, results)
    if small is None or large is None:
        print("(run scale 1 and scale 10 to see how a batch's contracts grow with history)")
        return
    ratio = large["batch_contracts_seconds"] / max(small["batch_contracts_seconds"], 1e-9)
    status = "met" if ratio <= BATCH_GROWTH_LIMIT else "missed"
    print()
    print("| figure | scale 1 | scale 10 | scale 10 / scale 1 | limit | status |")
    print("|---|---:|---:|---:|---:|---|")
    print(
        f"| contracts stage, full load (s) | {small['contracts_seconds']} | "
        f"{large['contracts_seconds']} | "
        f"{large['contracts_seconds'] / max(small['contracts_seconds'], 1e-9):.2f}× | | |"
    )
    print(
        f"| contracts of a {BATCH_ORDERS:,}-order batch (s, median) | "
        f"{small['batch_contracts_seconds']} | {large['batch_contracts_seconds']} | "
        f"{ratio:.2f}× | ≤ {BATCH_GROWTH_LIMIT}× | {status} |"
    )


def main(argv: list[str] | None = None) -> int:
    args, work, data = scale_data(
        "python -m bench.ingest",
        __doc__.splitlines()[0],
        argv,
        extra=lambda p: p.add_argument(
            "--batches", type=int, default=5, help="1,000-order batches to time (default 5)"
        ),
    )
    wh_dir = work / "ingest-bench"
    shutil.rmtree(wh_dir, ignore_errors=True)
    wh_dir.mkdir(parents=True)
    with warehouse.connect(wh_dir / "wh.duckdb") as con:
        start = time.perf_counter()
        landed = ingest.ingest_folder(con, data, "bench")
        parsed = time.perf_counter()
        outcome = cleaning.clean_all(con, "bench", landed.tables, quarantine_threshold=1.0)
        done = time.perf_counter()
    peak = _peak_mib()  # of the full load: the batch runs in a process of its own
    batch = _batch_contracts_in_a_new_process(
        wh_dir / "wh.duckdb", data, wh_dir, args.batches, args.seed
    )
    rows = sum(f.source_records for f in landed.landed)
    result = {
        "scale": args.scale,
        "rows": rows,
        "at": datetime.now(UTC).isoformat(),
        "ingest_seconds": round(parsed - start, 2),
        "contracts_seconds": round(done - parsed, 2),
        "total_seconds": round(done - start, 2),
        "rows_per_second": round(rows / (done - start)),
        "peak_rss_mib": round(peak),
        "quarantined": sum(t.quarantined for t in outcome.tables),
        **batch,
    }
    print(
        f"scale {args.scale:g}: {rows:,} rows; ingest {result['ingest_seconds']}s + contracts "
        f"{result['contracts_seconds']}s = {result['total_seconds']}s "
        f"({result['rows_per_second']:,} rows/s), peak RSS {result['peak_rss_mib']} MiB"
    )
    print(
        f"scale {args.scale:g}: a {BATCH_ORDERS:,}-order batch on that history: parse "
        f"{result['batch_parse_seconds']}s, contracts {result['batch_contracts_seconds']}s "
        f"(median of {args.batches})"
    )
    out = (
        ROOT
        / "bench"
        / "results"
        / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-ingest-scale{args.scale:g}.json"
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_growth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
