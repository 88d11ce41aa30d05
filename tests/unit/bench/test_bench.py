"""The pure parts of bench/: dependency order, medians, stage summaries, target checks.
No timing is asserted anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import floor, summary
from bench import ingest as ingest_bench
from bench.common import median, newest_result, private_home
from bench.run import stage_medians, summarise_runs, without_training


def _node(name: str, deps: list[str], materialized: str = "table", db: str = "wh") -> dict:
    schema = "silver" if materialized == "view" else "gold"
    return {
        "resource_type": "model",
        "name": name,
        "database": db,
        "config": {"materialized": materialized},
        "depends_on": {"nodes": deps},
        "relation_name": f'"{db}"."{schema}"."{name}"',
        "compiled_code": f'select * from "{db}"."bronze"."{name}_src"',
    }


FAKE = {
    "nodes": {
        "model.p.mart": _node("mart", ["model.p.int", "model.p.stg_b"]),
        "model.p.int": _node("int", ["model.p.stg_a", "model.p.eph"], "view"),
        "model.p.eph": _node("eph", ["model.p.stg_a"], "ephemeral"),
        "model.p.stg_a": _node("stg_a", ["source.p.olist.orders"], "view"),
        "model.p.stg_b": _node("stg_b", [], "view"),
        "model.p.inc": _node("inc", ["model.p.mart"], "incremental"),
        "test.p.unique_mart": {"resource_type": "test", "depends_on": {"nodes": []}},
    }
}


def test_topological_order_puts_dependencies_first() -> None:
    deps = {u: n["depends_on"]["nodes"] for u, n in floor.model_nodes(FAKE).items()}
    order = floor.topological_order(deps)
    assert sorted(order) == sorted(deps)
    for node, node_deps in deps.items():
        for dep in node_deps:
            if dep in deps:
                assert order.index(dep) < order.index(node)


def test_topological_order_ignores_sources_and_detects_cycles() -> None:
    assert floor.topological_order({"b": ["a", "source.x"], "a": []}) == ["a", "b"]
    with pytest.raises(ValueError, match="cycle"):
        floor.topological_order({"a": ["b"], "b": ["a"]})


def test_statements_follow_materializations_and_rewrite_the_database() -> None:
    steps = floor.statements(FAKE, "floor")
    names = [name for name, *_ in steps]
    assert "eph" not in names  # ephemeral: inlined by dbt
    by_name = {name: (mat, rel, sql) for name, mat, rel, sql in steps}
    assert by_name["stg_a"][2].startswith('create or replace view "floor"."silver"."stg_a"')
    assert by_name["inc"][2].startswith('create or replace table "floor"."gold"."inc"')
    assert '"wh".' not in "".join(sql for *_, sql in steps)
    assert names.index("mart") < names.index("inc")


def test_rewrite_database_only_touches_the_quoted_prefix() -> None:
    sql = 'select "wh" as wh from "wh"."gold"."t" join "wh2"."gold"."u" using (id)'
    out = floor.rewrite_database(sql, "wh", "floor")
    assert out == 'select "wh" as wh from "floor"."gold"."t" join "wh2"."gold"."u" using (id)'
    assert floor.rewrite_database(sql, "floor", "floor") == sql


def test_statements_fail_loudly_without_compiled_code() -> None:
    broken = {"nodes": {"model.p.x": {**_node("x", []), "compiled_code": None}}}
    with pytest.raises(floor.FloorModelError, match="model x"):
        floor.statements(broken, "floor")


def test_median_ignores_missing_values() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, None, 1.0]) == 2.5
    assert median([None]) is None
    assert median([]) is None


def _run(seconds: float, rss: float, stages: dict[str, float]) -> dict:
    st = [{"stage": k, "seconds": v, "peak_rss_mib": rss} for k, v in stages.items()]
    run = {"seconds": seconds, "peak_rss_mib": rss}
    return {
        "run": run,
        "stages": st,
        "without_training": without_training(run, st),
        "checks_seconds": 1.0,
    }


def test_without_training_drops_the_train_stage() -> None:
    run = _run(100.0, 900.0, {"ingest": 10.0, "dbt": 20.0, "train": 50.0, "report": 1.0})
    assert run["without_training"] == {
        "stage_sum_seconds": 31.0,
        "wall_seconds": 50.0,
        "train_seconds": 50.0,
    }


def test_summarise_runs_takes_medians_per_stage() -> None:
    runs = [
        _run(40.0, 1000.0, {"ingest": 5.0, "dbt": 20.0}),
        _run(60.0, 1200.0, {"ingest": 7.0, "dbt": 10.0}),
        _run(50.0, 1100.0, {"ingest": 6.0, "dbt": 30.0}),
    ]
    s = summarise_runs(runs)
    assert [(x["stage"], x["seconds"], x["n"]) for x in s["stages"]] == [
        ("ingest", 6.0, 3),
        ("dbt", 20.0, 3),
    ]
    assert s["run"] == {"seconds": 50.0, "peak_rss_mib": 1100.0}
    assert s["platform_without_training"]["wall_seconds"] == 50.0
    assert s["platform_without_training"]["rss_includes_train"] is False
    assert stage_medians([[{"stage": "a", "seconds": 1.0, "peak_rss_mib": 2.0}], []])[0]["n"] == 1


def _result(wall: float, rss: float, floor_s: float | None, incr: float | None) -> dict:
    return {
        "repeat": 3,
        "platform_without_training": {
            "wall_seconds": wall,
            "stage_sum_seconds": wall - 10,
            "peak_rss_mib": rss,
            "rss_includes_train": False,
        },
        "floor": {"total_seconds": floor_s} if floor_s else None,
        "incremental": {"seconds": incr} if incr else None,
    }


def test_summary_checks_every_target() -> None:
    s1 = _result(wall=50.0, rss=1500.0, floor_s=10.0, incr=15.0)
    s10 = _result(wall=700.0, rss=7000.0, floor_s=100.0, incr=21.0)
    more = summary.Extras(
        dbt_modes={"ratio_to_cli": {"cli": 1.0, "runner": 1.2, "per_wave": 3.1}},
        ingest1={"batch_contracts_seconds": 0.5},
        ingest10={"batch_contracts_seconds": 0.55},
        test_suite={"seconds": 1000.0},
    )
    checks = {c.name: c for c in summary.checks(s1, s10, more)}
    assert len(checks) == 7
    assert checks["scale 1: platform without training / compute floor"].measured == 5.0
    assert checks["scale 1: platform without training / compute floor"].status == "MISSED"
    assert checks["scale 10: platform without training / compute floor"].measured == 7.0
    dbt = checks["dbt stage through Prefect (per_wave) / plain dbt build, scale 1"]
    assert dbt.measured == 3.1 and dbt.met is False
    assert checks["1,000-order batch end to end: scale 10 / scale 1"].measured == pytest.approx(1.4)
    assert checks["1,000-order batch end to end: scale 10 / scale 1"].met is False
    contracts = checks["1,000-order batch contracts: scale 10 / scale 1 history"]
    assert contracts.measured == pytest.approx(1.1) and contracts.met is True
    assert checks["scale 10: peak memory"].met is False
    assert checks["make test, wall"].met is False


def test_a_suite_run_with_failures_is_not_a_measure_of_the_suite() -> None:
    failed = {
        "seconds": 821.7,
        "tests": 682,
        "failed": 1,
        "exit_status": 1,
        "at": "2026-12-02T06:39:41+00:00",
        "note": "682 tests, 1 failed",
    }
    assert summary.suite_seconds(failed) == (
        None,
        "821.7 s not counted: 682 tests, 1 failed, 2026-12-02 06:39 UTC",
    )
    passed = {
        **failed,
        "seconds": 1249.9,
        "failed": 0,
        "exit_status": 0,
        "note": "705 tests, 0 failed",
    }
    assert summary.suite_seconds(passed) == (1249.9, "705 tests, 0 failed, 2026-12-02 06:39 UTC")
    assert summary.suite_seconds(None) == (None, "")


def test_summary_without_scale_10_or_sections_is_not_applicable() -> None:
    s1 = _result(wall=70.0, rss=1500.0, floor_s=None, incr=None)
    checks = {c.name: c for c in summary.checks(s1, None)}
    assert checks["scale 1: platform without training / compute floor"].status == "n/a"
    assert checks["scale 10: platform without training / compute floor"].status == "n/a"
    assert checks["1,000-order batch end to end: scale 10 / scale 1"].status == "n/a"
    assert checks["make test, wall"].status == "n/a"
    table = summary.markdown(list(checks.values()), "header", [])
    assert table.splitlines()[2] == "| target | measured | limit | status |"


def test_summary_extras_take_the_newest_file_of_each_benchmark(tmp_path: Path) -> None:
    (tmp_path / "20260101T000000-dbt-modes-scale1.json").write_text(
        json.dumps({"ratio_to_cli": {"runner": 9.0}})
    )
    (tmp_path / "20260102T000000-dbt-modes-scale1.json").write_text(
        json.dumps({"ratio_to_cli": {"runner": 2.0}})
    )
    (tmp_path / "20260103T000000-ingest-scale10.json").write_text(json.dumps({"rows": 1}))
    (tmp_path / "20260102T000000-ingest-scale10.json").write_text(
        json.dumps({"batch_contracts_seconds": 0.7})
    )
    more = summary.extras(tmp_path)
    assert more.dbt_modes == {"ratio_to_cli": {"runner": 2.0}}
    assert more.ingest10 == {"batch_contracts_seconds": 0.7}  # the newest with the figure
    assert more.ingest1 is None and more.test_suite is None


def test_summary_reads_the_older_result_format() -> None:
    old = {
        "run": {"seconds": 120.0, "peak_rss_mib": 1900.0},
        "stages": [{"stage": "dbt", "seconds": 30.0}, {"stage": "train", "seconds": 40.0}],
    }
    assert summary.without_training(old) == (80.0, 1900.0, True)


def test_newest_result_picks_the_main_bench_file_of_the_scale(tmp_path: Path) -> None:
    for name in (
        "20260101T000000-scale1.json",
        "20260102T000000-scale1.json",
        "20260103T000000-ingest-scale1.json",
        "20260104T000000-scale10.json",
        "20260105T000000-scale0.1.json",
    ):
        (tmp_path / name).write_text(json.dumps({}))
    assert newest_result(1.0, tmp_path).name == "20260102T000000-scale1.json"
    assert newest_result(10.0, tmp_path).name == "20260104T000000-scale10.json"
    assert newest_result(0.1, tmp_path).name == "20260105T000000-scale0.1.json"
    assert newest_result(2.0, tmp_path) is None


def test_private_home_copies_the_dbt_project_without_its_target(tmp_path: Path) -> None:
    home = private_home(tmp_path / "home")
    assert (home / "dbt" / "dbt_project.yml").is_file()
    assert (home / "dbt" / "models").is_dir()
    assert not (home / "dbt" / "target").exists()
    assert not (home / "dbt" / "logs").exists()


def _ingest_result(folder: Path, stamp: str, scale: int, contracts: float, batch: float) -> None:
    result = {"contracts_seconds": contracts, "batch_contracts_seconds": batch}
    (folder / f"{stamp}-ingest-scale{scale}.json").write_text(json.dumps(result))


@pytest.mark.parametrize(("scale10_batch", "status"), [(0.55, "met"), (0.75, "missed")])
def test_batch_contract_growth_is_judged_on_the_newest_results_of_both_scales(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scale10_batch: float, status: str
) -> None:
    _ingest_result(tmp_path, "20260101T000000", 1, 9.0, 9.9)  # older: ignored
    _ingest_result(tmp_path, "20260102T000000", 1, 9.0, 0.5)
    _ingest_result(tmp_path, "20260103T000000", 10, 70.0, scale10_batch)
    ingest_bench.print_growth(tmp_path)
    row = next(line for line in capsys.readouterr().out.splitlines() if "batch" in line)
    assert f"{scale10_batch / 0.5:.2f}×" in row and row.rstrip(" |").endswith(status)


def test_batch_contract_growth_waits_for_both_scales(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest_result(tmp_path, "20260102T000000", 1, 9.0, 0.5)
    ingest_bench.print_growth(tmp_path)
    assert "run scale 1 and scale 10" in capsys.readouterr().out


def test_the_incremental_bench_runs_a_command_olist_accepts(tmp_path: Path) -> None:
    """It passed ``--source`` for a while after ``olist incremental`` stopped taking it."""
    from bench.incremental import olist_incremental
    from cli.main import build_parser

    args = build_parser().parse_args(olist_incremental(tmp_path / "wh", tmp_path, tmp_path))
    assert args.command == "incremental" and str(args.warehouse) == str(tmp_path / "wh")


def test_the_incremental_bench_refuses_a_history_that_holds_its_batch_already(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse a bench run already added this seed's batch to would measure a
    re-delivery and report that no order reached gold; it is refused before any run."""
    import duckdb

    from bench import incremental as bench_incremental

    def batch(data: Path, out: Path, n_orders: int, seed: int) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "orders_batch_1.json"
        path.write_text(json.dumps({"orders": [{"order_id": "o1"}, {"order_id": "o2"}]}))
        return path

    def no_run(*args: object, **kwargs: object) -> dict:
        raise AssertionError("the batch must not run")

    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create schema gold; create table gold.fct_orders as select 'o2' as order_id")
    con.close()
    monkeypatch.setattr(bench_incremental, "generate_batch", batch)
    monkeypatch.setattr(bench_incremental, "measure", no_run)

    with pytest.raises(SystemExit, match="1 of its 2 orders are in gold.fct_orders already"):
        bench_incremental.incremental(tmp_path / "data", wh, tmp_path, {})


def test_a_ratio_that_rounds_to_its_limit_shows_a_third_decimal() -> None:
    assert summary._fmt(1.202, "x", 1.2) == "1.202x"
    assert summary._fmt(1.2, "x", 1.2) == "1.20x"
    assert summary._fmt(1.38, "x", 1.2) == "1.38x"
    assert summary._fmt(1.202, "x") == "1.20x"
