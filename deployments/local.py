"""Local operations: a Prefect server on SQLite, the ``local-process`` work pool, every
deployment in prefect.yaml, and a process worker that runs them.

    python -m deployments.local up      # make server: then open http://127.0.0.1:4200
    python -m deployments.local status
    python -m deployments.local down    # make stop

Everything is started the way a user would start it (``prefect server start``,
``prefect work-pool create``, ``prefect deploy --all``, ``prefect worker start``), detached,
with its log and pid file in the server's home (``.prefect-server/`` by default); then the
platform's automations (deployments/automations.py) and an HTTP server for the reports
folder on loopback, so the report links in the runs' artifacts open from the UI. Flow runs
get the worker's environment: the repository's default data, warehouse and reports unless
``OLIST_*`` variables say otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import RUNTIME_ENV_DEFAULTS, repo_root

POOL = "local-process"
DEFAULT_PORT = 4200
# the reports folder over HTTP, so the links in the Prefect UI open (a browser refuses
# file:// links from an http:// page)
DEFAULT_REPORTS_PORT = 4280


class LocalStackError(RuntimeError):
    pass


@dataclass
class LocalStack:
    """One Prefect server + worker, identified by its home folder."""

    home: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    # extra environment for the worker, hence for every flow run it starts
    run_env: Mapping[str, str] = field(default_factory=dict)
    repo: Path = field(default_factory=repo_root)
    # off: deployments keep their schedules but no scheduled run is created (tests)
    scheduler: bool = True
    # the port `serve_reports` serves the reports folder on (None: not served)
    reports_port: int | None = None

    @property
    def reports_dir(self) -> Path:
        """The folder flow runs write reports to: the worker's OLIST_REPORTS_DIR."""
        folder = self.run_env.get("OLIST_REPORTS_DIR") or os.environ.get("OLIST_REPORTS_DIR")
        return Path(folder) if folder else self.repo / "reports"

    @property
    def reports_url(self) -> str | None:
        return f"http://{self.host}:{self.reports_port}" if self.reports_port else None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).with_name(name))

    def env(self, **extra: str) -> dict[str, str]:
        """What every process of the stack sees: the API, a home, no telemetry."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= RUNTIME_ENV_DEFAULTS
        env |= {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "OLIST_HOME": str(self.repo),
        }
        served = {"OLIST_REPORTS_URL": self.reports_url} if self.reports_url else {}
        return env | served | dict(self.run_env) | extra

    # -- processes -----------------------------------------------------------------------

    def _pidfile(self, name: str) -> Path:
        return self.home / f"{name}.pid"

    def _spawn(self, name: str, args: list[str]) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / f"{name}.log").open("ab")
        process = subprocess.Popen(
            args,
            cwd=self.repo,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives `make`; stopped as a group by `down`
        )
        self._pidfile(name).write_text(str(process.pid))
        return process.pid

    def _alive(self, name: str) -> int | None:
        try:
            pid = int(self._pidfile(name).read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return json.loads(response.read()) is True
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.home / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def start_server(self, timeout: float = 180) -> None:
        if self._alive("server") and self.healthy():
            return
        if self.healthy():
            raise LocalStackError(
                f"something else already serves a Prefect API at {self.api_url}: stop it or "
                f"pick another port (PREFECT_PORT=4300 make server)"
            )
        self._spawn(
            "server",
            [
                self._bin("prefect"),
                "server",
                "start",
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
        )
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if not self._alive("server"):
                raise LocalStackError(f"prefect server exited:\n{self.tail('server')}")
            if time.monotonic() > deadline:
                raise LocalStackError(f"prefect server not healthy after {timeout:.0f} s")
            time.sleep(1)

    def prefect(self, *args: str, timeout: float = 600) -> str:
        """A ``prefect`` CLI command against this server; its output, or an error with it."""
        done = subprocess.run(
            [self._bin("prefect"), "--no-prompt", *args],
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise LocalStackError(
                f"prefect {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def create_pool(self) -> None:
        self.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")

    def deploy(self, prefect_file: Path | None = None) -> str:
        args = ["deploy", "--all"]
        if prefect_file is not None:
            args += ["--prefect-file", str(prefect_file)]
        return self.prefect(*args)

    def start_worker(self) -> None:
        if self._alive("worker"):
            return
        self._spawn(
            "worker",
            [self._bin("prefect"), "worker", "start", "--pool", POOL, "--name", "local-worker"],
        )

    def serve_reports(self, timeout: float = 30) -> str:
        """Serve the reports folder over HTTP on loopback (Python's http.server), before
        the worker starts, so flow runs link their reports with http:// URLs
        (OLIST_REPORTS_URL, reporting.quality_report.report_link). Returns the URL."""
        if self.reports_port is None:
            raise LocalStackError("no reports port set")
        url = f"{self.reports_url}/"
        if not self._alive("reports"):
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            self._spawn(
                "reports",
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    str(self.reports_port),
                    "--bind",
                    self.host,
                    "--directory",
                    str(self.reports_dir),
                ],
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return url
            except (urllib.error.URLError, OSError):
                if not self._alive("reports"):
                    raise LocalStackError(
                        f"the reports server exited (port {self.reports_port} taken? set "
                        f"OLIST_REPORTS_PORT):\n{self.tail('reports')}"
                    ) from None
                if time.monotonic() > deadline:
                    raise LocalStackError(f"the reports server did not answer on {url}") from None
                time.sleep(0.3)

    def create_automations(self) -> str:
        """The platform's automations (deployments.automations), through this server."""
        done = subprocess.run(
            [sys.executable, "-m", "deployments.automations"],
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise LocalStackError(f"creating the automations failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def up(self, say=print) -> None:
        say(f"starting the Prefect server ({self.home}/server.log) …")
        self.start_server()
        say(f"Prefect API at {self.api_url}; creating the {POOL} work pool")
        self.create_pool()
        say("deploying every deployment of prefect.yaml …")
        self.deploy()
        say(self.create_automations())
        if self.reports_port is not None:
            say(f"reports ({self.reports_dir}) served on {self.serve_reports()}")
        self.start_worker()
        say(f"worker polling {POOL} ({self.home}/worker.log)")

    def down(self) -> list[str]:
        """Stop the worker, then the server (their whole process groups)."""
        stopped = []
        for name in ("worker", "reports", "server"):
            pid = self._alive(name)
            if pid is None:
                self._pidfile(name).unlink(missing_ok=True)
                continue
            _stop_group(pid)
            self._pidfile(name).unlink(missing_ok=True)
            stopped.append(name)
        return stopped


def _stop_group(pid: int, grace: float = 15) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        # a process this one started stays a zombie, which ``kill(pid, 0)`` still finds,
        # until it is reaped: reap it, or a stop in the same process waits the whole grace
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def default_stack() -> LocalStack:
    return LocalStack(
        home=Path(os.environ.get("OLIST_PREFECT_SERVER_HOME", repo_root() / ".prefect-server")),
        port=int(os.environ.get("PREFECT_PORT", DEFAULT_PORT)),
        reports_port=int(os.environ.get("OLIST_REPORTS_PORT", DEFAULT_REPORTS_PORT)),
    )


HOW_TO_USE = """\
Prefect UI:  {ui}
Reports:     {reports} (the links in the runs' artifacts open them)
Automations: "olist: run failed or crashed", "olist: data quality failed" (notify through
             OLIST_ALERT_BLOCK when set; see deployments/alerts.py)
Deployments: platform/platform, platform/daily, incremental/incremental,
             train/weekly-retrain, backfill/backfill (schedules are live).
Trigger one: PREFECT_API_URL={api} {bin}/prefect deployment run 'platform/daily'
             PREFECT_API_URL={api} {bin}/prefect deployment run 'incremental/incremental'
             PREFECT_API_URL={api} {bin}/prefect deployment run 'backfill/backfill' \\
                 -p start=2018-08-01 -p end=2018-08-07
Stop:        make stop"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.local",
        description="Run the platform's deployments on a local Prefect server and worker.",
        epilog="Home: OLIST_PREFECT_SERVER_HOME (default .prefect-server/); port: PREFECT_PORT "
        "(default 4200); reports served on OLIST_REPORTS_PORT (default 4280). Flow runs use "
        "the worker's environment (OLIST_* variables).",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    stack = default_stack()
    if args.command == "up":
        try:
            stack.up()
        except LocalStackError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        bin_dir = Path(sys.executable).parent
        print(
            HOW_TO_USE.format(
                ui=stack.ui_url, api=stack.api_url, bin=bin_dir, reports=stack.reports_url
            )
        )
        return 0
    if args.command == "down":
        stopped = stack.down()
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        return 0
    for name in ("server", "worker", "reports"):
        pid = stack._alive(name)
        print(f"{name}: {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    print(f"API {stack.api_url}: {'healthy' if stack.healthy() else 'not answering'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
