"""The deployments on a real Prefect server and worker, started the way a user starts them.

``prefect server start`` on a free loopback port, ``prefect work-pool create``,
``prefect deploy --all`` of prefect.yaml, ``prefect worker start`` (process) — through
``deployments.local``, which ``make server`` uses. Every deployment is then run through the
API on ../shared/data/olist_sample; the platform run is checked for its task runs (one per
dbt node) and artifacts, and its page in the Prefect UI is looked at in headless Chromium.
Finally the production twin (deployments/gcp/prefect.yaml) is deployed to a Cloud Run pool
on the same server, which renders every template in it for real.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from config.settings import repo_root
from deployments.local import LocalStack
from synthetic.batches import generate_batch
from tests.browser import Page, run_chromium
from tests.warehouse_query import value

pytestmark = pytest.mark.e2e
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A thin REST client that retries what Prefect's own client retries.

    On SQLite the server answers 503 when a write waits too long for the database lock
    (a finishing run's events can hold it); ``PrefectClient`` retries 408/429/502/503 with
    backoff, and so does this, so a busy moment is not a failed test.
    """

    RETRY_CODES = frozenset({408, 429, 502, 503})

    def __init__(self, url: str, attempts: int = 6) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.attempts = attempts

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        for attempt in range(self.attempts):
            response = self.http.request(method, path, **kwargs)
            if response.status_code not in self.RETRY_CODES or attempt == self.attempts - 1:
                break
            time.sleep(2**attempt)
        response.raise_for_status()
        return response

    def get(self, path: str) -> dict:
        return self._send("GET", path).json()

    def post(self, path: str, body: dict) -> list | dict:
        return self._send("POST", path, json=body).json()

    def filter_all(self, path: str, body: dict) -> list[dict]:
        """Every row of a ``/filter`` endpoint, page by page."""
        out: list[dict] = []
        while True:
            page = self.post(path, body | {"limit": 200, "offset": len(out)})
            assert isinstance(page, list)
            out += page
            if len(page) < 200:
                return out

    def run_deployment(self, name: str, parameters: dict | None = None, timeout=900) -> dict:
        deployment = self.get(f"/deployments/name/{name}")
        run = self.post(
            f"/deployments/{deployment['id']}/create_flow_run", {"parameters": parameters or {}}
        )
        assert isinstance(run, dict)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/flow_runs/{run['id']}")
            if run["state_type"] in FINAL:
                return run
            time.sleep(2)
        raise AssertionError(f"{name}: flow run {run['id']} not finished after {timeout} s")

    def run_tree(self, root: str) -> tuple[list[dict], list[dict]]:
        """The flow runs (the root and its subflows, recursively) and all their task runs."""
        flows = [self.get(f"/flow_runs/{root}")]
        tasks: list[dict] = []
        frontier = [root]
        while frontier:
            new_tasks = self.filter_all(
                "/task_runs/filter", {"flow_runs": {"id": {"any_": frontier}}}
            )
            tasks += new_tasks
            children = self.filter_all(
                "/flow_runs/filter",
                {"flow_runs": {"parent_task_run_id": {"any_": [t["id"] for t in new_tasks]}}},
            )
            flows += children
            frontier = [c["id"] for c in children]
        return flows, tasks


def _asset_events(api: Api, since: str, wait: float = 60) -> list[dict]:
    """The asset materialization events since ``since`` (the server stores events a moment
    after they are sent: wait until two reads agree)."""
    body = {
        "filter": {
            "occurred": {"since": since},
            "event": {"prefix": ["prefect.asset.materialization.succeeded"]},
        },
        "limit": 50,  # the most a page holds
    }
    deadline, seen = time.monotonic() + wait, -1
    while True:
        page = api.post("/events/filter", body)
        assert isinstance(page, dict)
        events = list(page["events"])
        while page.get("next_page"):
            page = httpx.get(page["next_page"], timeout=30).json()
            events += page["events"]
        if len(events) == seen or time.monotonic() > deadline:
            return events
        seen = len(events)
        time.sleep(3)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prefect_server")


@pytest.fixture(scope="module")
def stack(work: Path, sample_dir: Path) -> Iterator[LocalStack]:
    stack = LocalStack(
        home=work / "prefect",
        port=_free_port(),
        scheduler=False,  # only the runs this test asks for
        run_env={
            "OLIST_SOURCE_DIR": str(sample_dir),
            "OLIST_WAREHOUSE": str(work / "olist.duckdb"),
            "OLIST_REPORTS_DIR": str(work / "reports"),
            "OLIST_MLFLOW_DIR": str(work / "mlruns"),
            # not one an earlier in-process test exported (mlflow.set_tracking_uri does)
            "MLFLOW_TRACKING_URI": f"sqlite:///{(work / 'mlruns' / 'mlflow.db').as_posix()}",
            "OLIST_BATCHES_DIR": str(work / "batches"),
            "OLIST_DBT_ASSETS": "true",  # as users run it: asset lineage in the UI
            "OLIST_TRAIN_TRIALS": "2",
        },
    )
    stack.reports_port = _free_port()  # as `make server`: the reports over HTTP
    try:
        stack.start_server()
        stack.create_pool()
        stack.deploy()
        stack.create_automations()
        stack.serve_reports()
        stack.start_worker()
        yield stack
    finally:
        stopped = stack.down()
        assert "server" in stopped, stack.tail("server")


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Api:
    return Api(stack.api_url)


