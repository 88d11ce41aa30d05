"""Raw data contracts: the 9 Olist source tables as delivered, as pandera models.

Imports nothing of ours. ``SOURCES`` is the single list of files, tables and columns that
ingestion, the generator and the dbt sources agree on.
"""

from contracts.orders import Orders
from contracts.severity import Severity, check_severity
from contracts.sources import SOURCES, SourceTable, source_for_file

__all__ = ["SOURCES", "Orders", "Severity", "SourceTable", "check_severity", "source_for_file"]
