from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import duckdb
import pytest

from contracts.sources import SOURCES
from synthetic import vocab
from synthetic.calibration import profile
from synthetic.generator import LATENT_DIR, LATENT_FILE, generate


def _count(folder: Path, file: str, where: str = "true", expr: str = "count(*)") -> float:
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in vocab.HEADERS[file])
    sql = (
        f"select {expr} from read_csv('{(folder / file).as_posix()}', header=true, delim=',', "
        f"quote='\"', escape='\"', auto_detect=false, columns={{{cols}}}) where {where}"
    )
    return duckdb.sql(sql).fetchall()[0][0]


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, scale=0.02, seed=7)
    generate(b, scale=0.02, seed=7)
    for source in SOURCES:
        assert filecmp.cmp(a / source.file, b / source.file, shallow=False), source.file
    assert filecmp.cmp(a / LATENT_DIR / LATENT_FILE, b / LATENT_DIR / LATENT_FILE, shallow=False)


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=0.02, seed=1)
    generate(tmp_path / "b", scale=0.02, seed=2)
    assert not filecmp.cmp(
        tmp_path / "a" / "olist_orders_dataset.csv",
        tmp_path / "b" / "olist_orders_dataset.csv",
        shallow=False,
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.file)
def test_header_line_is_byte_identical_to_the_real_sample(
    synthetic_dir: Path, sample_dir: Path, source
) -> None:
    with (
        (synthetic_dir / source.file).open("rb") as mine,
        (sample_dir / source.file).open("rb") as real,
    ):
        assert mine.readline() == real.readline()


def test_category_translation_matches_the_real_vocabulary(
    synthetic_dir: Path, sample_dir: Path
) -> None:
    def rows(folder: Path) -> set[tuple[str, ...]]:
        with (folder / "product_category_name_translation.csv").open(encoding="utf-8") as fh:
            return {tuple(r) for r in list(csv.reader(fh))[1:]}

    assert rows(synthetic_dir) == rows(sample_dir)


@pytest.mark.parametrize(
    ("child", "child_file", "parent", "parent_file"),
    [
        ("order_id", "olist_order_items_dataset.csv", "order_id", "olist_orders_dataset.csv"),
        ("order_id", "olist_order_payments_dataset.csv", "order_id", "olist_orders_dataset.csv"),
        ("order_id", "olist_order_reviews_dataset.csv", "order_id", "olist_orders_dataset.csv"),
        ("product_id", "olist_order_items_dataset.csv", "product_id", "olist_products_dataset.csv"),
        ("seller_id", "olist_order_items_dataset.csv", "seller_id", "olist_sellers_dataset.csv"),
        ("customer_id", "olist_orders_dataset.csv", "customer_id", "olist_customers_dataset.csv"),
    ],
)
def test_references_resolve(
    synthetic_dir: Path, child: str, child_file: str, parent: str, parent_file: str
) -> None:
    def rel(file: str) -> str:
        cols = ", ".join(f"'{c}': 'VARCHAR'" for c in vocab.HEADERS[file])
        return (
            f"read_csv('{(synthetic_dir / file).as_posix()}', header=true, delim=',', "
            f"quote='\"', escape='\"', auto_detect=false, columns={{{cols}}})"
        )

    orphans = duckdb.sql(
        f"select count(*) from {rel(child_file)} c where c.{child} not in "
        f"(select {parent} from {rel(parent_file)})"
    ).fetchall()[0][0]
    assert orphans == 0


def test_counts_at_scale_0_1_are_within_tolerance(synthetic_dir: Path) -> None:
    full = vocab.FULL_COUNTS
    assert _count(synthetic_dir, "olist_orders_dataset.csv") == round(full["orders"] * 0.1)
    assert _count(synthetic_dir, "olist_products_dataset.csv") == round(full["products"] * 0.1)
    assert _count(synthetic_dir, "olist_sellers_dataset.csv") == round(full["sellers"] * 0.1)
    assert _count(synthetic_dir, "olist_geolocation_dataset.csv") == round(
        full["geolocation"] * 0.1
    )
    for file, key, tol in [
        ("olist_order_items_dataset.csv", "items", 0.05),
        ("olist_order_payments_dataset.csv", "payments", 0.05),
        ("olist_order_reviews_dataset.csv", "reviews", 0.03),
    ]:
        assert _count(synthetic_dir, file) == pytest.approx(full[key] * 0.1, rel=tol), file
    people = _count(
        synthetic_dir, "olist_customers_dataset.csv", expr="count(distinct customer_unique_id)"
    )
    assert people == pytest.approx(full["unique_customers"] * 0.1, rel=0.03)


