"""Exactly-once loading on copies of the real sample: re-runs, renamed and changed files,
a killed run, and the quarantine gate. Each test checks the outcome and that nothing was
lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion import cleaning
from ingestion import csv_files as ingest

ORDERS = "olist_orders_dataset.csv"
DATA_TABLES = ("bronze", "quarantine")


def load(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    batch: str,
    threshold: float = 0.01,
    corrections: tuple[str, ...] = (),
) -> tuple[ingest.IngestResult, cleaning.CleanOutcome | None]:
    result = ingest.ingest_folder(con, source, batch)
    outcome = (
        cleaning.clean_all(con, batch, result.tables, threshold, corrections=corrections)
        if result.landed
        else None
    )
    return result, outcome


def fingerprints(con: duckdb.DuckDBPyConnection, drop_meta: bool = False) -> dict[str, tuple]:
    """Row count and an order-independent checksum of every table (optionally without the
    per-run metadata columns)."""
    out = {}
    for schema, table in con.sql(
        "select table_schema, table_name from information_schema.tables order by 1, 2"
    ).fetchall():
        cols = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if not (
                drop_meta
                and c
                in (
                    "_batch_id",
                    "_loaded_at",
                    "batch_id",
                    "started_at",
                    "finished_at",
                    "run_id",
                    "observed_at",
                    "loaded_at",
                )
            )
        ]
        struct = ", ".join(f'"{c}"' for c in cols)
        out[f"{schema}.{table}"] = con.execute(
            f"select count(*), coalesce(sum(hash(row({struct}))::hugeint), 0) "
            f'from {schema}."{table}"'
        ).fetchall()[0]
    return out


@pytest.fixture
def source(sample_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "source"
    shutil.copytree(sample_dir, copy)
    return copy


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def sample_loaded(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the sample loaded once as batch b1: what ``load(con, source, "b1")``
    leaves, since the ledger and bronze know a file by its name and content, not its folder.
    Read it, or copy it."""
    path = tmp_path_factory.mktemp("sample_loaded") / "wh.duckdb"
    connection = duckdb.connect(str(path))
    try:
        load(connection, sample_dir, "b1")
    finally:
        connection.close()
    return path


@pytest.fixture
def con_b1(sample_loaded: Path, tmp_path: Path):
    """A connection to this test's copy of the sample loaded as b1 (``source`` unchanged)."""
    shutil.copy(sample_loaded, tmp_path / "wh.duckdb")
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


def test_rerunning_the_same_input_changes_no_table(con_b1, source: Path) -> None:
    before = fingerprints(con_b1)
    result, outcome = load(con_b1, source, "b2")
    assert result.landed == [] and len(result.skipped) == 9 and outcome is None
    assert fingerprints(con_b1) == before


