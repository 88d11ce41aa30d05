"""The warehouse interface, its DuckDB and BigQuery engines, publish, and the tables Python writes."""
