"""``crucible serve`` with one compatibility fix; run by the emulator virtualenv's Python.

Not imported by the platform (crucible lives in ``.venv-bq``, with its own duckdb pin)::

    .venv-bq/bin/python tests/support/crucible_serve.py serve --dialect bigquery --port 9050

The fix: crucible-emulator 0.1.0a2 stores ``NUMERIC(P, S)`` (our money, rate and coordinate
contract types, ``numeric(18, 2)`` ...) as DuckDB ``DECIMAL(P, S)`` but then refuses to report
that type ("result type DECIMAL(18, 2) (not NUMERIC)"), so every view, table or query that
touches such a column fails. In BigQuery a parameterized NUMERIC is a NUMERIC (the parameters
round and bound the values; the column type is NUMERIC), so it is reported as NUMERIC here.
The patch only acts where crucible raises, so a crucible that handles the type itself is
left alone.
"""

from __future__ import annotations

import sys
from typing import Any

NUMERIC_MAX_SCALE = 9  # BigQuery NUMERIC: 38 digits, 9 after the point


def patch_parameterized_numeric() -> None:
    from crucible.dialects.bigquery import types  # type: ignore[import-not-found]
    from crucible.engine import CrucibleUnsupportedError  # type: ignore[import-not-found]
    from sqlglot import exp  # type: ignore[import-not-found]

    original = types.type_name

    def type_name(data_type: Any) -> str:
        try:
            return str(original(data_type))
        except CrucibleUnsupportedError:
            if data_type.this != exp.DataType.Type.DECIMAL:
                raise
            params = [p for p in data_type.expressions if isinstance(p, exp.DataTypeParam)]
            scale = int(params[1].this.name) if len(params) > 1 else 0
            if scale > NUMERIC_MAX_SCALE:
                raise
            return "NUMERIC"

    # every caller looks the function up on the module, the recursive calls inside it too
    types.type_name = type_name


def main(argv: list[str] | None = None) -> int:
    from crucible.cli import main as crucible_main  # type: ignore[import-not-found]

    patch_parameterized_numeric()
    return int(crucible_main(argv))


if __name__ == "__main__":
    sys.exit(main())
