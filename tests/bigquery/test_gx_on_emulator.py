"""The project's GX suites on BigQuery (crucible-emulator) give the same verdicts as on DuckDB.

Both warehouses come from the package fixtures (conftest.py): the sample's bronze built by
dbt on the emulator and on DuckDB. The quality task runs as the flow runs it
(``flows.checks.run_checkpoint``): on the ``bigquery`` target with the ``OLIST_BQ_*``
variables pointing at the emulator, which exercises ``quality.gx_bigquery`` (the inlining
client), ``quality.checks.baseline_of`` and sqlalchemy-bigquery; on DuckDB as before.

When the whole package runs, test_dbt_build_on_emulator.py's ``incremental`` fixture has
already redelivered 25 orders on the emulator (copies with a later ``_loaded_at``, merged in
place): no expectation reads ``_loaded_at``, so the verdicts are the same either way. This
module changes nothing the other reads: the planted defect goes to a dataset of its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

import expectations
from config.settings import load_settings
from expectations import SUITES, Baseline, ExpectationOutcome
from flows.checks import record_results, run_checkpoint
from quality import store as quality_store
from quality.checks import baseline_of
from quality.gx_bigquery import gx_bigquery
from tests.bigquery.builds import PROJECT, Build
from tests.support.bigquery_emulator import Emulator, dbt_env
from warehouse.bigquery import target_client
from warehouse.bigquery_emulator import InliningClient, inlining_client_for
from warehouse.engine import BigQueryWarehouse, DuckDBWarehouse

pytestmark = [pytest.mark.bigquery_emulator, pytest.mark.slow]

# A floor two weeks before the sample's last purchase (2018-10-17): the freshness check is
# built and passes on both engines, whatever today's date.
FRESHNESS_DAYS = (date.today() - date(2018, 10, 3)).days

# Expectations whose verdict may differ between the engines, with the reason. None so far;
# an entry here must say why the difference is the engine's and not a bug.
KNOWN_DIFFERENCES: dict[tuple[str, str, str | None, str], str] = {}


@dataclass
class Run:
    """One ``run_checkpoint`` call: the GX outcomes it computed and the rows it returned."""

    outcomes: list[ExpectationOutcome]
    results: list[quality_store.CheckResult]
    seconds: float


def _key(o: ExpectationOutcome) -> tuple[str, str, str | None, str]:
    # the rationale tells apart expectations of one type on one table (e.g. the two pair
    # checks of stg_olist__orders); test_outcomes_are_keyed_uniquely guards that
    return (o.suite, o.expectation, o.column, o.rationale)


def _checkpoint(**kwargs: Any) -> Run:
    """``run_checkpoint`` with the outcomes ``run_suites`` handed it recorded on the side
    (``run_checkpoint`` imports it from ``expectations`` when it runs, so it is patched
    there)."""
    seen: list[ExpectationOutcome] = []
    real = expectations.run_suites

    def recording(*args: Any, **kw: Any) -> list[ExpectationOutcome]:
        outcomes = real(*args, **kw)
        seen.extend(outcomes)
        return outcomes

    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expectations, "run_suites", recording)
        results = run_checkpoint.fn(**kwargs)
    return Run(seen, results, time.perf_counter() - started)


@pytest.fixture(scope="module")
def bigquery_env(emulator: Emulator) -> Iterator[None]:
    """The ``OLIST_BQ_*`` variables dbt uses for the emulator, for the quality task too."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in dbt_env(emulator.endpoint, PROJECT).items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="module")
def on_bigquery(built: Build, bigquery_env: None, work: Path) -> Run:
    assert built.returncode == 0, f"dbt build --target bigquery failed:\n{built.report}"
    return _checkpoint(
        settings=load_settings(warehouse=work / "not-read.duckdb", dbt_target="bigquery"),
        run_id="gx-bigquery",
        freshness_max_age_days=FRESHNESS_DAYS,
    )


@pytest.fixture(scope="module")
def on_duckdb(duckdb_built: Path) -> Run:
    return _checkpoint(
        settings=load_settings(warehouse=duckdb_built, dbt_target="duckdb"),
        run_id="gx-duckdb",
        freshness_max_age_days=FRESHNESS_DAYS,
    )


