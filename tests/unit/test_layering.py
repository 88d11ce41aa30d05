"""The product never imports test support: emulators and dbt CLI helpers live under
``tests/support`` and the product reaches an emulator only through settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = (
    "cli",
    "config",
    "flows",
    "ingestion",
    "quality",
    "reporting",
    "warehouse",
    "synthetic",
    "contracts",
    "expectations",
    "ml",
    "deployments",
)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_product_package_imports_nothing_from_tests(package: str) -> None:
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / package).rglob("*.py"))
        for name in _imports(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert not offenders, "\n".join(offenders)


def test_the_layering_check_sees_a_test_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from tests.support.bigquery_emulator import Emulator\nimport tests.conftest\n"
    )
    assert _imports(module) == ["tests.support.bigquery_emulator", "tests.conftest"]


def test_no_flow_module_shadows_a_package_when_prefect_loads_a_flow_script() -> None:
    """A worker loads ``flows/<file>.py`` as a script, with ``flows/`` first on sys.path: a
    module there named like one of our packages (``flows/quality.py`` against ``quality/``)
    would be imported in its place and the deployment would crash on start."""
    flow_modules = {p.stem for p in (REPO / "flows").glob("*.py")}
    assert flow_modules & set(PRODUCT_PACKAGES) == set()
