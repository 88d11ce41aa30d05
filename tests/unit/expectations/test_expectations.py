"""GX on DuckDB: the pinned GX must push checks down and give exact counts (this guards the
private persisted-connection name we extend)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe

from expectations import TableSuite, run_suites
from expectations.checkpoints import _parts, docs_pages
from expectations.suites import SUITES, Baseline

FULL_BASELINE = Baseline(
    row_counts={"fct_orders": 100, "dim_customers": 90},
    mean_order_value=150.0,
    five_star_share=0.57,
    freshness_floor=datetime(2018, 8, 1),
)


def test_every_expectation_has_a_severity_and_a_rationale() -> None:
    incremental = replace(FULL_BASELINE, touched_orders=("o1",))
    for suite in SUITES:
        for expectation in [*suite.build(FULL_BASELINE), *suite.build(incremental)]:
            assert str(expectation.severity).split(".")[-1].lower() in {
                "critical",
                "warning",
                "info",
            }
            assert expectation.meta and expectation.meta.get("rationale")


def _gold_table(tmp_path: Path, select: str) -> Path:
    """A warehouse file with one table, ``gold.t``, made by ``select``."""
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema gold")
        con.execute(f"create table gold.t as {select}")
    finally:
        con.close()
    return path


def test_checkpoint_counts_failures_exactly_and_releases_the_file(tmp_path: Path) -> None:
    path = _gold_table(tmp_path, "select (i % 900) as k, i as v from range(1000) r(i)")
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeUnique(
                column="k", severity="critical", meta={"rationale": "key"}
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="v",
                min_value=0,
                max_value=989,
                severity="warning",
                meta={"rationale": "range"},
            ),
        ],
    )
    outcomes = {o.expectation: o for o in run_suites(f"duckdb:///{path}", [suite])}
    unique = outcomes["expect_column_values_to_be_unique"]
    between = outcomes["expect_column_values_to_be_between"]
    assert (unique.success, unique.severity, unique.element_count, unique.unexpected_count) == (
        False,
        "critical",
        1000,
        200,
    )
    assert (between.success, between.severity, between.unexpected_count) == (False, "warning", 10)
    duckdb.connect(str(path)).close()  # GX let go of the file


def _reconciliation_warehouse(path: Path, gold_revenue: float) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema silver; create schema gold_audit")
    con.execute(
        "create table silver.stg_olist__orders as select * from (values "
        "('o1', 'delivered', false), ('o2', 'delivered', false), ('o3', 'canceled', false), "
        "('o9', 'delivered', true)) t(order_id, order_status, is_future_dated)"
    )
    con.execute(
        "create table silver.stg_olist__order_items as select * from (values "
        "('o1', 10.00), ('o2', 5.50), ('o3', 99.00), ('o9', 1.00)) t(order_id, price)"
    )
    con.execute(
        "create table gold_audit.agg_sales_daily as select date '2018-01-01' + cast(i as integer) as date_day, "
        f"{gold_revenue} / 2 as revenue from range(2) r(i)"
    )
    con.close()


def test_gold_revenue_must_reconcile_with_silver_in_the_audit_schema(tmp_path: Path) -> None:
    from expectations.suites import agg_sales_daily

    suite = TableSuite("gold", "agg_sales_daily", agg_sales_daily)
    for revenue, reconciled in ((15.50, True), (15.00, False)):
        path = tmp_path / f"wh-{revenue}.duckdb"
        _reconciliation_warehouse(path, revenue)
        outcomes = run_suites(f"duckdb:///{path}", [suite], read_schemas={"gold": "gold_audit"})
        (check,) = [o for o in outcomes if o.expectation == "unexpected_rows_expectation"]
        assert (check.success, check.severity) == (reconciled, "critical")
        assert check.schema == "gold"  # reported as the gold layer, read from the audit


def test_history_bands_come_from_the_last_publication(tmp_path: Path) -> None:
    from quality.checks import baseline_of
    from warehouse.engine import DuckDBWarehouse

    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema gold")
    con.execute(
        "create table gold.fct_orders as select i as order_id, 100.0 + i % 3 as order_value, "
        "case when i % 4 = 0 then null when i % 2 = 0 then 5 else 3 end as review_score "
        "from range(200) r(i)"
    )
    con.close()
    with DuckDBWarehouse(path, read_only=True) as wh:
        baseline = baseline_of(wh, freshness_max_age_days=3, now=datetime(2018, 9, 4))
    assert baseline.row_counts == {"fct_orders": 200}
    assert baseline.mean_order_value == 100.995
    assert round(baseline.five_star_share, 4) == round(50 / 150, 4)
    assert baseline.freshness_floor == datetime(2018, 9, 1)
    (orders,) = [s for s in SUITES if s.table == "fct_orders"]
    built = {type(e).__name__: e for e in orders.build(baseline)}
    assert built["ExpectTableRowCountToBeBetween"].min_value == 180  # a >10% drop warns
    assert str(built["ExpectColumnMeanToBeBetween"].severity).lower().endswith("warning")


def test_freshness_floor_is_utc_naive_for_duckdb_and_aware_for_bigquery() -> None:
    from datetime import UTC, timedelta, timezone

    from quality.checks import freshness_floor

    assert freshness_floor(None) is None
    naive_now = datetime(2018, 9, 4, 12, 0)
    assert freshness_floor(3, naive_now) == datetime(2018, 9, 1, 12, 0)  # naive is UTC
    assert freshness_floor(3, naive_now, aware=True) == datetime(2018, 9, 1, 12, 0, tzinfo=UTC)
    brasilia = datetime(2018, 9, 4, 9, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert freshness_floor(3, brasilia) == datetime(2018, 9, 1, 12, 0)  # same instant, UTC
    assert freshness_floor(0, aware=True).tzinfo is UTC  # default now: the current UTC time
    assert freshness_floor(0).tzinfo is None


def test_an_expectation_whose_query_fails_reports_the_error(tmp_path: Path) -> None:
    """GX files a failed metric under a per-metric key of ``exception_info``; the outcome
    must carry its message, not look like an ordinary failed check."""
    path = _gold_table(tmp_path, "select i as k from range(10) r(i)")
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeInSet(
                column="k",
                value_set=[1],
                row_condition='col("missing")>0',
                condition_parser="great_expectations",
                severity="warning",
                meta={"rationale": "a query that cannot run"},
            )
        ],
    )
    (outcome,) = run_suites(f"duckdb:///{path}", [suite])
    assert not outcome.success
    assert outcome.exception and "missing" in outcome.exception


def test_a_suite_reads_its_columns_names_without_computing_the_rows(tmp_path: Path) -> None:
    """GX runs a query asset's query to learn its column names; whole, it would compute
    every row of a staging view for that (read_column_names_without_rows). Here computing a
    row of ``boom`` raises, and no expectation reads it."""
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema gold")
        con.execute(
            "create view gold.t as select i as k, error('a row was computed') as boom "
            "from range(3) r(i)"
        )
    finally:
        con.close()
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToNotBeNull(
                column="k", severity="critical", meta={"rationale": "keys"}
            )
        ],
    )
    (outcome,) = run_suites(f"duckdb:///{path}", [suite])
    assert outcome.exception is None and outcome.success and outcome.element_count == 3


def test_a_pair_check_names_both_columns(tmp_path: Path) -> None:
    """A pair expectation has no ``column``: its outcome (and so its check_results row and
    the report) names ``column_A, column_B`` instead of nothing."""
    db = tmp_path / "pair.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema silver")
        con.execute("create table silver.t as select 2 as a, 1 as b union all select 1, 3")
    suite = TableSuite(
        "silver",
        "t",
        lambda _: [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="a", column_B="b", severity="warning", meta={"rationale": "a after b"}
            )
        ],
    )
    (outcome,) = run_suites(f"duckdb:///{db}", [suite])
    assert outcome.column == "a, b"
    assert not outcome.success and outcome.unexpected_count == 1


def test_data_docs_escape_failing_values_that_hold_markup(tmp_path: Path) -> None:
    markup = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    path = _gold_table(
        tmp_path,
        f"select * from (values ('ok'), ($${markup}$$), ($$<b>bold</b>$$)) t(v)",
    )
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeInSet(
                column="v", value_set=["ok"], severity="warning", meta={"rationale": "set"}
            )
        ],
    )
    docs = tmp_path / "docs"
    (outcome,) = run_suites(f"duckdb:///{path}", [suite], docs_dir=docs, run_name="r1")
    assert outcome.unexpected_count == 2
    assert markup in outcome.sample_values  # what we record stays as delivered
    pages = docs_pages(docs, "r1")
    assert pages, "no Data Docs validation page was written"
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert "<script>alert" not in text and "<img src=x" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert" in text or "&amp;lt;script&amp;gt;alert" in text


def test_data_docs_hold_no_external_url_and_a_usable_index(tmp_path: Path) -> None:
    """GX writes its pages against CDNs (Bootstrap, jQuery, Vega, its logo on S3): offline
    they were unstyled and their scripts failed. After a build no page refers outside the
    site, each has the local stylesheet, and the index lists the run's pages."""
    from expectations.offline_docs import EXTERNAL_URL, STYLESHEET

    path = _gold_table(tmp_path, "select * from (values ('ok'), ('no')) t(v)")
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeInSet(column="v", value_set=["ok"], severity="warning")
        ],
    )
    docs = tmp_path / "docs"
    run_suites(f"duckdb:///{path}", [suite], docs_dir=docs, run_name="r1")
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 3  # the index, the suite, the validation
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL_URL.search(text), page
        assert "<script>" not in text, page  # GX's inline scripts are jQuery
        assert Path(STYLESHEET).name in text, page
    (validation,) = docs_pages(docs, "r1")
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert validation.relative_to(docs).as_posix() in index
    assert (docs / STYLESHEET).is_file()