def test_same_content_under_a_new_name_is_skipped(con_b1, source: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "renamed"
    shutil.copytree(source, renamed)
    (renamed / ORDERS).rename(renamed / "orders_export.csv")
    shutil.copy(renamed / "orders_export.csv", renamed / ORDERS)  # same bytes, new name too
    result, _ = load(con_b1, renamed, "b2")
    assert result.landed == []


def test_a_changed_file_is_a_new_version_and_only_it_reloads(con_b1, source: Path) -> None:
    lines = (source / ORDERS).read_text(encoding="utf-8").splitlines(keepends=True)
    last = lines[-1].replace("2017-10-23 00:00:00", "2017-10-24 00:00:00")  # a later estimate
    (source / ORDERS).write_text("".join([*lines[:-1], last]), encoding="utf-8")
    result, outcome = load(con_b1, source, "b2")
    assert result.tables == ["orders"] and outcome is not None and outcome.committed
    assert con_b1.sql("select count(*) from bronze.orders").fetchall()[0][0] == 8135
    estimate = con_b1.sql(
        "select order_estimated_delivery_date from bronze.orders where order_id = ?",
        params=[last.split(",")[0]],
    ).fetchall()
    assert estimate == [("2017-10-24 00:00:00",)]
    versions = con_b1.sql(
        "select count(*) from ops.file_ledger where file_name = ? and status = 'loaded'",
        params=[ORDERS],
    ).fetchall()[0][0]
    assert versions == 2


def test_a_killed_load_rerun_ends_like_one_clean_run(con_b1, source: Path, tmp_path: Path) -> None:
    clean = con_b1  # the sample loaded as b1 in one clean run
    killed = duckdb.connect(str(tmp_path / "killed.duckdb"))
    ingest.ingest_folder(killed, source, "b0")  # landed, then the process "died"
    load(killed, source, "b1")
    assert fingerprints(killed, drop_meta=True) == fingerprints(clean, drop_meta=True)


def test_too_many_quarantined_rows_stop_the_load_and_write_nothing(con_b1, source: Path) -> None:
    before = fingerprints(con_b1)
    text = (source / ORDERS).read_text(encoding="utf-8")
    (source / ORDERS).write_text(text.replace(",delivered,", ",lost,", 200), encoding="utf-8")
    result, outcome = load(con_b1, source, "b2")
    assert result.tables == ["orders"]
    assert outcome is not None and not outcome.committed
    [blocking] = outcome.blocking
    assert blocking.check_name == "quarantined_share_at_most_0.01"
    assert blocking.unexpected_count == 200
    after = fingerprints(con_b1)
    for name in before:
        if name.split(".")[0] in DATA_TABLES:
            assert after[name] == before[name], name


def test_a_quarantine_below_the_threshold_keeps_every_row_somewhere(con, source: Path) -> None:
    text = (source / ORDERS).read_text(encoding="utf-8")
    (source / ORDERS).write_text(text.replace(",delivered,", ",lost,", 5), encoding="utf-8")
    _, outcome = load(con, source, "b1")
    assert outcome is not None and outcome.committed
    bronze, quarantined = con.sql(
        "select (select count(*) from bronze.orders), (select count(*) from quarantine.orders)"
    ).fetchall()[0]
    assert (bronze, quarantined) == (8130, 5)
    reason = con.sql("select distinct _reason from quarantine.orders").fetchall()
    assert reason == [("order_status: isin",)]
    ledger = con.sql(
        "select source_records, loaded, quarantined from ops.file_ledger where file_name = ?",
        params=[ORDERS],
    ).fetchall()
    assert ledger == [(8135, 8130, 5)]


def test_orphan_items_are_quarantined_with_the_missing_parent(con, source: Path) -> None:
    items = source / "olist_order_items_dataset.csv"
    lines = items.read_text(encoding="utf-8").splitlines(keepends=True)
    orphan = "f" * 32 + lines[1][32:]
    items.write_text("".join([*lines, orphan]), encoding="utf-8")
    _, outcome = load(con, source, "b1")
    assert outcome is not None and outcome.committed
    check = next(
        c
        for c in outcome.checks
        if c.check_name == "order_id_exists_in_orders" and c.table_name == "order_items"
    )
    assert (check.passed, check.unexpected_count, check.sample_values) == (False, 1, ["f" * 32])
    quarantined = con.sql("select order_id, _reason from quarantine.order_items").fetchall()
    assert quarantined == [("f" * 32, "order_id: not in orders")]
    assert con.sql("select count(*) from bronze.order_items").fetchall()[0][0] == len(lines) - 1


def test_children_of_an_unchanged_parent_are_checked_against_bronze(con_b1, source: Path) -> None:
    payments = source / "olist_order_payments_dataset.csv"
    payments.write_text(
        payments.read_text(encoding="utf-8") + "e" * 32 + ",1,boleto,1,10.0\n", encoding="utf-8"
    )
    result, outcome = load(con_b1, source, "b2")
    assert result.tables == ["order_payments"]
    assert outcome is not None and outcome.committed
    assert con_b1.sql("select count(*) from quarantine.order_payments").fetchall()[0][0] == 1


def test_a_declared_harmless_extra_column_is_dropped_and_noted(con, source: Path) -> None:
    customers = source / "olist_customers_dataset.csv"
    lines = customers.read_text(encoding="utf-8").splitlines()
    customers.write_text(
        "\n".join([lines[0] + ",segment"] + [f"{line},vip" for line in lines[1:]]) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ingest.SchemaDriftError, match="OLIST_HARMLESS_EXTRA_COLUMNS=customers:segment"
    ):
        ingest.ingest_folder(con, source, "b0")
    result = ingest.ingest_folder(con, source, "b1", {"customers": ["segment"]})
    outcome = cleaning.clean_all(con, "b1", result.tables)
    assert outcome.committed
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'bronze' "
            "and table_name = 'customers'"
        ).fetchall()
    ]
    assert "segment" not in columns
    assert con.sql("select count(*) from bronze.customers").fetchall()[0][0] == 8135
    note = con.sql("select message from ops.file_ledger where table_name = 'customers'").fetchall()
    assert note == [("dropped harmless extra columns: segment",)]


def test_injection_looking_text_is_stored_verbatim(con, source: Path) -> None:
    text = "'); drop table bronze.orders; -- <script>alert(1)</script> =cmd|' /C calc'!A0"
    reviews = source / "olist_order_reviews_dataset.csv"
    content = reviews.read_text(encoding="utf-8")
    first = content.splitlines()[1].split(",")
    review_id, order_id = first[0], first[1]
    quoted = '"' + text.replace('"', '""') + '"'
    line = f"{'9' * 32},{order_id},5,,{quoted},2018-01-01 00:00:00,2018-01-02 00:00:00\n"
    reviews.write_text(content + line, encoding="utf-8")
    _, outcome = load(con, source, "b1")
    assert outcome is not None and outcome.committed
    stored = con.sql(
        "select review_comment_message from bronze.order_reviews where review_id = ?",
        params=["9" * 32],
    ).fetchall()
    assert stored == [(text,)]
    assert review_id  # the sample row the new review sits beside is untouched
    assert con.sql("select count(*) from bronze.orders").fetchall()[0][0] == 8135