@pytest.fixture(scope="module")
def bigquery_baseline(built: Build, bigquery_env: None) -> Baseline:
    with BigQueryWarehouse(target_client()) as wh:
        return baseline_of(wh, FRESHNESS_DAYS)


def _same(left: Any, right: Any) -> bool:
    """Observed values: BigQuery's NUMERIC mean has 9 decimals, DuckDB's a double; BigQuery
    timestamps are aware UTC, DuckDB's naive UTC."""
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left.astimezone(UTC) == right.replace(tzinfo=UTC)
    if isinstance(left, float | int | Decimal) and isinstance(right, float | int | Decimal):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    return bool(left == right)


# --- tests -------------------------------------------------------------------------------------
def test_the_emulator_reads_inlined_parameters_back_unchanged(emulator: Emulator) -> None:
    """The shim's literals, through crucible's parser: same values, same types."""
    values = {
        "s": ("STRING", "it's a \\ test\nwith @s inside, 'quotes' and ünïcode"),
        "i": ("INT64", -42),
        "f": ("FLOAT64", 0.1),
        "b": ("BOOL", True),
        "n": ("NUMERIC", Decimal("12.34")),
        "t": ("TIMESTAMP", datetime(2018, 10, 17, 17, 30, 18, tzinfo=UTC)),
        "d": ("DATE", date(2018, 2, 28)),
        "z": ("STRING", None),
    }
    config = bigquery.QueryJobConfig(
        query_parameters=[
            *(bigquery.ScalarQueryParameter(k, t, v) for k, (t, v) in values.items()),
            bigquery.ArrayQueryParameter("a", "INT64", [1, 2, 3]),
        ]
    )
    client = inlining_client_for(emulator.endpoint, PROJECT)
    try:
        select = ", ".join(f"@{k} as {k}" for k in values)
        row = next(iter(client.query_and_wait(f"select {select}, @a as a", job_config=config)))
    finally:
        client.close()
    assert dict(row.items()) == {**{k: v for k, (_, v) in values.items()}, "a": [1, 2, 3]}


def test_the_quality_task_uses_the_emulator_client_on_the_bigquery_target(
    bigquery_env: None,
) -> None:
    target = gx_bigquery()
    try:
        assert target.emulator and isinstance(target.client, InliningClient)
        assert target.client.project == PROJECT
        assert target.connection_string == f"bigquery://{PROJECT}?user_supplied_client=true"
    finally:
        target.client.close()


def test_the_baseline_from_bigquery_equals_the_duckdb_one(
    built: Build, bigquery_env: None, duckdb_built: Path
) -> None:
    now = datetime(2018, 10, 20, 6, 0, tzinfo=UTC)
    with BigQueryWarehouse(target_client()) as wh:
        on_bigquery = baseline_of(wh, 3, now=now)
    with DuckDBWarehouse(duckdb_built, read_only=True) as wh:
        on_duckdb = baseline_of(wh, 3, now=now)
    assert (
        on_bigquery.row_counts
        == on_duckdb.row_counts
        == {
            "fct_orders": 8135,
            "dim_customers": 8016,
        }
    )
    assert on_bigquery.mean_order_value is not None and on_duckdb.mean_order_value is not None
    assert math.isclose(on_bigquery.mean_order_value, on_duckdb.mean_order_value, rel_tol=1e-9)
    assert on_bigquery.five_star_share is not None and on_duckdb.five_star_share is not None
    assert math.isclose(on_bigquery.five_star_share, on_duckdb.five_star_share, rel_tol=1e-12)
    # the same instant; aware for BigQuery's TIMESTAMP, naive UTC for DuckDB
    assert on_bigquery.freshness_floor == datetime(2018, 10, 17, 6, 0, tzinfo=UTC)
    assert on_duckdb.freshness_floor == datetime(2018, 10, 17, 6, 0)


