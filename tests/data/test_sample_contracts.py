"""Contracts and checks on the real Olist sample: its known quirks must show up."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion import cleaning
from ingestion import csv_files as ingest


@pytest.fixture(scope="module")
def landed(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("wh") / "wh.duckdb"))
    files = ingest.ingest_folder(con, sample_dir, "sample").landed
    outcome = cleaning.clean_all(con, "sample-run")
    assert outcome.committed
    yield con, files, outcome.tables
    con.close()


def test_every_record_of_the_sample_is_parsed(landed) -> None:
    _, files, _ = landed
    counts = {f.table: (f.loaded, f.rejected) for f in files}
    assert counts["orders"] == (8135, 0)
    assert counts["order_reviews"] == (8225, 0)  # records, though some span several lines
    assert counts["geolocation"] == (45928, 0)


def test_ledger_reconciles_every_file(landed) -> None:
    con, files, _ = landed
    rows = con.sql(
        "select file_name, source_records, loaded + quarantined, sha256 from ops.file_ledger"
    ).fetchall()
    assert len(rows) == 9
    assert all(records == accounted and len(sha) == 64 for _, records, accounted, sha in rows)


def test_sample_quirks_are_warnings_not_rejections(landed) -> None:
    con, _, results = landed
    orders = next(r for r in results if r.table == "orders")
    assert (orders.accepted, orders.quarantined) == (8135, 0)
    failed = {c.check_name: c for c in orders.checks if not c.passed}
    assert failed["delivered_has_delivery_date"].unexpected_count == 8
    assert failed["delivered_has_delivery_date"].severity == "warning"
    assert failed["carrier_not_before_approval"].unexpected_count == 77


def test_zip_prefixes_keep_their_leading_zeros(landed) -> None:
    con, _, _ = landed
    zeros = con.sql(
        "select count(*) from bronze.customers where customer_zip_code_prefix like '0%'"
    ).fetchall()[0][0]
    assert zeros > 0


@pytest.mark.parametrize(
    ("table", "check", "count"),
    [
        ("order_payments", "payment_type_defined", 3),
        ("order_payments", "payment_value_positive", 5),
        ("order_reviews", "field_uniqueness", 62),  # review ids reused across orders (rows)
        ("products", "product_has_category", 111),
        ("geolocation", "point_inside_brazil", 2),
        ("geolocation", "duplicate_rows", 9028),
    ],
)
def test_known_quirks_are_recorded_with_their_true_counts(landed, table, check, count) -> None:
    _, _, results = landed
    checks = next(r for r in results if r.table == table).checks
    assert (
        next(
            c for c in checks if c.check_name == check and (c.column_name in (None, "review_id"))
        ).unexpected_count
        == count
    )


def test_multiline_review_comments_survive_byte_for_byte(landed, sample_dir: Path) -> None:
    import csv

    con, _, _ = landed
    with (sample_dir / "olist_order_reviews_dataset.csv").open(encoding="utf-8", newline="") as fh:
        multi = {
            (r["review_id"], r["order_id"]): r["review_comment_message"]
            for r in csv.DictReader(fh)
            if "\n" in r["review_comment_message"]
        }
    stored = dict(
        ((rid, oid), msg)
        for rid, oid, msg in con.sql(
            "select review_id, order_id, review_comment_message from bronze.order_reviews "
            "where review_comment_message like '%' || chr(10) || '%'"
        ).fetchall()
    )
    assert len(multi) > 400
    assert stored == multi


def test_every_zip_prefix_has_five_characters(landed) -> None:
    con, _, _ = landed
    for table, column in [
        ("customers", "customer_zip_code_prefix"),
        ("sellers", "seller_zip_code_prefix"),
        ("geolocation", "geolocation_zip_code_prefix"),
    ]:
        bad = con.sql(f"select count(*) from bronze.{table} where length({column}) <> 5").fetchall()
        assert bad[0][0] == 0, table