def test_one_docs_build_renders_every_suites_page_and_lists_them_in_the_index(
    tmp_path: Path,
) -> None:
    """A checkpoint of several suites builds its Data Docs once; each suite still gets its
    validation page and the index links to all of them."""
    path = _gold_table(tmp_path, "select * from (values ('ok'), ('no')) t(v)")
    with duckdb.connect(str(path)) as con:
        con.execute("create table gold.u as select * from gold.t")
    suites = [
        TableSuite(
            "gold",
            table,
            lambda _: [
                gxe.ExpectColumnValuesToBeInSet(column="v", value_set=["ok"], severity="warning")
            ],
        )
        for table in ("t", "u")
    ]
    docs = tmp_path / "docs"
    run_suites(f"duckdb:///{path}", suites, docs_dir=docs, run_name="r1")
    pages = docs_pages(docs, "r1")
    assert len(pages) == 2
    index = (docs / "index.html").read_text(encoding="utf-8")
    for page in pages:
        assert page.relative_to(docs).as_posix() in index


def test_an_offline_page_keeps_its_content_and_local_links() -> None:
    from expectations.offline_docs import EXTERNAL_URL, offline_page

    page = (
        '<html><head><link rel="stylesheet" href="https://cdn.x/bootstrap.css"/>'
        '<script src="https://code.jquery.com/jquery.js"></script>'
        '<link rel="shortcut icon" href="../static/images/favicon.ico" type="image/x-icon"/>'
        "<style>.navbar-brand a { background: url('https://s3/logo.png') 0 0; }</style></head>"
        '<body><img src="https://s3/logo-long.png?d=1"><script>$(".m").modal();</script>'
        '<a href="../index.html">Home</a><table><tr><td>8 unexpected</td></tr></table>'
        '<footer><a href="https://greatexpectations.io/newsletter">Subscribe</a></footer>'
        "</body></html>"
    )
    out = offline_page(page, "s.css", "s.js", "logo.png", "fav.ico")
    assert not EXTERNAL_URL.search(out) and "https://" not in out
    assert "<td>8 unexpected</td>" in out and '<a href="../index.html">Home</a>' in out
    assert '<img src="logo.png">' in out and 'href="fav.ico"' in out
    assert '<link rel="stylesheet" href="s.css"><script src="s.js"></script>' in out
    assert offline_page(out, "s.css", "s.js", "logo.png", "fav.ico") == out  # idempotent


