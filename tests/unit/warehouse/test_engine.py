"""The warehouse interface: one factory picks the engine; the DuckDB engine does what the
protocol says (the BigQuery engine runs against the emulator in tests/bigquery)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from config.settings import load_settings
from warehouse.engine import (
    BigQueryWarehouse,
    DuckDBWarehouse,
    KeyColumn,
    KeyShortfall,
    UnknownEngine,
    _bigquery_type,
    open_warehouse,
)


def _settings(tmp_path: Path, target: str = "duckdb"):  # noqa: ANN202
    settings = load_settings(warehouse=tmp_path / "w" / "olist.duckdb")
    settings.dbt_target = target
    return settings


def test_the_duckdb_target_opens_the_warehouse_file(tmp_path: Path) -> None:
    with open_warehouse(_settings(tmp_path)) as wh:
        assert isinstance(wh, DuckDBWarehouse)
        assert wh.path == tmp_path / "w" / "olist.duckdb"


def test_the_bigquery_target_opens_bigquery(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OLIST_BQ_API_ENDPOINT", "http://127.0.0.1:9")  # an emulator: no auth
    wh = open_warehouse(_settings(tmp_path, "bigquery"))
    try:
        assert isinstance(wh, BigQueryWarehouse)
        assert wh.target.emulator
    finally:
        wh.close()


def test_an_unknown_target_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnknownEngine, match="'snowflake'.*duckdb, bigquery"):
        open_warehouse(_settings(tmp_path, "snowflake"))


def test_replace_then_query_round_trips_and_lists_the_tables(tmp_path: Path) -> None:
    frames = {
        "b": pd.DataFrame({"id": [1, 2], "v": [0.5, 1.5]}),
        "a": pd.DataFrame({"id": [3], "v": [2.0]}),
    }
    with open_warehouse(_settings(tmp_path)) as wh:
        assert wh.replace("gold", frames) == {"b": 2, "a": 1}
        assert wh.tables("gold") == ["a", "b"]
        assert wh.tables("nowhere") == []
    with open_warehouse(_settings(tmp_path), read_only=True) as wh:
        got = wh.query("select id, v from gold.b order by id")
    pd.testing.assert_frame_equal(got, frames["b"], check_dtype=False)


def test_replace_is_all_or_nothing_on_duckdb(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with open_warehouse(settings) as wh:
        wh.replace("gold", {"a": pd.DataFrame({"id": [1]})})
    broken = {"a": pd.DataFrame({"id": [1, 2, 3]}), "b c": pd.DataFrame({"x": [1]})}
    with open_warehouse(settings) as wh, pytest.raises(duckdb.Error):
        wh.replace("gold", broken)
    with open_warehouse(settings, read_only=True) as wh:
        assert wh.tables("gold") == ["a"]
        assert len(wh.query("select * from gold.a")) == 1


def test_reading_a_missing_warehouse_says_to_run_the_platform(tmp_path: Path) -> None:
    with (
        open_warehouse(_settings(tmp_path), read_only=True) as wh,
        pytest.raises(FileNotFoundError, match="olist run"),
    ):
        wh.query("select 1")


def test_scalar_binds_named_parameters_on_duckdb(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with open_warehouse(settings) as wh:
        wh.replace("gold", {"t": pd.DataFrame({"day": pd.to_datetime(["2018-01-02"] * 2)})})
        n = wh.scalar(
            "select count(*) from gold.t where cast(day as date) = @day", {"day": date(2018, 1, 2)}
        )
        assert n == 2
        quote = "x'; drop table gold.t; --"
        assert wh.scalar("select @v || ''", {"v": quote}) == quote
        assert wh.tables("gold") == ["t"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "BOOL"),
        (3, "INT64"),
        (0.5, "FLOAT64"),
        (datetime(2018, 1, 2, 3), "TIMESTAMP"),
        (date(2018, 1, 2), "DATE"),
        ("x", "STRING"),
    ],
)
def test_bigquery_parameters_get_the_type_of_their_value(value: object, expected: str) -> None:
    assert _bigquery_type(value) == expected


def test_a_parameter_bigquery_cannot_type_is_refused() -> None:
    with pytest.raises(TypeError, match="no BigQuery parameter type for list"):
        _bigquery_type([1])


def test_append_creates_the_table_then_adds_rows_by_name(tmp_path: Path) -> None:
    with open_warehouse(_settings(tmp_path)) as wh:
        assert wh.append("ops", "log", pd.DataFrame({"id": [1], "note": [None]})) == 1
        assert wh.append("ops", "log", pd.DataFrame({"note": ["b"], "id": [2]})) == 1
        got = wh.query("select id, note from ops.log order by id")
    assert got["id"].tolist() == [1, 2]
    assert got["note"].tolist()[1] == "b" and pd.isna(got["note"].tolist()[0])


def test_merge_replaces_the_rows_of_matched_keys_and_inserts_the_rest(tmp_path: Path) -> None:
    with open_warehouse(_settings(tmp_path)) as wh:
        wh.merge("ops", "runs", pd.DataFrame({"run_id": ["a"], "status": ["running"]}), ["run_id"])
        changed = pd.DataFrame({"run_id": ["a", "b"], "status": ["succeeded", "running"]})
        wh.merge("ops", "runs", changed, ["run_id"])
        got = wh.query("select run_id, status from ops.runs order by run_id")
    assert got.to_dict("list") == {"run_id": ["a", "b"], "status": ["succeeded", "running"]}


def test_a_claim_inserts_only_keys_not_there_yet_nulls_matching_nulls(tmp_path: Path) -> None:
    first = pd.DataFrame({"sha256": ["x", "y"], "status": ["loaded", None], "run": ["r1", "r1"]})
    again = pd.DataFrame({"sha256": ["x", "y", "z"], "status": ["loaded", None, "loaded"]}).assign(
        run="r2"
    )
    with open_warehouse(_settings(tmp_path)) as wh:
        assert wh.claim("ops", "ledger", first, ["sha256", "status"]) == 2
        assert wh.claim("ops", "ledger", again, ["sha256", "status"]) == 1  # only z
        assert wh.claim("ops", "ledger", again, ["sha256", "status"]) == 0
        got = wh.query("select sha256, run from ops.ledger order by sha256")
    assert got.to_dict("list") == {"sha256": ["x", "y", "z"], "run": ["r1", "r1", "r2"]}


def test_the_duckdb_workspace_is_the_file_itself_under_its_lock(tmp_path: Path) -> None:
    from warehouse.engine import keep_bronze, run_workspace
    from warehouse.locking import WarehouseBusyError, warehouse_lock

    settings = _settings(tmp_path)
    with run_workspace(settings, holder="test") as inside:
        assert inside.warehouse == settings.warehouse
        assert keep_bronze(inside, "r1") == {}  # nothing to copy: the run wrote the target
        with (
            pytest.raises(WarehouseBusyError),
            warehouse_lock(settings.warehouse, holder="second"),
        ):
            pass


# --- checks against history: only the new keys travel ------------------------------------------
def _history(wh: DuckDBWarehouse) -> None:
    wh.replace(
        "bronze",
        {
            "products": pd.DataFrame({"product_id": ["p1", "p2"]}),
            "batch_products": pd.DataFrame({"product_id": ["p3", None]}),
            "items": pd.DataFrame({"product_id": ["p1", "p2", "p2", "p4", None]}),
        },
    )


def test_absent_keys_are_those_in_no_history_column(tmp_path: Path) -> None:
    with open_warehouse(_settings(tmp_path)) as wh:
        _history(wh)
        history = [
            KeyColumn("bronze", "products", "product_id"),
            KeyColumn("bronze", "batch_products", "product_id"),
        ]
        keys = pd.Series(["p9", "p1", "p3", "p9", None, "p0"])
        assert wh.absent_keys(keys, history, "r1") == ["p0", "p9"]
        assert wh.absent_keys(keys, history[:1], "r1") == ["p0", "p3", "p9"]
        assert wh.absent_keys(keys, [], "r1") == ["p0", "p1", "p3", "p9"]
        assert wh.absent_keys(pd.Series([], dtype="str"), history, "r1") == []
        assert "_history_keys" not in wh.query("show tables")["name"].tolist()


def test_rows_naming_absent_counts_history_rows_whose_key_a_new_file_lacks(
    tmp_path: Path,
) -> None:
    with open_warehouse(_settings(tmp_path)) as wh:
        _history(wh)
        items = KeyColumn("bronze", "items", "product_id")
        also = [KeyColumn("bronze", "batch_products", "product_id")]
        # the new products file lacks p2 (named twice) and p4; p3 is a batch's product
        got = wh.rows_naming_absent(items, pd.Series(["p1", "p3"]), also, "r1")
        assert got == KeyShortfall(observed=5, missing=3, samples=["p2", "p4"])
        assert wh.rows_naming_absent(items, pd.Series(["p1", "p2", "p4"]), [], "r1") == (
            KeyShortfall(observed=5, missing=0, samples=[])
        )
        # an empty file lacks every key the rows name
        empty = wh.rows_naming_absent(items, pd.Series([], dtype="str"), [], "r1").missing
        assert empty == 4


def test_the_duckdb_engine_over_an_open_connection_uses_it_and_leaves_it_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema bronze")
        con.execute("create table bronze.products as select 'p1' as product_id")
        wh = DuckDBWarehouse.over(con)
        assert wh.path == path
        assert wh.tables("bronze") == ["products"]
        history = [KeyColumn("bronze", "products", "product_id")]
        assert wh.absent_keys(pd.Series(["p1", "p2"]), history, "r1") == ["p2"]
        wh.close()
        assert con.execute("select count(*) from bronze.products").fetchone() == (1,)
    finally:
        con.close()
