"""`make setup` migrates Prefect's database in the home `olist` will use, so the first run's
ephemeral API does not have to (issue 17: the first run on a busy machine timed out)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _setup_plan(env: dict[str, str], always: bool = False) -> str:
    """What ``make setup`` would run; ``always``: as if nothing were done yet (``make test``
    has already set this checkout up by the time the tests run)."""
    done = subprocess.run(
        ["make", "-n", *(["-B"] if always else []), "setup"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_setup_migrates_the_prefect_database_of_the_home_olist_uses(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_HOME"}
    plan = _setup_plan(env, always=True)
    assert f'PREFECT_HOME="{REPO / ".prefect"}"' in plan  # configure_runtime's default
    assert "prefect server database upgrade -y" in plan

    home = tmp_path / "home"
    plan = _setup_plan({**env, "PREFECT_HOME": str(home)})  # the user's home wins, as in olist
    assert f'PREFECT_HOME="{home}"' in plan and "database upgrade -y" in plan


def test_setup_does_not_migrate_again_once_done(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".olist-database-upgraded").touch()
    plan = _setup_plan({**os.environ, "PREFECT_HOME": str(home)})
    assert "database upgrade" not in plan
