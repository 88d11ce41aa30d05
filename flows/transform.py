"""Transform: ``dbt build`` through prefect-dbt, one Prefect task per dbt node."""

from __future__ import annotations

import os

from prefect import flow
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

from olist.settings import Settings, load_settings
from olist.warehouse import release_dbt_duckdb


@flow(name="transform", log_prints=True)
def transform_flow(settings: Settings | None = None, select: str | None = None) -> None:
    settings = settings or load_settings()
    # profiles.yml reads locations only from the environment
    os.environ["OLIST_WAREHOUSE"] = str(settings.warehouse)
    os.environ["OLIST_DBT_TARGET"] = settings.dbt_target
    runner = PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=settings.dbt_project_dir,
            profiles_dir=settings.dbt_profiles_dir,
        ),
        raise_on_failure=True,
    )
    args = ["build", "--target", settings.dbt_target] + (["--select", select] if select else [])
    try:
        runner.invoke(args)
    finally:
        release_dbt_duckdb()
