"""GX on BigQuery without a BigQuery: the connection chosen from ``OLIST_BQ_*``, the emulator's
parameter inlining, and the BOOL value-set fix for sqlalchemy-bigquery. The real run on the
emulator is tests/bigquery/test_gx_on_emulator.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from google.cloud import bigquery
from sqlalchemy_bigquery.base import BigQueryDialect

from expectations.checkpoints import enable_bigquery_boolean_in_set
from quality.gx_bigquery import gx_bigquery
from warehouse.bigquery import is_emulator_endpoint
from warehouse.bigquery_emulator import (
    EmulatorError,
    InliningClient,
    _without_parameters,
    inline_parameters,
    sql_literal,
)

Scalar = bigquery.ScalarQueryParameter


@pytest.mark.parametrize(
    ("type_", "value", "literal"),
    [
        ("STRING", "it's a \\ path\nline\ttab\x01", "'it\\'s a \\\\ path\\nline\\ttab\\u0001'"),
        ("STRING", None, "cast(null as STRING)"),
        ("INT64", 7, "7"),
        ("INTEGER", -3, "-3"),
        ("FLOAT64", 0.1, "0.1"),
        ("FLOAT", float("nan"), "cast('nan' as float64)"),
        ("BOOL", False, "false"),
        ("NUMERIC", Decimal("12.30"), "numeric '12.30'"),
        (
            "TIMESTAMP",
            datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC),
            "timestamp '2018-01-02 03:04:05+00:00'",
        ),
        ("DATETIME", datetime(2018, 1, 2, 3, 4, 5), "datetime '2018-01-02 03:04:05'"),
        ("DATE", date(2018, 1, 2), "date '2018-01-02'"),
        ("BYTES", b"\x00'", "from_base64('ACc=')"),
    ],
)
def test_sql_literal_spells_each_parameter_type(type_: str, value: object, literal: str) -> None:
    assert sql_literal(type_, value) == literal


def test_inline_parameters_substitutes_every_name_once() -> None:
    sql = "select @`a` as a, @b as b, @`a` as again, @`ab` as ab"
    params = [
        Scalar("a", "STRING", "@b"),  # a value that looks like another parameter
        Scalar("b", "INT64", 1),
        Scalar("ab", "BOOL", True),
    ]
    assert inline_parameters(sql, params) == "select '@b' as a, 1 as b, '@b' as again, true as ab"


def test_inline_parameters_renders_arrays_and_refuses_positional_ones() -> None:
    arrays = [
        bigquery.ArrayQueryParameter("xs", "STRING", ["a", "b"]),
        bigquery.ArrayQueryParameter("none", "INT64", []),
    ]
    assert inline_parameters("x in unnest(@`xs`) or y in unnest(@`none`)", arrays) == (
        "x in unnest(['a', 'b']) or y in unnest(array<INT64>[])"
    )
    with pytest.raises(EmulatorError, match="positional"):
        inline_parameters("select ?", [Scalar(None, "INT64", 1)])


def test_the_emulator_request_carries_no_query_parameters_field() -> None:
    config = bigquery.QueryJobConfig(
        query_parameters=[Scalar("n", "INT64", 3)], use_query_cache=False
    )
    sql, stripped = _without_parameters("select @`n`", config)
    assert sql == "select 3"
    assert stripped is not None
    query = stripped.to_api_repr()["query"]
    assert "queryParameters" not in query and "parameterMode" not in query
    assert query["useQueryCache"] is False  # the rest of the config is kept
    assert config.query_parameters  # the caller's config is not changed
    empty = bigquery.QueryJobConfig()
    empty.query_parameters = []  # what the DB-API sends without parameters
    assert "queryParameters" not in _without_parameters("select 1", empty)[1].to_api_repr()["query"]


@pytest.mark.parametrize(
    ("endpoint", "emulator"),
    [
        ("", False),
        ("https://bigquery.googleapis.com", False),
        ("https://bigquery-myendpoint.p.googleapis.com", False),
        ("http://127.0.0.1:9050", True),
        ("http://crucible:9050", True),
    ],
)
def test_only_a_non_google_endpoint_is_an_emulator(endpoint: str, emulator: bool) -> None:
    assert is_emulator_endpoint(endpoint) is emulator


def test_gx_bigquery_gives_the_emulator_an_inlining_client() -> None:
    target = gx_bigquery(
        {
            "OLIST_BQ_PROJECT": "olist-ci",
            "OLIST_BQ_LOCATION": "EU",
            "OLIST_BQ_API_ENDPOINT": "http://127.0.0.1:9",
        }
    )
    assert target.emulator and isinstance(target.client, InliningClient)
    assert (target.client.project, target.client.location) == ("olist-ci", "EU")
    assert target.connection_string == "bigquery://olist-ci?user_supplied_client=true"
    assert target.engine_kwargs == {"connect_args": {"client": target.client}}


def test_gx_bigquery_gives_google_a_plain_client_from_the_dbt_variables() -> None:
    target = gx_bigquery(
        {
            "OLIST_BQ_PROJECT": "acme-prod",
            "OLIST_BQ_LOCATION": "southamerica-east1",
            "OLIST_BQ_METHOD": "oauth-secrets",  # not ADC, so no credentials are looked up
            "OLIST_BQ_TOKEN": "dummy",
        }
    )
    assert not target.emulator
    assert type(target.client) is bigquery.Client
    assert (target.client.project, target.client.location) == (
        "acme-prod",
        "southamerica-east1",
    )
    assert target.connection_string == "bigquery://acme-prod?user_supplied_client=true"
    assert target.engine_kwargs["connect_args"]["client"] is target.client


def test_a_bool_value_set_binds_as_one_array_on_bigquery() -> None:
    """sqlalchemy-bigquery binds ``IN`` as one array parameter; SQLAlchemy's BOOL processor
    then chokes on the list (python-bigquery-sqlalchemy#489) unless the fix is on."""
    enable_bigquery_boolean_in_set()
    enable_bigquery_boolean_in_set()  # idempotent
    dialect = BigQueryDialect()
    statement = sa.select(sa.literal_column("1")).where(sa.column("b").in_([True]))
    compiled = statement.compile(dialect=dialect)
    assert "IN UNNEST(" in str(compiled)
    assert compiled.params == {"b_1": [True]}  # one parameter for the whole list
    process = dialect.type_descriptor(sa.Boolean()).bind_processor(dialect)
    assert process([True, False]) == [True, False]
    assert process(True) is True
