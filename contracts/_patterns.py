"""Formats shared by the raw contracts (every raw column is text as delivered).

Timestamp policy: Olist timestamps are naive São Paulo wall-clock times. We keep them
naive and local, verbatim, in every layer (bronze text, silver/gold ``timestamp`` without
time zone). Converting to UTC would need a rule for the hour that does not exist when DST
starts (2017-10-15 00:00-00:59) and the hour that happens twice when it ends
(2017-02-18 23:00-23:59); keeping wall-clock time avoids inventing one, and every
day-level metric (what the marts compute) is defined in local days anyway.
"""

from __future__ import annotations

import os

import pandas as pd

HEX32 = r"^[0-9a-f]{32}$"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
ZIP_PREFIX = r"^\d{5}$"
# Patterns match only what the warehouse type a column is cast to can hold, so a value that
# passes its contract can never fail a dbt cast later (and wedge every build after it):
# integers are cast to INTEGER (32-bit on DuckDB): at most 9 digits;
INTEGER = r"^\d{1,9}$"
# money to numeric(18, 2): at most 15 digits before the point, so rounding the fraction to
# cents cannot carry past the 16 the type holds. Plain decimals only: NaN, inf, exponents
# (1e400) and thousands separators fail.
DECIMAL = r"^-?\d{1,15}(\.\d+)?$"
# coordinates to a double: degrees have at most 3 digits
COORDINATE = r"^-?\d{1,3}(\.\d+)?$"
BRAZIL_STATES = [
    "AC",
    "AL",
    "AM",
    "AP",
    "BA",
    "CE",
    "DF",
    "ES",
    "GO",
    "MA",
    "MG",
    "MS",
    "MT",
    "PA",
    "PB",
    "PE",
    "PI",
    "PR",
    "RJ",
    "RN",
    "RO",
    "RR",
    "RS",
    "SC",
    "SE",
    "SP",
    "TO",
]


def as_number(series: pd.Series) -> pd.Series:
    """Text → float where it is a plain decimal, NaN elsewhere (for range checks)."""
    text = series.where(series.astype("str").str.fullmatch(DECIMAL, na=False))
    return pd.to_numeric(text, errors="coerce")


def as_timestamp(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="%Y-%m-%d %H:%M:%S", errors="coerce")


def is_calendar_timestamp(series: pd.Series) -> pd.Series:
    """``TIMESTAMP`` only checks the shape; 2018-02-30 or 25:00:00 have it too and fail the
    warehouse cast. Text that does not have the shape is the pattern check's to report."""
    shaped = series.astype("str").str.fullmatch(TIMESTAMP, na=False)
    return ~shaped | as_timestamp(series.where(shaped)).notna()


# Data timestamps are São Paulo wall-clock time (see above), so "now" is read there too.
LOCAL_TIME_ZONE = "America/Sao_Paulo"
FUTURE_TOLERANCE_HOURS = 24.0


def latest_believable(now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The latest timestamp a row may carry when it is validated (that is, loaded): now in
    São Paulo plus ``OLIST_FUTURE_TOLERANCE_HOURS`` (default 24) for clocks and time zones.
    An order "placed" in 2099 is a data error that would move every run-date mart."""
    hours = float(os.environ.get("OLIST_FUTURE_TOLERANCE_HOURS", FUTURE_TOLERANCE_HOURS))
    now = now if now is not None else pd.Timestamp.now(tz=LOCAL_TIME_ZONE).tz_localize(None)
    return now + pd.Timedelta(hours=hours)


def not_in_the_future(series: pd.Series) -> pd.Series:
    """True where the value is missing, unparsable (other checks report those) or not after
    :func:`latest_believable`."""
    stamps = as_timestamp(series)
    return stamps.isna() | (stamps <= latest_believable())
