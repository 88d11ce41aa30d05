"""Serve the platform's deployments from this process (local schedules, no work pool).

    python -m deployments.serve      # then watch them in the Prefect UI

Uses the same flows, parameters and cron schedules as prefect.yaml.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from config.settings import configure_runtime, repo_root


def load_deployments(path: Path | None = None) -> list[dict]:
    spec = yaml.safe_load((path or repo_root() / "prefect.yaml").read_text(encoding="utf-8"))
    return list(spec["deployments"])


def resolve_entrypoint(entrypoint: str):  # -> prefect.Flow
    """``flows/deployed.py:platform`` → the flow object."""
    import importlib

    file, name = entrypoint.split(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def schedules_of(spec: dict) -> list:  # -> list[prefect.schedules.Schedule]
    """prefect.yaml's schedules of one deployment, each with its time zone (a cron without
    one would run at 03:00 UTC instead of 03:00 in São Paulo)."""
    from prefect.schedules import Cron, Interval

    out = []
    for schedule in spec.get("schedules", []):
        timezone = schedule.get("timezone")
        if "cron" in schedule:
            out.append(Cron(schedule["cron"], timezone=timezone))
        elif "interval" in schedule:
            out.append(Interval(schedule["interval"], timezone=timezone))
        else:
            raise ValueError(f"{spec['name']}: a schedule needs a cron or an interval: {schedule}")
    return out


def main() -> None:
    configure_runtime()
    from prefect import serve
    from prefect.client.schemas.objects import ConcurrencyLimitConfig

    served = []
    for spec in load_deployments():
        flow = resolve_entrypoint(spec["entrypoint"])
        limit = spec.get("concurrency_limit")
        served.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                tags=spec.get("tags"),
                parameters=spec.get("parameters", {}),
                schedules=schedules_of(spec),
                concurrency_limit=ConcurrencyLimitConfig(**limit)
                if isinstance(limit, dict)
                else limit,
            )
        )
    serve(*served)


if __name__ == "__main__":
    main()
