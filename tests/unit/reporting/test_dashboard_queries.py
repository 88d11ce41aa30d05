"""The dashboard's churn-model list, which only exists once scoring has run (the sample
warehouse of tests/data has no scores)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from reporting.dashboard import queries
from reporting.dashboard.queries import Filters

ALL_OF_2018 = Filters(date(2018, 1, 1), date(2018, 12, 1))


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema gold")
    con.execute(
        "create table gold.dim_customers as select * from (values ('u1', 'SP'), ('u2', 'RJ')) "
        "as t(customer_unique_id, customer_state)"
    )
    yield con
    con.close()


def test_no_list_before_the_first_scoring_run(con) -> None:
    assert queries.churn_model_list(con, ALL_OF_2018).empty


def test_the_list_keeps_the_risk_order_and_the_state_filter(con) -> None:
    con.execute(
        "create table gold.rpt_customer_churn_risk as select * from (values "
        "(1, 'u2', 0.9, 100.0, 90.0, 200.0), (2, 'u1', 0.8, 50.0, 40.0, 150.0)) as t("
        "risk_rank, customer_unique_id, churn_probability, predicted_ltv, value_at_risk, "
        "recency_days)"
    )
    every = queries.churn_model_list(con, ALL_OF_2018)
    assert list(every["customer_unique_id"]) == ["u2", "u1"]
    assert list(every["customer_state"]) == ["RJ", "SP"]
    sp = queries.churn_model_list(con, Filters(ALL_OF_2018.start, ALL_OF_2018.end, ("SP",)))
    assert list(sp["customer_unique_id"]) == ["u1"]
