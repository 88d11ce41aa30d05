"""`olist run` then `olist train` on synthetic data, as a user runs them: both models become
champions, and a deliberately weaker retrain leaves them in place.

Scale 0.2 (about 20,000 orders) and 3 Optuna trials, not scale 1 and the default 10: the
assertions need enough repeat buyers for both labels to be learnable (ml.training's
MIN_MINORITY), a first champion and a weaker second budget, not the full data set, and at
scale 1 the module took about 6 minutes of a 2-core machine. At this scale the champions
are the label-free BTYD candidates (ml.registry.registrable); a trained model registered,
loaded and scoring is tests/unit/ml/test_ml_training.py's, the full-size `olist run` on
real data is tests/e2e/test_cli_run.py, and the model quality at scale is bench.ml's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from mlflow import MlflowClient

from tests.e2e.olist_cli import run_olist
from tests.prefect_home import seed_prefect_home

pytestmark = pytest.mark.e2e


SCALE = "0.2"
TRIALS = "3"  # `olist run`'s budget (OLIST_TRAIN_TRIALS); the weaker retrain gets 1


def _olist(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    proc = run_olist(args, tmp, timeout=1200, env={"OLIST_TRAIN_TRIALS": TRIALS})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, prefect_db_template: Path):
    tmp = tmp_path_factory.mktemp("synthetic")
    seed_prefect_home(tmp / "prefect", prefect_db_template)
    _olist(["generate", "--scale", SCALE, "--seed", "1", "--out", str(tmp / "data")], tmp)
    where = ["--warehouse", str(tmp / "wh.duckdb"), "--reports", str(tmp / "reports")]
    _olist(["run", "--source", str(tmp / "data"), *where], tmp)  # trains with TRIALS
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlruns' / 'mlflow.db'}")
    before = {
        name: str(client.get_model_version_by_alias(name, "champion").version)
        for name in ("olist_churn", "olist_ltv")
    }
    weaker = _olist(["train", *where, "--trials", "1", "--timeout", "60"], tmp)
    return tmp, client, before, weaker


def test_both_models_become_champions_and_every_customer_is_scored(trained) -> None:
    tmp, client, before, _ = trained
    assert before == {"olist_churn": "1", "olist_ltv": "1"}
    con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
    try:
        customers, scored, churn, ltv = con.sql(
            "select (select count(distinct customer_unique_id) from gold.fct_orders), count(*), "
            "count(churn_probability), count(predicted_ltv) from gold.customer_scores"
        ).fetchall()[0]
        assert customers == scored == churn == ltv
        assert con.sql("select count(*) from gold.rpt_customer_churn_risk").fetchall()[0][0] > 0
        segments = con.sql("select count(*), sum(customers) from gold.dim_segment").fetchall()[0]
        assert segments[0] >= 3 and segments[1] == customers
    finally:
        con.close()


def test_a_weaker_retrain_leaves_the_champions_in_place(trained) -> None:
    tmp, client, before, weaker = trained
    for name in ("olist_churn", "olist_ltv"):
        assert str(client.get_model_version_by_alias(name, "champion").version) == before[name]
    out = weaker.stdout
    assert "stays a challenger" in out or "not registered" in out, out[-2000:]
    (page,) = [p for p in (tmp / "reports" / "ml").glob("train-*.html")]
    assert "comparison-churn" in page.read_text(encoding="utf-8")
