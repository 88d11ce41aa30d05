"""Which failures are worth a retry: the network and the services behind it, never the data.

A contract violation, schema drift or a critical check fails the same way every time, so
retrying it only delays the message; a dropped connection, a timeout or a 503 from GCS,
BigQuery or a webhook often passes. Tasks that talk to those declare ``TRANSIENT_RETRIES``.
"""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}


def _google_transient(exc: BaseException) -> bool:
    try:
        from google.api_core import exceptions as gexc
    except ImportError:  # pragma: no cover - google-api-core ships with prefect-gcp
        return False
    return isinstance(
        exc,
        gexc.TooManyRequests
        | gexc.InternalServerError
        | gexc.BadGateway
        | gexc.ServiceUnavailable
        | gexc.GatewayTimeout
        | gexc.DeadlineExceeded
        | gexc.RetryError,
    )


def _http_transient(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):  # connect, read, write, pool timeouts
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in _TRANSIENT_HTTP
    try:
        import requests
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in _TRANSIENT_HTTP
    return False


def is_transient(exc: BaseException | None) -> bool:
    """True for network-level failures, here or anywhere in the exception's causes."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConnectionError | TimeoutError):
            return True
        if _google_transient(exc) or _http_transient(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed task only if its error is transient."""
    try:
        state.result()
    except BaseException as exc:  # noqa: BLE001 - the state's own exception, classified
        return is_transient(exc)
    return False


# Three more attempts, 10 s, 20 s, 40 s apart (± half), for transient failures only.
TRANSIENT_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=10),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_transient,
}