def test_an_orders_file_cut_at_a_row_boundary_is_refused_then_the_original_restored(
    con_b1, source: Path, tmp_path: Path
) -> None:
    before = fingerprints(con_b1)
    original = tmp_path / "orders_original.csv"
    shutil.copy(source / ORDERS, original)
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    ragged = "x,y\n"  # a parse error too: refused with the file, not kept in quarantine
    (source / ORDERS).write_text("".join([*lines[: len(lines) // 2], ragged]), encoding="utf-8")

    for attempt in ("b2", "b2-retry"):
        result, outcome = load(con_b1, source, attempt)
    assert result.tables == ["orders"] and outcome is not None and not outcome.committed
    blocking = {c.check_name: c for c in outcome.blocking}
    assert set(blocking) == {
        "row_count_drop_at_most_0.1",
        "referenced_by_order_items_order_id",
        "referenced_by_order_payments_order_id",
        "referenced_by_order_reviews_order_id",
    }
    assert ORDERS in blocking["row_count_drop_at_most_0.1"].sample_values[0]
    assert "OLIST_CORRECTIONS=orders" in blocking["row_count_drop_at_most_0.1"].sample_values[0]
    after = fingerprints(con_b1)
    for name in before:
        if name.split(".")[0] in DATA_TABLES:
            assert after[name] == before[name], name
    [(status, message)] = con_b1.sql(
        "select status, message from ops.file_ledger where status <> 'loaded'"
    ).fetchall()
    assert status == "refused" and "row_count_drop_at_most_0.1" in message

    shutil.copy(original, source / ORDERS)  # the complete file again: nothing to do
    result, outcome = load(con_b1, source, "b3")
    assert result.landed == [] and outcome is None
    assert con_b1.sql("select count(*) from bronze.orders").fetchall()[0][0] == 8135


def test_a_declared_correction_loads_and_the_earlier_version_can_be_restored(
    con_b1, source: Path, tmp_path: Path
) -> None:
    original = tmp_path / "orders_original.csv"
    shutil.copy(source / ORDERS, original)
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    (source / ORDERS).write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    _, outcome = load(con_b1, source, "b2", corrections=("orders",))
    assert outcome is not None and outcome.committed
    assert con_b1.sql("select count(*) from bronze.orders").fetchall()[0][0] == len(lines) // 2 - 1
    orphans = next(
        c for c in outcome.checks if c.check_name.startswith("referenced_by_order_items")
    )
    assert (orphans.passed, orphans.severity) == (False, "warning")

    shutil.copy(original, source / ORDERS)  # an earlier version delivered again is restored
    result, outcome = load(con_b1, source, "b3")
    assert result.tables == ["orders"] and outcome is not None and outcome.committed
    assert con_b1.sql("select count(*) from bronze.orders").fetchall()[0][0] == 8135


def test_a_reviews_file_cut_inside_a_quoted_field_is_refused(con_b1, source: Path) -> None:
    before = fingerprints(con_b1)
    reviews = source / "olist_order_reviews_dataset.csv"
    data = reviews.read_bytes()
    middle = data.index(b',"', len(data) // 2) + 10  # inside a quoted comment
    reviews.write_bytes(data[:middle])
    with pytest.raises(ingest.TruncatedFileError) as err:
        load(con_b1, source, "b2")
    assert "olist_order_reviews_dataset.csv" in str(err.value)
    assert "cut short" in str(err.value)
    assert fingerprints(con_b1) == before


def test_a_review_of_an_order_that_came_in_a_batch_is_not_an_orphan(
    con_b1, source: Path, tmp_path: Path
) -> None:
    from ingestion import batches
    from synthetic.batches import generate_batch

    folder = tmp_path / "batches"
    generate_batch(source, folder, n_orders=5, seed=3)
    batches.land_batches(con_b1, folder, "r1")
    assert batches.clean_batches(con_b1, "r1")[2]
    (order_id,) = con_b1.sql("select order_id from bronze.batch_orders limit 1").fetchall()[0]
    reviews = source / "olist_order_reviews_dataset.csv"
    reviews.write_text(
        reviews.read_text(encoding="utf-8")
        + f"{'9' * 32},{order_id},5,,,2018-01-01 00:00:00,2018-01-02 00:00:00\n",
        encoding="utf-8",
    )
    result, outcome = load(con_b1, source, "b2")
    assert result.tables == ["order_reviews"] and outcome is not None and outcome.committed
    assert con_b1.sql("select count(*) from quarantine.order_reviews").fetchall()[0][0] == 0
    assert (
        con_b1.execute(
            "select count(*) from bronze.order_reviews where order_id = ?", [order_id]
        ).fetchall()[0][0]
        == 1
    )
