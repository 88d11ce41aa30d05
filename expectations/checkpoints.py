"""Build and run GX checkpoints against the warehouse with SQL pushdown.

DuckDB through duckdb-engine returns empty results unless GX keeps one persistent
connection (GX issue #11579): DuckDB drops a pending result when GX's pooled connection
is rolled back. ``enable_duckdb_pushdown`` adds DuckDB to GX's persisted-connection
dialects; the name is private, so the pinned GX version is tested in tests/unit.

BigQuery goes through GX's BigQuery datasource and sqlalchemy-bigquery: the caller passes the
engine arguments (``engine_kwargs``, e.g. a ready ``bigquery.Client`` in ``connect_args``;
see ``quality.gx_bigquery``). ``enable_bigquery_boolean_in_set`` works around a
sqlalchemy-bigquery bug that breaks ``expect_column_values_to_be_in_set`` on a BOOL column.
``read_column_names_without_rows`` keeps GX from running every query asset whole just to
read its column names.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
)
from great_expectations.execution_engine import sqlalchemy_execution_engine as _sa_engine
from great_expectations.expectations.metrics import util as _gx_metrics_util
from sqlalchemy import TextClause, text
from sqlalchemy import types as sa_types

from expectations.offline_docs import make_offline
from expectations.suites import Baseline, TableSuite, judges_orders_alone, judges_rows_alone
from warehouse.touched import in_list

# suffixes of the GX suites that check an incremental run's rows and the rows of the
# orders it touched (``run_suites``)
NEW_ROWS = ":new rows"
TOUCHED = ":touched orders"


class _DuckDBDialect(str):
    """Looks like a ``GXSqlDialect`` member to the code that reads the tuple."""

    value = "duckdb"


def enable_duckdb_pushdown() -> None:
    dialects = _sa_engine._PERSISTED_CONNECTION_DIALECTS
    if not any(getattr(d, "value", d) == "duckdb" for d in dialects):
        _sa_engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect("duckdb"))


def read_column_names_without_rows() -> None:
    """GX reads a query asset's column names by running the asset's query as it is and
    keeping only the cursor's column names (``column_reflection_fallback``, GX 1.24.1): a
    whole staging view ranked and materialized for each suite, 1.55 s for
    ``stg_olist__orders`` at scale 10, and on BigQuery a billed scan. Wrapped in ``limit 0``
    the query has the same columns and no rows. Idempotent; the function is GX's, so
    tests/unit/expectations checks the pinned version still calls it."""
    original = _gx_metrics_util.column_reflection_fallback
    if getattr(original, "reads_no_rows", False):
        return

    def without_rows(selectable: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(selectable, TextClause):
            selectable = text(f"select * from ({selectable.text}) as columns_only limit 0")
        return original(selectable, *args, **kwargs)

    without_rows.reads_no_rows = True  # type: ignore[attr-defined]
    _gx_metrics_util.column_reflection_fallback = without_rows


class _ArrayAwareBoolean(sa_types.Boolean):
    """``Boolean`` whose bind processor also takes a list of booleans.

    sqlalchemy-bigquery compiles ``col IN (...)`` as ``col IN UNNEST(@array)`` and binds the
    whole list as one parameter, but SQLAlchemy still applies the scalar BOOL processor to
    it: ``TypeError: unhashable type: 'list'`` (googleapis/python-bigquery-sqlalchemy#489,
    open in 1.17.3). INT64 and STRING have no processor, so only BOOL value sets break.
    """

    def bind_processor(self, dialect: Any) -> Any:
        scalar = super().bind_processor(dialect)
        if scalar is None:
            return None

        def process(value: Any) -> Any:
            if isinstance(value, list | tuple):
                return [scalar(v) for v in value]
            return scalar(value)

        return process


def enable_bigquery_boolean_in_set() -> None:
    """Give sqlalchemy-bigquery's dialect a list-aware ``Boolean`` (see ``_ArrayAwareBoolean``);
    idempotent. Imported here, so the DuckDB path does not need sqlalchemy-bigquery."""
    from sqlalchemy_bigquery.base import BigQueryDialect

    if BigQueryDialect.colspecs.get(sa_types.Boolean) is not _ArrayAwareBoolean:
        BigQueryDialect.colspecs = {
            **BigQueryDialect.colspecs,
            sa_types.Boolean: _ArrayAwareBoolean,
        }


@dataclass
class ExpectationOutcome:
    suite: str
    schema: str
    table: str
    column: str | None
    expectation: str
    severity: str
    success: bool
    rationale: str
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample_values: list[Any] = field(default_factory=list)
    exception: str | None = None


def _exception_message(info: Any) -> str | None:
    """The message of an expectation that raised. GX puts it at the top of
    ``exception_info`` or, when a metric failed, under one key per metric; the first raised
    one is kept, so a failed query is reported instead of a silent failure."""
    if not info:
        return None
    if info.get("exception_message"):
        return str(info["exception_message"])
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "exception without a message")
    return None


def expectation_columns(kwargs: Mapping[str, Any]) -> str | None:
    """The column(s) an expectation reads, so a pair or multicolumn check names them all:
    ``column``; ``column_A, column_B``; or the ``column_list``."""
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ", ".join(str(c) for c in kwargs["column_list"])
    return None


def _outcome(suite: TableSuite, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs or {}
    details = result.result or {}
    exception = _exception_message(result.exception_info)
    samples = details.get("partial_unexpected_list") or []
    if not samples and details.get("observed_value") is not None and not result.success:
        samples = [details["observed_value"]]
    return ExpectationOutcome(
        suite=suite.name,
        schema=suite.schema,
        table=suite.table,
        column=expectation_columns(kwargs),
        expectation=config.type,
        severity=str(getattr(config, "severity", None) or "critical").split(".")[-1].lower(),
        success=bool(result.success),
        rationale=(config.meta or {}).get("rationale", ""),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        observed_value=details.get("observed_value"),
        sample_values=list(samples)[:5],
        exception=exception,
    )


def _release(source: Any) -> None:
    """Close the persisted connection so other clients can open the DuckDB file again."""
    engine = source.get_execution_engine()
    connection = getattr(engine, "_connection", None)
    if connection is not None:
        connection.close()
        engine._connection = None
    engine.close()
    source.get_engine().dispose()  # the datasource keeps a second engine of its own


DOCS_SITE = "olist"


def escaped(value: Any) -> Any:
    """``value`` with every string in it HTML-escaped (lists and dicts walked)."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list | tuple):
        return [escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: escaped(v) for k, v in value.items()}
    return value