def test_an_incremental_run_checks_row_rules_on_its_rows_and_uniqueness_on_the_table(
    tmp_path: Path,
) -> None:
    # 10 old rows, one with a null (reported by the run that loaded it); 3 new rows, one
    # with a null and one repeating an old row's key
    path = _gold_table(
        tmp_path,
        "select i as k, case when i = 3 then null else i end as v, "
        "timestamp '2026-01-01 00:00:00' as _loaded_at from range(10) r(i) "
        "union all select * from (values (100, 1, timestamp '2026-01-02 00:00:00'), "
        "(101, null, timestamp '2026-01-02 00:00:00'), (5, 2, timestamp '2026-01-02 00:00:00')) "
        "t(k, v, _loaded_at)",
    )
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeUnique(column="k", meta={"rationale": "key"}),
            gxe.ExpectColumnValuesToNotBeNull(column="v", meta={"rationale": "row"}),
            gxe.ExpectColumnValuesToBeBetween(
                column="v", min_value=0, mostly=0.5, meta={"rationale": "a share"}
            ),
        ],
        load_column="_loaded_at",
    )

    def outcomes(**kwargs: object) -> dict[str, tuple]:
        return {
            o.expectation: (o.success, o.element_count, o.unexpected_count)
            for o in run_suites(f"duckdb:///{path}", [suite], **kwargs)  # type: ignore[arg-type]
        }

    assert outcomes(loaded_after=datetime(2026, 1, 1)) == {
        # the new rows only: the new null is caught, the old one is not reported again
        "expect_column_values_to_not_be_null": (False, 3, 1),
        # the whole table: the new row repeating an old key is caught
        "expect_column_values_to_be_unique": (False, 13, 2),
        "expect_column_values_to_be_between": (True, 13, 0),  # mostly: a share of the table
    }
    assert outcomes()["expect_column_values_to_not_be_null"] == (False, 13, 2)  # daily: whole


