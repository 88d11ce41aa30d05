"""A new PREFECT_HOME that starts from a migrated database (the ``prefect_db_template``
fixture in tests/conftest.py), for tests that run ``olist`` in a subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path


def seed_prefect_home(home: Path, template: Path) -> Path:
    """``home`` with a copy of the migrated ``template`` database, unless it has one."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "prefect.db").exists():
        shutil.copyfile(template, home / "prefect.db")
    return home