QUIRKS = {
    "duplicate geolocation rows": (
        "olist_geolocation_dataset.csv",
        "true",
        "count(*) - count(distinct (geolocation_zip_code_prefix, geolocation_lat, geolocation_lng, geolocation_city))",
    ),
    "geolocation outside Brazil": (
        "olist_geolocation_dataset.csv",
        "geolocation_lat::double > 5.3 or geolocation_lng::double > -34.7",
        "count(*)",
    ),
    "duplicate review ids": (
        "olist_order_reviews_dataset.csv",
        "true",
        "count(*) - count(distinct review_id)",
    ),
    "orders with several reviews": (
        "olist_order_reviews_dataset.csv",
        "true",
        "count(*) - count(distinct order_id)",
    ),
    "delivered without delivery date": (
        "olist_orders_dataset.csv",
        "order_status = 'delivered' and order_delivered_customer_date is null",
        "count(*)",
    ),
    "carrier before approval": (
        "olist_orders_dataset.csv",
        "order_delivered_carrier_date < order_approved_at",
        "count(*)",
    ),
    "not_defined payments": (
        "olist_order_payments_dataset.csv",
        "payment_type = 'not_defined'",
        "count(*)",
    ),
    "zero-value payments": (
        "olist_order_payments_dataset.csv",
        "payment_value::double = 0",
        "count(*)",
    ),
    "products without category": (
        "olist_products_dataset.csv",
        "product_category_name is null",
        "count(*)",
    ),
    "categories missing from translation": (
        "olist_products_dataset.csv",
        "product_category_name in ('pc_gamer', 'portateis_cozinha_e_preparadores_de_alimentos')",
        "count(*)",
    ),
    "zip prefixes with leading zero": (
        "olist_customers_dataset.csv",
        "customer_zip_code_prefix like '0%'",
        "count(*)",
    ),
    "review comments with embedded newlines": (
        "olist_order_reviews_dataset.csv",
        "review_comment_message like '%' || chr(13) || chr(10) || '%'",
        "count(*)",
    ),
    "accented city names": (
        "olist_geolocation_dataset.csv",
        "geolocation_city like '%ã%'",
        "count(*)",
    ),
    "city spelling variants": (
        "olist_geolocation_dataset.csv",
        "geolocation_city in ('sao paulo', 'sãopaulo', 'são paulo ', 'SÃO PAULO')",
        "count(*)",
    ),
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
def test_each_real_quirk_is_present(synthetic_dir: Path, quirk: str) -> None:
    file, where, expr = QUIRKS[quirk]
    assert _count(synthetic_dir, file, where, expr) > 0


def test_timestamps_use_the_kaggle_format(synthetic_dir: Path) -> None:
    bad = _count(
        synthetic_dir,
        "olist_orders_dataset.csv",
        "not regexp_full_match(order_purchase_timestamp, '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d')",
    )
    assert bad == 0


def test_history_spans_2016_09_to_2018_10(synthetic_dir: Path) -> None:
    first = _count(synthetic_dir, "olist_orders_dataset.csv", expr="min(order_purchase_timestamp)")
    last = _count(synthetic_dir, "olist_orders_dataset.csv", expr="max(order_purchase_timestamp)")
    assert str(first).startswith("2016-09") or str(first).startswith("2016-10")
    assert str(last) <= vocab.HISTORY_END and str(last) >= "2018-08"


def test_latent_file_has_one_row_per_customer_and_is_not_a_source(synthetic_dir: Path) -> None:
    latent = synthetic_dir / LATENT_DIR / LATENT_FILE
    people = _count(
        synthetic_dir, "olist_customers_dataset.csv", expr="count(distinct customer_unique_id)"
    )
    rows = duckdb.sql(
        f"select count(*), count(distinct customer_unique_id) from '{latent}'"
    ).fetchall()[0]
    assert rows == (people, people)
    assert latent.name not in {s.file for s in SOURCES}


def test_returning_customers_follow_their_latent_return_probability(synthetic_dir: Path) -> None:
    """Repeat purchases carry signal: customers with a higher latent return probability
    come back more often."""
    latent = synthetic_dir / LATENT_DIR / LATENT_FILE
    low, high = duckdb.sql(
        f"select avg(case when q = 1 then (n_orders > 1)::int end), "
        f"avg(case when q = 4 then (n_orders > 1)::int end) from "
        f"(select n_orders, ntile(4) over (order by baseline_return_probability) q from '{latent}')"
    ).fetchall()[0]
    assert high > 2 * low


def test_shape_is_close_to_the_real_sample(synthetic_dir: Path, sample_dir: Path) -> None:
    real, mine = profile(sample_dir), profile(synthetic_dir)
    for stat, tolerance in [
        ("delivered.late_rate", 0.04),
        ("items.single_item_order_share", 0.03),
        ("payments.boleto_share", 0.04),
        ("customers.sp_share", 0.04),
        ("delivered.avg_delivery_days", 2.0),
        ("reviews.title_share", 0.03),
    ]:
        assert mine[stat] == pytest.approx(real[stat], abs=tolerance), stat