def test_with_its_touched_orders_a_run_checks_order_keys_on_those_orders_rows(
    tmp_path: Path,
) -> None:
    # orders 0-9 loaded before the cut, 0 and 1 sharing a line key (not touched: reported by
    # the run that loaded them); order 5 gets a new line repeating an old line's key
    path = _gold_table(
        tmp_path,
        "select cast(i as varchar) as order_id, 1 as line, i as v, "
        "timestamp '2026-01-01 00:00:00' as _loaded_at from range(10) r(i) "
        "union all select '1', 1, 1, timestamp '2026-01-01 00:00:00' "
        "union all select '5', 1, null, timestamp '2026-01-02 00:00:00' "
        "union all select '7', 2, 7, timestamp '2026-01-02 00:00:00' "
        "union all select null, 1, 8, timestamp '2026-01-02 00:00:00'",
    )
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["order_id", "line"], meta={"rationale": "key"}
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="v", meta={"rationale": "row"}),
            gxe.ExpectColumnValuesToNotBeNull(column="order_id", meta={"rationale": "key"}),
            gxe.ExpectColumnValuesToBeUnique(column="v", meta={"rationale": "not by order"}),
        ],
        load_column="_loaded_at",
        order_key="order_id",
    )
    found = {
        (o.expectation, o.column): (o.success, o.element_count, o.unexpected_count)
        for o in run_suites(
            f"duckdb:///{path}",
            [suite],
            loaded_after=datetime(2026, 1, 1),
            touched_orders=["5", "7"],
        )
    }
    assert found == {
        # the rows of orders 5 and 7 (and any row without an order key): the repeated key is
        # caught, 0/1's is not read
        ("expect_compound_columns_to_be_unique", "order_id, line"): (False, 5, 2),
        # and the row rules: those rows, an old one of order 5 included; the keyless row
        # is read, so the key's not-null check can fail
        ("expect_column_values_to_not_be_null", "v"): (False, 5, 1),
        ("expect_column_values_to_not_be_null", "order_id"): (False, 5, 1),
        # no order key: the whole table
        ("expect_column_values_to_be_unique", "v"): (False, 14, 6),
    }


