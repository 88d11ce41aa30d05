"""Chunked validation must give the same results as one pass."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contracts.sources import SOURCES
from ingestion import cleaning
from ingestion import csv_files as ingest

GEO = next(s for s in SOURCES if s.table == "geolocation")


def test_chunks_give_the_same_verdicts_counts_and_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [",".join(GEO.columns)]
    for i in range(2_500):
        lat = "45.1" if i % 700 == 0 else f"-23.{i:04d}"  # a few points outside Brazil
        state = "XX" if i % 997 == 0 else "SP"  # a few critical failures
        rows.append(f"{i % 90000 + 1000:05d},{lat},-46.6,sao paulo,{state}")
    path = tmp_path / GEO.file
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    con = duckdb.connect()
    for schema in ("landing", "quarantine"):
        con.execute(f"create schema {schema}")
    ingest.land_file(con, GEO, path, "b1", datetime(2026, 1, 1))

    ((_, whole_rejected, whole_checks),) = cleaning._validate_landed(con, [GEO], "r")
    monkeypatch.setattr(cleaning, "CHUNK_ROWS", 300)
    sizes: list[int] = []
    real = cleaning.validate_frame

    def spy(df, *args, **kwargs):
        sizes.append(len(df))
        return real(df, *args, **kwargs)

    monkeypatch.setattr(cleaning, "validate_frame", spy)
    ((_, chunk_rejected, chunk_checks),) = cleaning._validate_landed(con, [GEO], "r")
    assert sorted(sizes) == [100] + [300] * 8  # really validated in chunks (two at once)

    def summary(checks):
        return sorted(
            (c.column_name or "", c.check_name, c.passed, c.observed_count, c.unexpected_count)
            for c in checks
        )

    assert summary(chunk_checks) == summary(whole_checks)
    assert sorted(chunk_rejected["_row_number"]) == sorted(whole_rejected["_row_number"])
    assert len(whole_rejected) == 3  # rows 0, 997 and 1994 have state XX
