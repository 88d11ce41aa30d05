"""Retries are for the network, never for the data."""

from __future__ import annotations

import httpx
import pytest
from google.api_core import exceptions as gexc

from flows.retries import is_transient
from ingestion.csv_files import SchemaDriftError
from quality.checks import CriticalQualityFailure


def _status(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://hook.local/")
    return httpx.HTTPStatusError(
        "x", request=request, response=httpx.Response(code, request=request)
    )


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError("peer reset"),
        TimeoutError("read timed out"),
        httpx.ConnectError("refused"),
        _status(503),
        _status(429),
        gexc.ServiceUnavailable("backend down"),
        gexc.TooManyRequests("quota"),
    ],
    ids=repr,
)
def test_network_failures_are_retried(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        SchemaDriftError("orders.csv", "order_id", "missing"),
        CriticalQualityFailure([]),
        ValueError("bad date"),
        _status(404),
        _status(403),
        gexc.Forbidden("no access"),
        gexc.NotFound("no bucket"),
    ],
    ids=repr,
)
def test_data_and_permission_failures_are_not(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_a_network_failure_behind_another_error_is_still_transient() -> None:
    try:
        try:
            raise ConnectionAbortedError("gcs dropped the download")
        except ConnectionError as inner:
            raise RuntimeError("could not land orders.csv") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