@pytest.fixture(scope="module")
def platform_run(api: Api, stack: LocalStack) -> dict:
    run = api.run_deployment("platform/platform")
    assert run["state_type"] == "COMPLETED", (run["state"], stack.tail("worker", 80))
    return run


def test_prefect_deploy_all_creates_every_deployment_with_its_schedule(api: Api) -> None:
    by_name = {d["name"]: d for d in api.filter_all("/deployments/filter", {})}
    assert set(by_name) == {"platform", "daily", "incremental", "weekly-retrain", "backfill"}
    assert {d["work_pool_name"] for d in by_name.values()} == {"local-process"}
    schedules = {name: [s["schedule"] for s in d["schedules"]] for name, d in by_name.items()}
    assert [s["interval"] for s in schedules["incremental"]] == [900.0]
    assert [s["cron"] for s in schedules["daily"]] == ["0 3 * * *"]
    assert [s["cron"] for s in schedules["weekly-retrain"]] == ["0 5 * * 0"]
    assert schedules["platform"] == [] and schedules["backfill"] == []
    assert by_name["incremental"]["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"


def test_the_platform_run_has_its_stages_dbt_lineage_and_artifacts(
    api: Api, platform_run: dict, work: Path
) -> None:
    flows, tasks = api.run_tree(platform_run["id"])
    assert {f["state_type"] for f in flows} == {"COMPLETED"}
    subflows = {f["name"] for f in flows}
    assert len(subflows) >= 7  # ingest, clean, transform, quality, train, score, + root
    names = {t["name"] for t in tasks}
    # dbt runs a wave of nodes per invocation (warehouse.dbt_waves), not a task per node;
    # each model it built is an asset materialization, its inputs the related assets
    events = _asset_events(api, platform_run["start_time"])
    built = {e["resource"]["prefect.resource.id"].rsplit("/", 1)[-1] for e in events}
    sql = {p.stem: p.read_text() for p in (repo_root() / "dbt" / "models").rglob("*.sql")}
    tables = sorted(  # a model's table is named by its alias where it has one
        (m.group(1) if (m := re.search(r"alias='(\w+)'", text)) else name)
        for name, text in sql.items()
    )
    assert [t for t in tables if t not in built] == []
    fct = next(e for e in events if e["resource"]["prefect.resource.id"].endswith("/fct_orders"))
    inputs = {r["prefect.resource.id"].rsplit("/", 1)[-1] for r in fct["related"]}
    assert "stg_olist__orders" in inputs
    for task in ("land-source-files", "apply-contracts", "run-gx-checkpoint", "publish-gold"):
        assert any(n.startswith(task) for n in names), task

    artifacts = api.filter_all(
        "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [f["id"] for f in flows]}}}
    )
    keys = {a["key"] for a in artifacts}
    assert {"quality-checks", "quality-summary", "quality-report"} <= keys
    assert value(work / "olist.duckdb", "select count(*) from gold.fct_orders") == 8135


def test_the_parent_run_holds_what_a_user_looks_for_with_links_that_open(
    api: Api, platform_run: dict, stack: LocalStack
) -> None:
    """The run a user opens (the deployment's) has the quality summary, every check, the
    failing ones, the model comparison and decisions, the churn-risk rows (or why there are
    none), and report links served over HTTP, not file:// links a browser refuses."""
    artifacts = api.filter_all(
        "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [platform_run["id"]]}}}
    )
    by_key = {a["key"]: a for a in artifacts}  # newest last: the served links win
    assert {
        "quality-summary",
        "quality-checks",
        "failing-checks",
        "quality-report",
        "model-comparison",
        "model-decisions",
        "model-report",
        "churn-risk",
    } <= set(by_key)
    for key in ("quality-report", "model-report"):
        links = [a["data"] for a in artifacts if a["key"] == key]
        served = [d for d in links if f"(http://127.0.0.1:{stack.reports_port}/" in d]
        assert served, links
        url = served[-1].split("](", 1)[1].rstrip(")")
        assert httpx.get(url, timeout=30).status_code == 200, url


def test_the_parameters_form_is_described_and_the_automations_exist(api: Api) -> None:
    platform = api.get("/deployments/name/platform/platform")
    properties = platform["parameter_openapi_schema"]["properties"]
    assert set(properties) == {"skip_train", "score"}  # no Settings object
    assert all(p.get("description") for p in properties.values())
    names = {a["name"] for a in api.post("/automations/filter", {})}
    assert {"olist: run failed or crashed", "olist: data quality failed"} <= names


def test_the_flow_run_page_shows_the_run_in_a_browser(
    stack: LocalStack, platform_run: dict, tmp_path: Path
) -> None:
    url = f"{stack.ui_url}/runs/flow-run/{platform_run['id']}"
    shot = tmp_path / "flow-run.png"
    budget = "--virtual-time-budget=20000"
    run_chromium(url, tmp_path / "p1", "--window-size=1400,1000", budget, f"--screenshot={shot}")
    dom = run_chromium(url, tmp_path / "p2", budget, "--dump-dom").stdout
    assert platform_run["name"] in dom and "Completed" in dom
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert image.size == (1400, 1000) and len(colours) > 200  # a rendered page, not a blank one


def test_the_parent_runs_artifacts_tab_renders_offline(
    stack: LocalStack, platform_run: dict, tmp_path: Path
) -> None:
    """The Artifacts tab of the run a user opens lists the quality, model and churn-risk
    artifacts; the UI requests nothing outside this machine and logs no console error but
    the two 404s the Prefect 3.8 UI itself causes on every page (its favicon.ico and an
    icon it asks for as ``ico/undefined.svg``)."""
    with Page(tmp_path / "profile", width=1400, height=1400) as page:
        page.goto(f"{stack.ui_url}/runs/flow-run/{platform_run['id']}")
        tab = "Array.from(document.querySelectorAll('li.p-tab')).find(t => t.innerText.trim() === 'Artifacts')"
        page.wait_for(f"!!({tab})", timeout=120)
        page.evaluate(f"({tab}).click()")
        page.wait_for("document.body.innerText.includes('failing-checks')", timeout=120)
        page.wait_for("document.body.innerText.includes('model-comparison')", timeout=60)
        page.pump(3)
        text = page.evaluate("document.body.innerText")
        page.screenshot(tmp_path / "artifacts-tab.png")
        console = list(page.console)
        external = page.external_requests(stack.ui_url, stack.ui_url.replace("http", "ws", 1))
    for key in ("quality-summary", "quality-report", "churn-risk", "model-decisions"):
        assert key in text, key
    ui_own = (f"{stack.ui_url}/favicon.ico", f"{stack.ui_url}/ico/undefined.svg")
    assert [line for line in console if not line.endswith(ui_own)] == []
    assert external == []


def test_daily_incremental_retrain_and_backfill_run_from_their_deployments(
    api: Api, platform_run: dict, stack: LocalStack, work: Path, sample_dir: Path
) -> None:
    wh = work / "olist.duckdb"
    daily = api.run_deployment("platform/daily")
    assert daily["state_type"] == "COMPLETED", stack.tail("worker", 80)

    batch = generate_batch(sample_dir, work / "batches", n_orders=12, seed=9)
    incremental = api.run_deployment("incremental/incremental")
    assert incremental["state_type"] == "COMPLETED", stack.tail("worker", 80)
    assert value(wh, "select count(*) from gold.fct_orders") == 8135 + 12
    assert not batch.exists()

    retrain = api.run_deployment("train/weekly-retrain", {"trials": 1, "timeout_seconds": 60})
    assert retrain["state_type"] == "COMPLETED", stack.tail("worker", 80)

    backfill = api.run_deployment(
        "backfill/backfill", {"start": "2018-03-01", "end": "2018-03-02", "max_days": 1}
    )
    assert backfill["state_type"] == "COMPLETED", stack.tail("worker", 80)
    assert value(wh, "select count(*) from ops.backfill_partitions") == 1


def test_the_gcp_twin_deploys_to_a_cloud_run_pool(
    api: Api, stack: LocalStack, platform_run: dict
) -> None:
    """Runs last: it replaces the local deployments of the same names."""
    stack.prefect("work-pool", "create", "cloud-run", "--type", "cloud-run-v2", "--overwrite")
    env = {
        "OLIST_IMAGE": "europe-docker.pkg.dev/olist-prod/olist/platform:1",
        "OLIST_GCP_REGION": "europe-west1",
        "OLIST_RUN_SERVICE_ACCOUNT": "olist-runner@olist-prod.iam.gserviceaccount.com",
        "OLIST_BQ_PROJECT": "olist-prod",
        "OLIST_BQ_DATASET": "olist",
        "OLIST_BQ_LOCATION": "EU",
        "OLIST_GCS_BUCKET_BLOCK": "olist-landing",
    }
    stack.run_env = {**stack.run_env, **env}
    stack.deploy(repo_root() / "deployments" / "gcp" / "prefect.yaml")
    daily = api.get("/deployments/name/platform/daily")
    assert daily["work_pool_name"] == "cloud-run"
    variables = daily["job_variables"]
    assert variables["image"] == env["OLIST_IMAGE"]
    assert variables["env"]["OLIST_DBT_TARGET"] == "bigquery"
    assert variables["env"]["OLIST_BQ_PROJECT"] == "olist-prod"
    assert "{{" not in repr(variables)  # every template was filled in
