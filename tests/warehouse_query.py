"""Read one value from a warehouse file, the way the platform reads it."""

from __future__ import annotations

from pathlib import Path

from warehouse import local as warehouse


def value(path: Path, sql: str) -> object:
    with warehouse.connect(path, read_only=True) as con:
        return warehouse.scalar(con, sql)


def rows(path: Path, sql: str) -> list[tuple]:
    with warehouse.connect(path, read_only=True) as con:
        return con.sql(sql).fetchall()
