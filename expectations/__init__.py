"""Great Expectations suites per warehouse table and the checkpoint runner.

Every expectation carries a severity (critical | warning | info) and a one-line rationale
in ``meta``. Imports nothing of ours: results come back as plain ``ExpectationOutcome``s.
"""

from expectations.checkpoints import (
    ExpectationOutcome,
    docs_pages,
    enable_duckdb_pushdown,
    run_suites,
)
from expectations.suites import SUITES, Baseline, TableSuite

__all__ = [
    "SUITES",
    "Baseline",
    "ExpectationOutcome",
    "TableSuite",
    "docs_pages",
    "enable_duckdb_pushdown",
    "run_suites",
]
