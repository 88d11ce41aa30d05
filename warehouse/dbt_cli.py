"""The dbt CLI in a folder of its own: the command, and the paths that keep a run's parse
cache, artifacts and logs out of ``dbt/target`` (which the flows read back after a build).

``make docs`` (``reporting.dbt_docs``), tests, benchmarks and the emulator builds call dbt
directly (no Prefect); each gives a ``work`` folder, so runs sharing one reuse its partial parse and runs in other folders
cannot rewrite each other's ``run_results.json`` or ``manifest.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from config.settings import repo_root


def dbt_executable() -> str:
    """The ``dbt`` of the running interpreter's environment."""
    return str(Path(sys.executable).with_name("dbt"))


def dbt_paths(work: Path, project_dir: Path | None = None) -> list[str]:
    """``--profiles-dir``/``--project-dir`` (the repo's dbt project unless given) and
    ``--target-path``/``--log-path`` under ``work``."""
    project = project_dir or repo_root() / "dbt"
    return [
        "--profiles-dir",
        str(project),
        "--project-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


def dbt_command(work: Path, *args: str, project_dir: Path | None = None) -> list[str]:
    """``dbt <args>`` with :func:`dbt_paths` for ``work``."""
    return [dbt_executable(), *args, *dbt_paths(work, project_dir)]