def test_the_touched_scope_reads_a_plain_key_list_and_the_keyless_rows_apart() -> None:
    """Two filters joined by a union, not `order_id is null or order_id in (...)`: with the
    disjunction DuckDB evaluated the filter over every row of a staging view (0.96 s against
    0.05 s a query for stg_olist__order_items at scale 10, several queries a suite), which
    made a scale-10 batch's GX stage 36 s instead of 7 s."""
    suite = TableSuite("silver", "v", lambda _: [], load_column="_loaded_at", order_key="order_id")
    row_rule = gxe.ExpectColumnValuesToNotBeNull(column="v", meta={"rationale": "row"})

    (_, (name, query, scoped)) = _parts(
        suite, "silver.v", [row_rule], datetime(2026, 1, 1), ("o1", "o2")
    )
    (_, (_, nothing_touched, _)) = _parts(suite, "silver.v", [row_rule], datetime(2026, 1, 1), ())

    assert name.endswith(":touched orders") and scoped == [row_rule]
    assert query == (
        "select * from silver.v where order_id in ('o1', 'o2') "
        "union all select * from silver.v where order_id is null"
    )
    assert nothing_touched == "select * from silver.v where order_id is null"


def _published_revenue(path: Path, audit_revenue: float) -> None:
    """Published gold of 15.50 revenue (o1 10.00 + o2 5.50, delivered); since then o2 was
    delivered again at 7.50 and o4 (4.00) is new, both delivered: silver adds 6.00. o5 is
    future-dated: left out of gold, and of the comparison. The published daily mart is a
    run behind the facts (a BigQuery publish cut off between them): not read."""
    con = duckdb.connect(str(path))
    con.execute("create schema silver; create schema gold; create schema gold_audit")
    con.execute(
        "create table silver.stg_olist__orders as select * from (values "
        "('o1', 'delivered', false), ('o2', 'delivered', false), ('o3', 'canceled', false), "
        "('o4', 'delivered', false), ('o5', 'delivered', true)) "
        "t(order_id, order_status, is_future_dated)"
    )
    con.execute(
        "create table silver.stg_olist__order_items as select * from (values "
        "('o1', 10.00), ('o2', 7.50), ('o3', 99.00), ('o4', 4.00), ('o5', 2.00)) "
        "t(order_id, price)"
    )
    con.execute(
        "create table gold.fct_orders as select * from (values ('o1', 'delivered', 10.00), "
        "('o2', 'delivered', 5.50), ('o3', 'canceled', 99.00)) t(order_id, order_status, items_value)"
    )
    con.execute("create table gold.agg_sales_daily as select 12.00 as revenue")
    con.execute(f"create table gold_audit.agg_sales_daily as select {audit_revenue} as revenue")
    con.close()


def test_an_incremental_run_reconciles_the_revenue_it_adds_with_its_orders_in_silver(
    tmp_path: Path,
) -> None:
    from expectations.suites import agg_sales_daily

    suite = TableSuite("gold", "agg_sales_daily", agg_sales_daily)
    for revenue, reconciled in ((21.50, True), (19.50, False), (15.50, False)):
        path = tmp_path / f"wh-{revenue}.duckdb"
        _published_revenue(path, revenue)
        outcomes = run_suites(
            f"duckdb:///{path}",
            [suite],
            read_schemas={"gold": "gold_audit"},
            loaded_after=datetime(2026, 1, 1),
            touched_orders=["o2", "o4", "o5"],
        )
        (check,) = [o for o in outcomes if o.expectation == "unexpected_rows_expectation"]
        assert (check.success, check.severity) == (reconciled, "critical"), revenue