def build_escaped_docs(context: Any, result: Any) -> None:
    """Render the checkpoint's Data Docs pages from copies of its results whose observed
    values are HTML-escaped.

    GX 1.24 writes failing values (``partial_unexpected_list`` and the like) into the pages
    as they are, so markup in the data would run in the reader's browser. Our own report
    escapes what it renders; for GX's pages we store escaped copies in the (ephemeral)
    results store and build the site from those, instead of ``UpdateDataDocsAction``. The
    outcomes we record come from the untouched results."""
    identifiers: list[Any] = []
    for identifier, suite_result in result.run_results.items():
        safe = copy.deepcopy(suite_result)
        for expectation_result in safe.results:
            expectation_result.result = escaped(expectation_result.result)
        context.validation_results_store.set(identifier, safe)
        identifiers += [identifier, ExpectationSuiteIdentifier(name=suite_result.suite_name)]
    # one build for the whole checkpoint: each build also renders the site's index, so a
    # build per suite rendered it once per suite (a tenth of a flow test's time)
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)


def docs_pages(docs_dir: Path, run_name: str) -> list[Path]:
    """The Data Docs validation pages one run wrote (``validations/<suite>/<run>/...``)."""
    root = docs_dir / "validations"
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.html") if run_name in p.relative_to(root).parts)


def _parts(
    suite: TableSuite,
    table: str,
    expectations: list[Any],
    loaded_after: datetime | None,
    touched: tuple[str, ...] | None,
) -> list[tuple[str, str, list[Any]]]:
    """The GX suites one table's expectations are split into: (name, query, expectations).
    The whole table, unless an incremental run reads less (``run_suites``): the rows of the
    orders it touched, or else the rows loaded after its watermark. One scoped suite, not
    two: each suite costs GX a validation and a Data Docs page (~0.3 s at any scale)."""
    whole = f"select * from {table}"
    if loaded_after is None or not suite.load_column:
        return [(suite.name, whole, expectations)]
    if touched is not None and suite.order_key is not None:
        # rows without an order key too, so that a not-null check of the key can still fail.
        # A union, not `key is null or key in (...)`: DuckDB pushes each filter of the union
        # below the staging views' window, but not the disjunction, which ranks every
        # delivery ever loaded (stg_olist__order_items at scale 10: 0.05 s against 0.96 s a
        # query, and GX runs several per suite)
        key = suite.order_key
        without_key = f"{whole} where {key} is null"
        query = (
            f"{whole} where {key} in ({in_list(touched)}) union all {without_key}"
            if touched
            else without_key
        )
        scoped = [
            e
            for e in expectations
            if judges_rows_alone(e) or judges_orders_alone(e, suite.order_key)
        ]
        name = f"{suite.name}{TOUCHED}"
    else:
        after = f"{suite.load_column} > cast('{loaded_after.isoformat(sep=' ')}' as timestamp)"
        scoped = [e for e in expectations if judges_rows_alone(e)]
        name, query = f"{suite.name}{NEW_ROWS}", f"{whole} where {after}"
    return [
        (suite.name, whole, [e for e in expectations if all(e is not o for o in scoped)]),
        (name, query, scoped),
    ]


