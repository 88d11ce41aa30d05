"""Prefect flows: wiring, retries and artifacts only. Logic lives in the domain packages
(ingestion/, quality/, warehouse/, reporting/, contracts/, expectations/, ml/)."""
