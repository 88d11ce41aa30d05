"""Debian's headless Chromium (``make setup-browser``) for the tests that look at pages."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run")


def chromium() -> str:
    """The browser, or a failure in CI / a skip elsewhere when it is not installed."""
    if not Path(CHROMIUM).is_file():
        message = "Chromium is not installed: run `make setup-browser` (Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def run_chromium(
    url: str, profile: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


LOCAL_SCHEMES = ("data:", "blob:", "about:", "chrome:", "devtools:")


class Page:
    """One headless Chromium tab driven over the DevTools protocol, for pages that render
    after load (a Streamlit app draws over a websocket): wait for the DOM, read console
    errors and every URL the page requested, take a screenshot.

    Host names other than localhost resolve to nothing, so a page that reaches outside fails
    visibly as well as being listed in :meth:`external_requests`."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 2000) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a reused profile's stale port
        self._proc = subprocess.Popen(
            [
                chromium(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                f"--window-size={width},{height}", "--disable-background-networking",
                "--disable-component-update", "--no-default-browser-check",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.console: list[str] = []
        self.requests: list[str] = []
        self._id = 0
        try:
            self._ws = self._connect(profile / "DevToolsActivePort")
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    def _connect(self, port_file: Path, timeout: float = 60):  # noqa: ANN202

        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert self._proc.poll() is None, "Chromium exited at start"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            tabs = json.load(resp)
        tab = next(t for t in tabs if t.get("type") == "page")
        return connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=30)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.console.append(
                f"exception: {details.get('exception', {}).get('description', details['text'])}"
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.console.append(f"log: {entry['text']} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def send(self, method: str, timeout: float = 60, **params: object) -> dict:

        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=timeout))
            if message.get("id") == self._id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message.get("result", {})
            self._event(message)

    def pump(self, seconds: float) -> None:
        """Take in the events that arrive in the next ``seconds``."""

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._event(json.loads(self._ws.recv(timeout=left)))
            except TimeoutError:
                return

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90) -> object:
        """Poll a JavaScript expression until it is truthy; return its value."""

        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            self.pump(0.5)

    def screenshot(self, path: Path) -> Path:

        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def external_requests(self, *local_origins: str) -> list[str]:
        """Requested URLs that are neither local schemes nor one of ``local_origins``."""
        allowed = (*LOCAL_SCHEMES, *local_origins)
        return [url for url in self.requests if not url.startswith(allowed)]

    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            ws.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
