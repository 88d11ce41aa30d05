"""Prefect flows: wiring, retries and artifacts only. Logic lives in olist/, contracts/,
expectations/ and ml/."""
