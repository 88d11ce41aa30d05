"""Contracts and checks on the real Olist sample: its known quirks must show up."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from olist import cleaning, ingest


@pytest.fixture(scope="module")
def landed(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("wh") / "wh.duckdb"))
    files = ingest.ingest_folder(con, sample_dir, "sample")
    results = cleaning.clean_all(con, "sample-run")
    yield con, files, results
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