def run_suites(
    connection_string: str,
    suites: tuple[TableSuite, ...] | list[TableSuite],
    docs_dir: Path | None = None,
    read_schemas: Mapping[str, str] | None = None,
    baseline: Baseline | None = None,
    run_name: str | None = None,
    engine_kwargs: Mapping[str, Any] | None = None,
    loaded_after: datetime | None = None,
    touched_orders: Sequence[str] | None = None,
) -> list[ExpectationOutcome]:
    """Run one checkpoint over ``suites`` on the database at ``connection_string``.

    ``read_schemas`` maps a suite's schema to the one actually read, e.g.
    ``{"gold": "gold_audit"}`` to audit marts before they are published. With
    ``docs_dir``, the checkpoint also renders GX Data Docs there: the index shows the
    latest run; each run's validation pages stay under ``validations/<suite>/<run_name>/``.

    ``engine_kwargs`` go to the datasource's SQLAlchemy engine (GX's ``kwargs``), e.g.
    ``{"connect_args": {"client": bigquery_client}}`` with a ``bigquery://...?
    user_supplied_client=true`` connection string. Tables are read as ``<schema>.<table>``,
    which on BigQuery is ``<dataset>.<table>`` in the client's project.

    With ``loaded_after`` (naive UTC; an incremental run) a suite whose table has a
    ``load_column`` checks its row-level expectations (``judges_rows_alone``) on the rows
    loaded after it only, and the rest on the whole table; their outcomes then count
    those rows. With ``touched_orders`` as well (``warehouse.touched``: the orders whose
    rows changed since the watermark), a suite with an ``order_key`` reads the rows of
    those orders instead, for its row-level expectations and for the uniqueness of keys that
    include the order's (``judges_orders_alone``); an old row of a touched order is checked
    again with it. The revenue reconciliation then compares the run's change from the
    published gold (``suites.agg_sales_daily``).
    """
    read_column_names_without_rows()
    if connection_string.startswith("duckdb"):
        enable_duckdb_pushdown()
    elif connection_string.startswith("bigquery"):
        enable_bigquery_boolean_in_set()
    context = gx.get_context(mode="ephemeral")
    # metric progress bars flood flow logs; Prefect shows task progress instead
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    # GX's BigQuery datasource (no temp tables by default) for BigQuery, the SQL one for DuckDB
    add = (
        context.data_sources.add_bigquery
        if connection_string.startswith("bigquery")
        else context.data_sources.add_sql
    )
    extra = {} if engine_kwargs is None else {"kwargs": dict(engine_kwargs)}
    source = add(name="warehouse", connection_string=connection_string, **extra)
    definitions = []
    by_name: dict[str, TableSuite] = {}
    # the touched orders scope a run only together with its watermark
    scoped = touched_orders is not None and loaded_after is not None
    touched = tuple(touched_orders) if scoped else None
    baseline = replace(baseline or Baseline(), touched_orders=touched)
    for suite in suites:
        table = f"{(read_schemas or {}).get(suite.schema, suite.schema)}.{suite.table}"
        for name, query, part in _parts(suite, table, suite.build(baseline), loaded_after, touched):
            if not part:
                continue
            by_name[name] = suite
            # a query asset, because GX's column-type metric drops the schema on DuckDB;
            # the query is still pushed down (GX wraps it as a subquery)
            asset = source.add_query_asset(name=name, query=query)
            batch = asset.add_batch_definition_whole_table(f"{name}:all")
            gx_suite = context.suites.add(gx.ExpectationSuite(name=name))
            for expectation in part:
                gx_suite.add_expectation(expectation)
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{name}:validation", data=batch, suite=gx_suite)
                )
            )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="warehouse_checkpoint",
            validation_definitions=definitions,
            actions=actions,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    try:
        result = checkpoint.run(run_id=RunIdentifier(run_name=run_name) if run_name else None)
    finally:
        _release(source)
    if docs_dir is not None:
        build_escaped_docs(context, result)
        make_offline(docs_dir)  # GX's pages load their styles and scripts from CDNs
    outcomes = []
    for suite_result in result.run_results.values():
        suite = by_name[suite_result.suite_name]
        outcomes.extend(_outcome(suite, r) for r in suite_result.results)
    return outcomes
