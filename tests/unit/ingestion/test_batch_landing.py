"""Order batches never wedge: a file that cannot be read or validated is refused on its own
(``rejected/`` with a reason and one ledger row), bad orders are quarantined whole, and an
order delivered twice in one run resolves as across runs (the later file wins)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingestion import batches


def order(n: int, status: str = "approved", price: object = 10.5) -> dict:
    """A valid order (ids are hex from ``n``), with one item and one payment."""
    return {
        "order_id": f"{n:032x}",
        "order_status": status,
        "order_purchase_timestamp": "2018-10-18 10:00:00",
        "order_approved_at": "2018-10-18 10:05:00",
        "order_estimated_delivery_date": "2018-11-01 00:00:00",
        "customer": {
            "customer_id": f"c{n:031x}",
            "customer_unique_id": f"d{n:031x}",
            "customer_zip_code_prefix": "01012",
            "customer_city": "sao paulo",
            "customer_state": "SP",
        },
        "items": [
            {
                "order_item_id": 1,
                "product_id": "e" * 32,
                "seller_id": "f" * 32,
                "shipping_limit_date": "2018-10-24 10:00:00",
                "price": price,
                "freight_value": 2,
            }
        ],
        "payments": [
            {
                "payment_sequential": 1,
                "payment_type": "credit_card",
                "payment_installments": 2,
                "payment_value": 12.5,
            }
        ],
    }


def write(folder: Path, name: str, orders: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"batch_id": name, "orders": orders}), encoding="utf-8")
    return path


def run(
    con: duckdb.DuckDBPyConnection, folder: Path, run_id: str, max_bytes: int = 1 << 28
) -> tuple[bool, dict]:
    batches.land_batches(con, folder, run_id, max_bytes)
    _, _, committed = batches.clean_batches(con, run_id)
    return committed, batches.file_away(con, folder)


def count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield connection
    connection.close()


def test_a_deeply_nested_batch_is_rejected_and_the_good_one_beside_it_loads(
    con, tmp_path: Path
) -> None:
    folder = tmp_path / "batches"
    write(folder, "b1_good.json", [order(i) for i in range(1, 4)])
    depth = 200_000
    (folder / "b0_nested.json").write_text(
        '{"batch_id": "x", "orders": ' + "[" * depth + "]" * depth + "}", encoding="utf-8"
    )
    committed, moved = run(con, folder, "r1")
    assert committed
    assert moved == {"archive": ["b1_good.json"], "rejected": ["b0_nested.json"]}
    assert count(con, "select count(*) from bronze.batch_orders") == 3
    reason = (folder / "rejected" / "b0_nested.json.reason.txt").read_text(encoding="utf-8")
    assert "b0_nested.json" in reason and "nested too deeply" in reason
    ledger = con.execute(
        "select file_name, status from ops.file_ledger order by file_name"
    ).fetchall()
    assert ledger == [("b0_nested.json", "rejected"), ("b1_good.json", "loaded")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip bytes"),
        (b"PK\x03\x04" + b"\x00" * 20, "zip (or xlsx) bytes"),
        (b'{"batch_id": "x", "orders": [\xff]}', "not UTF-8"),
        (b'{"batch_id": "x", "orders": [', "not valid JSON"),
        (b'{"batch_id": "x", "orders": [{"order_id": {}}]}', "missing"),
    ],
)
def test_an_unreadable_batch_is_refused_with_a_reason_naming_the_file(
    con, tmp_path: Path, content: bytes, message: str
) -> None:
    folder = tmp_path / "batches"
    folder.mkdir()
    (folder / "bad.json").write_bytes(content)
    write(folder, "good.json", [order(1)])
    committed, moved = run(con, folder, "r1")
    assert committed and moved == {"archive": ["good.json"], "rejected": ["bad.json"]}
    reason = (folder / "rejected" / "bad.json.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("bad.json: ") and message in reason


def test_a_batch_larger_than_the_limit_is_refused_unread(con, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    write(folder, "big.json", [order(i) for i in range(1, 50)])
    write(folder, "small.json", [])
    committed, moved = run(con, folder, "r1", max_bytes=1000)
    assert committed and moved["rejected"] == ["big.json"]
    message = con.execute(
        "select message from ops.file_ledger where file_name = 'big.json'"
    ).fetchall()[0][0]
    assert "OLIST_MAX_BATCH_BYTES" in message


def test_an_overflowing_price_quarantines_its_order_and_bronze_still_casts(
    con, tmp_path: Path
) -> None:
    folder = tmp_path / "batches"
    orders = [order(i) for i in range(1, 201)]
    orders[7] = order(8, price="99999999999999999999.99")  # matches \d+(\.\d+)?
    write(folder, "b1.json", orders)
    committed, moved = run(con, folder, "r1")
    assert committed and moved["archive"] == ["b1.json"]
    bad = f"{8:032x}"
    for table in ("batch_orders", "batch_order_items", "batch_order_payments"):
        assert count(con, f"select count(*) from bronze.{table} where order_id = ?", [bad]) == 0
        assert count(con, f"select count(*) from quarantine.{table} where order_id = ?", [bad]) == 1
    assert count(con, "select count(*) from quarantine.batch_customers") == 1
    reason = con.execute("select _reason from quarantine.batch_order_items").fetchall()[0][0]
    assert reason.startswith("price: str_matches")
    # what bronze holds is what numeric(18, 2) can hold: the dbt cast cannot fail
    assert (
        count(con, "select count(cast(price as numeric(18, 2))) from bronze.batch_order_items")
        == 199
    )
    assert count(con, "select loaded from ops.file_ledger") == 199


def test_a_batch_mostly_bad_is_refused_alone_and_the_others_load(con, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    write(folder, "a.json", [order(1, status="lost"), order(2)])
    write(folder, "b.json", [order(3), order(4)])
    committed, moved = run(con, folder, "r1")
    assert committed and moved == {"archive": ["b.json"], "rejected": ["a.json"]}
    assert count(con, "select count(*) from bronze.batch_orders") == 2
    assert count(con, "select count(*) from quarantine.batch_orders") == 0
    reason = (folder / "rejected" / "a.json.reason.txt").read_text(encoding="utf-8")
    assert "1 of 2 orders" in reason and "order_status: isin" in reason
    (folder / "rejected" / "a.json").rename(folder / "a.json")  # delivered again, unchanged
    committed, moved = run(con, folder, "r2")
    assert committed and moved == {"archive": [], "rejected": ["a.json"]}
    ledger = con.execute(
        "select file_name, status, count(*) from ops.file_ledger group by all order by 1"
    ).fetchall()
    assert ledger == [("a.json", "rejected", 1), ("b.json", "loaded", 1)]


def test_one_order_in_two_files_of_one_run_resolves_to_the_later_delivery(
    con, tmp_path: Path
) -> None:
    folder = tmp_path / "batches"
    write(folder, "batch_0001.json", [order(1), order(2)])
    write(folder, "batch_0002.json", [order(1, status="delivered")])
    committed, moved = run(con, folder, "r1")
    assert committed and sorted(moved["archive"]) == ["batch_0001.json", "batch_0002.json"]
    assert count(con, "select count(*) from quarantine.batch_orders") == 0
    # what dbt's latest_delivery keeps: the row loaded last
    latest = con.execute(
        "select order_status, _source_file from bronze.batch_orders where order_id = ? "
        "order by _loaded_at desc limit 1",
        [f"{1:032x}"],
    ).fetchall()
    assert latest == [("delivered", "batch_0002.json")]
    ties = count(
        con,
        "select count(*) from (select order_id, _loaded_at from bronze.batch_orders "
        "group by all having count(*) > 1)",
    )
    assert ties == 0


def test_a_retry_after_a_refused_load_adds_no_ledger_rows(con, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    write(folder, "good.json", [order(1)])
    (folder / "bad.json").write_text("{", encoding="utf-8")
    for attempt in ("r1", "r2", "r3"):
        batches.land_batches(con, folder, attempt)  # landed, then "killed" before clean
    committed, _ = run(con, folder, "r4")
    assert committed
    ledger = con.execute(
        "select file_name, status, count(*) from ops.file_ledger group by all order by 1"
    ).fetchall()
    assert ledger == [("bad.json", "rejected", 1), ("good.json", "loaded", 1)]


def test_a_batch_with_a_byte_order_mark_loads(con, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    folder.mkdir()
    doc = json.dumps({"batch_id": "bom", "orders": [order(1)]})
    (folder / "bom.json").write_bytes(b"\xef\xbb\xbf" + doc.encode("utf-8"))
    committed, moved = run(con, folder, "r1")
    assert committed and moved == {"archive": ["bom.json"], "rejected": []}


def test_rows_landed_by_an_abandoned_attempt_never_reach_bronze(con, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    write(folder, "gone.json", [order(1)])
    batches.land_batches(con, folder, "r1")  # landed, then the run died
    (folder / "gone.json").unlink()  # and the file was taken back
    committed, _ = run(con, folder, "r2")
    assert committed
    assert count(con, "select count(*) from bronze.batch_orders") == 0
    assert count(con, "select count(*) from ops.file_ledger") == 0
