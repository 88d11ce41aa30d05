"""`olist run` end to end in a subprocess, as a user runs it: ephemeral Prefect API, DuckDB,
dbt, GX, MLflow on SQLite. Then a drifted file: exit 2, and the last good data stays."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from mlflow import MlflowClient

from tests.e2e.olist_cli import run_olist
from tests.prefect_home import seed_prefect_home

pytestmark = pytest.mark.e2e
_olist = run_olist


@pytest.fixture(scope="module")
def first_run(
    sample_dir: Path, tmp_path_factory: pytest.TempPathFactory, prefect_db_template: Path
):
    tmp = tmp_path_factory.mktemp("e2e")
    seed_prefect_home(tmp / "prefect", prefect_db_template)
    proc = _olist(
        [
            "run",
            "--source",
            str(sample_dir),
            "--warehouse",
            str(tmp / "wh.duckdb"),
            "--reports",
            str(tmp / "reports"),
        ],
        tmp,
    )
    return tmp, proc


def test_run_succeeds_and_prints_where_things_are(first_run) -> None:
    tmp, proc = first_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = proc.stdout + proc.stderr
    assert "\x1b[" not in console  # no ANSI codes when not a terminal
    # dbt's nodes as a few progress lines and a summary, not two lines and a task line each
    assert "Task run None" not in console
    assert console.count("Finished in state Completed()") < 12  # the flow runs' only
    assert "START sql" not in console and " PASS " not in console
    progress = re.findall(r"dbt: \d+ nodes done \(\d+ ok(?:, \d+ pass)?\) in \d+ s", console)
    assert 1 <= len(progress) < 12
    assert re.search(r"dbt: \d+ nodes in \d+ s: \d+ ok, \d+ pass\n", console)
    for stage in ("ingest", "contracts", "dbt", "quality", "publish", "train", "score"):
        assert re.search(rf"-- {stage} done after \d+\.\d s", console), stage
    # a contract's warning once (the quality flow no longer repeats the contracts')
    assert console.count("delivered_has_delivery_date") == 1
    assert "nanobind" not in console  # the DuckDB teardown dump (cli.main.leave)
    assert f"warehouse : {tmp / 'wh.duckdb'}" in proc.stdout
    assert f"quality   : {tmp / 'reports' / 'quality'}" in proc.stdout
    assert f"models    : {tmp / 'reports' / 'ml'}" in proc.stdout
    # too rare to learn on the sample: no champion, and the summary says why
    assert "churn     : olist_churn: none yet (" in proc.stdout
    assert "mlflow    : sqlite:///" in proc.stdout
    assert "next      : make dashboard" in proc.stdout


def test_run_leaves_the_tables(first_run) -> None:
    tmp, _ = first_run
    con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
    try:
        count = lambda t: con.sql(f"select count(*) from {t}").fetchall()[0][0]  # noqa: E731
        assert count("bronze.orders") == 8135
        assert count("gold.fct_orders") == 8135
        assert count("gold.customer_scores") == 8016  # one row per customer_unique_id
        assert count("quality.check_results where check_engine = 'great_expectations'") > 0
        # no champion could be trained on the sample (see below): the scores stay empty
        assert count("gold.customer_scores where churn_probability is not null") == 0
        assert count("gold.dim_customer_segments") in (0, 8016)
    finally:
        con.close()


def test_the_samples_quirks_are_gx_warnings_with_their_true_counts(first_run) -> None:
    """The whole sample's quirks, seen by GX in silver and gold, counted right (the publish
    gate itself is tests/flows/test_publish.py's, on a window of the sample)."""
    tmp, _ = first_run
    con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
    try:
        gx_failures = {
            f"{t}.{c}": (sev, n)
            for t, c, sev, n in con.sql(
                "select table_name, column_name, severity, unexpected_count "
                "from quality.check_results "
                "where check_engine = 'great_expectations' and not passed"
            ).fetchall()
        }
    finally:
        con.close()
    assert gx_failures["stg_olist__order_payments.payment_type"] == ("warning", 3)
    assert gx_failures["fct_orders.delivered_to_customer_at"] == ("warning", 8)
    # carrier before approval: a pair check names both of its columns
    assert gx_failures["stg_olist__orders.delivered_to_carrier_at, approved_at"] == ("warning", 77)


def test_the_sample_is_too_rare_to_learn_so_no_model_is_registered(first_run) -> None:
    """The sample has few repeat buyers: the run says so and registers nothing that does
    not beat its baseline, while the baselines are still logged to MLflow."""
    tmp, proc = first_run
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlruns' / 'mlflow.db'}")
    assert client.search_registered_models() == []
    experiment = client.get_experiment_by_name("olist_churn_candidates")
    runs = client.search_runs([experiment.experiment_id])
    assert {r.data.tags["candidate"] for r in runs} == {
        "prevalence_baseline",
        "rfm_rule_baseline",
        "mbgnbd_baseline",  # label-free: it runs even when labels are too rare to learn
    }
    (page,) = (tmp / "reports" / "ml").glob("2*.html")
    text = page.read_text(encoding="utf-8")
    assert "too rare to learn" in text and "not registered" in text


def test_run_writes_the_quality_report(first_run) -> None:
    tmp, _ = first_run
    pages = list((tmp / "reports" / "quality").glob("2*.html"))
    assert len(pages) == 1
    page = pages[0].read_text()
    # the sample's real quirks are warnings: the run publishes with a "warn" verdict
    assert '<strong id="verdict" class="verdict-warn">warn</strong>' in page
    assert "(published to gold)" in page and "<svg id='trend'" in page


def test_rerunning_the_same_input_changes_nothing(first_run, sample_dir: Path) -> None:
    tmp, _ = first_run

    def state() -> list[tuple]:
        con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
        try:
            return con.sql(
                "select (select count(*) from ops.file_ledger), "
                "(select count(*) from quality.check_results), "
                "(select count(*) from quality.runs), "
                "(select sum(hash(order_id)) from gold.fct_orders)"
            ).fetchall()
        finally:
            con.close()

    before = state()
    proc = _olist(
        [
            "run",
            "--source",
            str(sample_dir),
            "--warehouse",
            str(tmp / "wh.duckdb"),
            "--reports",
            str(tmp / "reports"),
        ],
        tmp,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "nothing new" in proc.stdout
    assert state() == before


def test_schema_drift_exits_2_names_file_and_column_and_keeps_the_last_good_data(
    first_run, sample_dir: Path
) -> None:
    tmp, _ = first_run
    bad = tmp / "bad_source"
    shutil.copytree(sample_dir, bad)
    orders = bad / "olist_orders_dataset.csv"
    orders.write_text(
        orders.read_text(encoding="utf-8").replace("order_status", "status", 1), encoding="utf-8"
    )
    proc = _olist(
        [
            "run",
            "--source",
            str(bad),
            "--warehouse",
            str(tmp / "wh.duckdb"),
            "--reports",
            str(tmp / "reports"),
            "--skip-train",
        ],
        tmp,
    )
    assert proc.returncode == 2
    assert "olist_orders_dataset.csv" in proc.stderr and "'order_status'" in proc.stderr
    con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
    try:
        assert con.sql("select count(*) from gold.fct_orders").fetchall()[0][0] == 8135
    finally:
        con.close()