def test_every_expectation_runs_on_bigquery(
    on_bigquery: Run, on_duckdb: Run, bigquery_baseline: Baseline
) -> None:
    """Nothing silently skipped: every expectation the suites build (with the full, history
    based baseline) is evaluated on both engines, and none raised."""
    assert bigquery_baseline.row_counts and bigquery_baseline.mean_order_value
    assert bigquery_baseline.five_star_share and bigquery_baseline.freshness_floor
    expected = sum(len(suite.build(bigquery_baseline)) for suite in SUITES)
    assert expected >= 40  # 36 fixed + 4 history-based (row counts x2, mean, 5-star share)...
    assert len(on_bigquery.outcomes) == len(on_duckdb.outcomes) == expected
    assert len(on_bigquery.results) == expected  # one check row each
    assert {o.suite for o in on_bigquery.outcomes} == {s.name for s in SUITES}
    raised = [
        f"{engine}: {o.suite} {o.expectation} {o.column}: {o.exception[:300]}"
        for engine, run in (("bigquery", on_bigquery), ("duckdb", on_duckdb))
        for o in run.outcomes
        if o.exception
    ]
    assert not raised, "\n".join(raised)
    print(f"\nGX: bigquery {on_bigquery.seconds:.1f} s, duckdb {on_duckdb.seconds:.1f} s")


def test_outcomes_are_keyed_uniquely(on_bigquery: Run, on_duckdb: Run) -> None:
    for run in (on_bigquery, on_duckdb):
        keys = [_key(o) for o in run.outcomes]
        assert len(keys) == len(set(keys))


def test_every_expectation_agrees_between_bigquery_and_duckdb(
    on_bigquery: Run, on_duckdb: Run
) -> None:
    duck = {_key(o): o for o in on_duckdb.outcomes}
    assert {_key(o) for o in on_bigquery.outcomes} == set(duck)
    differences = []
    for bq in on_bigquery.outcomes:
        key = _key(bq)
        if key in KNOWN_DIFFERENCES:
            continue
        dk = duck[key]
        if (bq.success, bq.unexpected_count, bq.element_count) != (
            dk.success,
            dk.unexpected_count,
            dk.element_count,
        ) or not _same(bq.observed_value, dk.observed_value):
            differences.append(
                f"{bq.suite} {bq.expectation} {bq.column}: bigquery "
                f"{bq.success}/{bq.unexpected_count}/{bq.element_count}/{bq.observed_value!r} "
                f"!= duckdb {dk.success}/{dk.unexpected_count}/{dk.element_count}/"
                f"{dk.observed_value!r}"
            )
    assert not differences, "\n".join(differences)
    # the comparison covers failing checks with counts too, not only passes (the sample has
    # a few real quirks: undelivered dates, 'not_defined' payments, carrier before approval)
    failing = [o for o in on_bigquery.outcomes if not o.success and o.unexpected_count]
    assert len(failing) >= 3
    assert all(o.success for o in on_bigquery.outcomes if o.severity == "critical")


def test_bigquery_results_are_recorded_in_the_local_warehouse(
    on_bigquery: Run, tmp_path: Path
) -> None:
    path = tmp_path / "local.duckdb"
    assert record_results.fn(path, on_bigquery.results) == len(on_bigquery.results)
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select count(*), count(*) filter (where check_engine = 'great_expectations') "
            "from quality.check_results where run_id = 'gx-bigquery'"
        ).fetchone()
    finally:
        con.close()
    assert rows == (len(on_bigquery.results), len(on_bigquery.results))


def test_a_duplicated_order_fails_the_critical_uniqueness_check_on_bigquery(
    built: Build, client: bigquery.Client, bigquery_env: None, work: Path
) -> None:
    """An order doubled in a copy of the marts, read the way the audit schema is read
    (``read_schemas``), fails the critical key check with both rows counted."""
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.gold_defect"), exists_ok=True)
    client.query(
        f"create or replace table `{PROJECT}.gold_defect.fct_orders` as "
        f"select * from `{PROJECT}.gold.fct_orders` union all "
        f"(select * from `{PROJECT}.gold.fct_orders` order by order_id limit 1)"
    ).result()
    run = _checkpoint(
        settings=load_settings(warehouse=work / "not-read.duckdb", dbt_target="bigquery"),
        run_id="gx-defect",
        read_schemas={"gold": "gold_defect"},
        tables=["fct_orders"],
    )
    critical = quality_store.critical_failures(run.results)
    assert [(r.layer, r.table_name, r.column_name, r.check_name) for r in critical] == [
        ("gold", "fct_orders", "order_id", "expect_column_values_to_be_unique")
    ]
    assert critical[0].unexpected_count == 2
    assert critical[0].observed_count == 8136
