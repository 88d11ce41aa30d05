"""Flows under the Prefect test harness (a real temporary Prefect API), real DuckDB, dbt and GX."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.checks import quality_flow
from flows.clean import clean_flow
from flows.ingest import ingest_flow
from flows.transform import transform_flow
from quality.checks import CriticalQualityFailure


@pytest.fixture(scope="module")
def built(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from config.settings import load_settings

    tmp = tmp_path_factory.mktemp("flows")
    settings = load_settings(
        source_dir=sample_dir, warehouse=tmp / "wh.duckdb", reports_dir=tmp / "reports"
    )
    settings.batches_dir = tmp / "batches"
    ingest_flow(settings, batch_id="b1")
    contract_results = clean_flow(settings, run_id="r1")
    parses: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        import dbt.cli.requires

        def counted(*args, **kwargs):  # dbt's own parse, counted
            parses.append("parse")
            return parse_manifest(*args, **kwargs)

        parse_manifest = dbt.cli.requires.parse_manifest
        patch.setattr(dbt.cli.requires, "parse_manifest", counted)
        transform_flow(settings)
    return settings, contract_results, len(parses)


def test_dbt_builds_the_marts_from_bronze(built) -> None:
    settings, _, parses = built
    # one parse for the whole build: the waves, the selection and the tests reuse it
    assert parses == 1
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.sql("select count(*) from gold.fct_orders").fetchall()[0][0] == 8135
        assert con.sql("select count(*) from gold.dim_customers").fetchall()[0][0] == 8016
        bad = con.sql(
            "select count(*) from gold.fct_orders "
            "where abs(order_value - (items_value + freight_value)) > 0.001"
        ).fetchall()
        assert bad[0][0] == 0
        dbt_checks = con.sql(
            "select count(*), count(*) filter (where not passed), "
            "count(*) filter (where check_name like 'unit_test:%') "
            "from quality.check_results where check_engine = 'dbt' and run_id = 'manual'"
        ).fetchall()[0]
    finally:
        con.close()
    total, failed, unit = dbt_checks
    assert total > 100 and failed == 0 and unit >= 4  # every data and unit test, all green


def test_quality_flow_records_every_engine_and_passes_on_the_sample(built) -> None:
    settings, contract_results, _ = built
    results = quality_flow(settings, run_id="r1", upstream=contract_results)
    engines = {r.check_engine for r in results}
    assert engines == {"pandera", "great_expectations", "ingest", "duckdb"}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.sql(
            "select check_engine, severity, count(*) from quality.check_results "
            "where run_id = 'r1' group by all"
        ).fetchall()
    finally:
        con.close()
    severities = {sev for _, sev, _ in rows}
    assert {"critical", "warning"} <= severities
    assert sum(n for *_, n in rows) == len(results)


def test_critical_gx_failure_fails_the_flow_and_is_recorded(built, tmp_path: Path) -> None:
    # on a copy of the built warehouse: the other tests keep a clean one without a rebuild
    shutil.copy(built[0].warehouse, tmp_path / "wh.duckdb")
    settings = built[0].model_copy(update={"warehouse": tmp_path / "wh.duckdb"})
    con = duckdb.connect(str(settings.warehouse))
    con.execute("insert into gold.fct_orders select * from gold.fct_orders limit 3")
    con.close()
    with pytest.raises(CriticalQualityFailure, match="expect_column_values_to_be_unique"):
        quality_flow(settings, run_id="r-bad")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        failed = con.sql(
            "select column_name, unexpected_count from quality.check_results "
            "where run_id = 'r-bad' and not passed and severity = 'critical'"
        ).fetchall()
    finally:
        con.close()
    assert ("order_id", 6) in failed

    # fct_orders is incremental, so the next build keeps the duplicates and its dbt test
    # fails the flow by name; the outcome is recorded with the failing keys as samples
    with pytest.raises(ValueError, match="unique_fct_orders_order_id"):
        transform_flow(settings, run_id="r-dbt-bad")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        (row,) = con.sql(
            "select severity, unexpected_count, observed_count, sample_values "
            "from quality.check_results where run_id = 'r-dbt-bad' and check_engine = 'dbt' "
            "and check_name = 'unique:unique_fct_orders_order_id'"
        ).fetchall()
    finally:
        con.close()
    assert row[:3] == ("critical", 3, 8138)
    assert len(json.loads(row[3])) == 3


def test_order_batches_flow_through_to_the_marts_exactly_once(built) -> None:
    from synthetic.batches import generate_batch

    settings, *_ = built
    assert settings.batches_dir is not None
    batch = generate_batch(settings.source_dir, settings.batches_dir, n_orders=40, seed=5)
    duplicate = settings.batches_dir / "resent.json"
    duplicate.write_bytes(batch.read_bytes())
    broken = settings.batches_dir / "broken.json"
    broken.write_text('{"batch_id": "x", "orders": [', encoding="utf-8")

    summary = ingest_flow(settings, batch_id="b2")
    assert summary["landed"] == []  # the CSVs did not change
    assert summary["batches"] == [batch.name]
    assert summary["batches_skipped"] == ["resent.json"]
    assert [r.split(":")[0] for r in summary["batches_rejected"]] == ["broken.json"]
    clean_flow(settings, run_id="r2", tables=[])
    transform_flow(settings)

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        batch_orders = con.sql(
            "select count(*) from gold.fct_orders where order_id in "
            "(select order_id from bronze.batch_orders)"
        ).fetchall()[0][0]
        total = con.sql("select count(*) from gold.fct_orders").fetchall()[0][0]
        ledger = dict(
            con.sql(
                "select file_name, status from ops.file_ledger where table_name = 'order_batch'"
            ).fetchall()
        )
    finally:
        con.close()
    assert batch_orders == 40 and total == 8135 + 40
    assert ledger == {batch.name: "loaded", "broken.json": "rejected"}  # resent.json: same sha
    archived = sorted(p.name for p in (settings.batches_dir / "archive").iterdir())
    assert archived == sorted([batch.name, "resent.json"])
    reason = (settings.batches_dir / "rejected" / "broken.json.reason.txt").read_text()
    assert reason.startswith("broken.json: ")
    assert not list(settings.batches_dir.glob("*.json"))  # landing folder is empty again


def test_a_changed_date_format_stops_the_load_naming_the_column(
    sample_dir: Path, tmp_path: Path
) -> None:
    import re
    import shutil

    from config.settings import load_settings

    source = tmp_path / "source"
    shutil.copytree(sample_dir, source)
    orders = source / "olist_orders_dataset.csv"
    text = orders.read_text(encoding="utf-8")
    # the upstream export switched to day/month/year
    text = re.sub(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2}:\d{2})", r"\3/\2/\1 \4", text)
    orders.write_text(text, encoding="utf-8")
    settings = load_settings(source_dir=source, warehouse=tmp_path / "wh.duckdb")
    settings.batches_dir = None
    ingest_flow(settings, batch_id="b1")
    with pytest.raises(CriticalQualityFailure) as err:
        clean_flow(settings, run_id="r1")
    message = str(err.value)
    assert "quarantined_share_at_most_0.01" in message
    assert "orders.order_purchase_timestamp str_matches" in message
    assert re.search(r"e\.g\. '\d{2}/\d{2}/\d{4} ", message)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = con.sql(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'bronze'"
        ).fetchall()
    finally:
        con.close()
    # only the empty batch tables (created up front for dbt) exist; no source reached bronze
    assert sorted(t for t, _ in tables) == [
        "batch_customers",
        "batch_order_items",
        "batch_order_payments",
        "batch_orders",
    ]
    assert all(size == 0 for _, size in tables)
