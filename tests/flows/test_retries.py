"""The project's retry policy under the Prefect test harness: a dropped connection is tried
again, a contract violation fails at once."""

from __future__ import annotations

import pytest
from prefect import flow, task

from flows.retries import TRANSIENT_RETRIES
from ingestion.csv_files import SchemaDriftError


def _flaky(error: BaseException, failures: int):
    calls: list[int] = []

    @task(name="flaky", **TRANSIENT_RETRIES)
    def flaky() -> int:
        calls.append(1)
        if len(calls) <= failures:
            raise error
        return len(calls)

    # the policy under test, without its 10-40 s waits
    return flaky.with_options(retry_delay_seconds=0, retry_jitter_factor=None), calls


def test_a_dropped_connection_is_retried_until_it_passes() -> None:
    flaky, calls = _flaky(ConnectionResetError("gcs reset the download"), failures=2)

    @flow
    def run() -> int:
        return flaky()

    assert run() == 3 and len(calls) == 3


def test_a_contract_violation_is_not_retried() -> None:
    flaky, calls = _flaky(SchemaDriftError("orders.csv", "order_id", "missing"), failures=1)

    @flow
    def run() -> int:
        return flaky()

    with pytest.raises(SchemaDriftError):
        run()
    assert len(calls) == 1
