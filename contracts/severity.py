"""Severity of a contract check: critical quarantines the row; warning and info record it."""

from __future__ import annotations

from typing import Literal

import pandera.pandas as pa

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")


def check_severity(model: type[pa.DataFrameModel], column: str | None, check: str) -> Severity:
    """Severity of one check of ``model``.

    Column checks take the column's ``metadata={"severity": ...}``; data-frame checks are
    listed in ``Config.metadata["check_severity"]``. Anything unlisted is critical.
    """
    schema = model.to_schema()
    if column is not None and column in schema.columns:
        meta = schema.columns[column].metadata or {}
        per_check = meta.get("check_severity", {})
        for name, severity in per_check.items():
            if check.startswith(name):
                return severity
        return meta.get("severity", "critical")
    config_meta = getattr(model.__config__, "metadata", None) or {}
    frame_meta = config_meta.get("check_severity", {})
    return frame_meta.get(check, "critical")
