"""``make bench-ingest SCALE=1``: ingest + contract validation throughput, in process.

Generates the data set once per scale (reused afterwards), then times strict parsing into
``landing`` and the contracts into ``bronze``/``quarantine`` on a fresh DuckDB file,
printing rows/s and the process's peak RSS. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from datetime import UTC, datetime

from bench.common import ROOT, scale_data
from olist import cleaning, ingest, warehouse


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    args, work, data = scale_data("python -m bench.ingest", __doc__.splitlines()[0], argv)
    wh_dir = work / "ingest-bench"
    shutil.rmtree(wh_dir, ignore_errors=True)
    wh_dir.mkdir(parents=True)
    with warehouse.connect(wh_dir / "wh.duckdb") as con:
        start = time.perf_counter()
        landed = ingest.ingest_folder(con, data, "bench")
        parsed = time.perf_counter()
        outcome = cleaning.clean_all(con, "bench", landed.tables, quarantine_threshold=1.0)
        done = time.perf_counter()
    rows = sum(f.source_records for f in landed.landed)
    result = {
        "scale": args.scale,
        "rows": rows,
        "at": datetime.now(UTC).isoformat(),
        "ingest_seconds": round(parsed - start, 2),
        "contracts_seconds": round(done - parsed, 2),
        "total_seconds": round(done - start, 2),
        "rows_per_second": round(rows / (done - start)),
        "peak_rss_mib": round(_peak_mib()),
        "quarantined": sum(t.quarantined for t in outcome.tables),
    }
    print(
        f"scale {args.scale:g}: {rows:,} rows; ingest {result['ingest_seconds']}s + contracts "
        f"{result['contracts_seconds']}s = {result['total_seconds']}s "
        f"({result['rows_per_second']:,} rows/s), peak RSS {result['peak_rss_mib']} MiB"
    )
    out = (
        ROOT
        / "bench"
        / "results"
        / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-ingest-scale{args.scale:g}.json"
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
