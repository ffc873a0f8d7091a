"""The README's run command, started in a fresh clone and watched (no side effects on import)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_COMMAND = ["make", "run"]  # README.md, « The two commands »
FRONTEND = "http://localhost:3000"
BACKEND = "http://localhost:8000"
MOLLIE = "http://127.0.0.1:8765"
SENDGRID = "http://127.0.0.1:8766"
PORTS = (3000, 8000, 8765, 8766)
START_TIMEOUT = 900  # seconds: a fresh machine installs the Python and frontend packages
IDLE_SECONDS = int(os.environ.get("FIRST_RUN_IDLE_SECONDS", "60"))
# What the log shows when the dev backend restarts (granian reload, app recompiled).
RELOAD_MARKERS = ("Killing worker", "Reloading", "reloading")


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _clean_environment() -> dict[str, str]:
    """The environment of a user's shell: nothing of the test suite's own settings, and
    none of this checkout's tools on the PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SIMPLE_ERP_", "MOLLIE_", "SENDGRID_", "REFLEX_", "PYTEST", "E2E_", "TEST_POSTGRES"))
           and k not in {"DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH", "PUBLIC_BASE_URL", "PUBLIC_API_URL", "VENV"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return env


class RunningApp:
    def __init__(self, clone: Path, log_path: Path):
        self.clone, self.log_path = clone, log_path
        self.process: subprocess.Popen | None = None
        self.started_in = 0.0

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def compiles(self) -> int:
        """Each start or reload of the dev backend compiles the app once."""
        return self.log().count("Compiling:")

    def start(self) -> None:
        busy = [port for port in PORTS if _port_in_use(port)]
        if busy:
            pytest.fail(f"Ports {busy} are taken: stop what listens there (another `make run`?) "
                        "so that the README's run command can be tried as written.", pytrace=False)
        log = self.log_path.open("wb")
        began = time.monotonic()
        self.process = subprocess.Popen(RUN_COMMAND, cwd=self.clone, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=_clean_environment(), start_new_session=True)
        deadline = began + START_TIMEOUT
        app_up_since = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`make run` stopped (exit {self.process.returncode}):\n{self.tail()}", pytrace=False)
            app_up = all(self._answers(url) for url in (f"{FRONTEND}/", f"{BACKEND}/api/health"))
            sandboxes_up = all(self._answers(url) for url in (f"{MOLLIE}/sandbox/state", f"{SENDGRID}/"))
            if app_up and sandboxes_up:
                self.started_in = time.monotonic() - began
                print(f"\nfirst run: `make run` answered after {self.started_in:.0f} s")
                return
            if app_up and app_up_since is None:
                app_up_since = time.monotonic()
            if app_up_since and time.monotonic() - app_up_since > 60:
                pytest.fail(f"The app runs but the Mollie or SendGrid sandbox does not answer:\n{self.tail()}",
                            pytrace=False)
            time.sleep(2)
        pytest.fail(f"`make run` did not answer within {START_TIMEOUT} s:\n{self.tail()}", pytrace=False)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return httpx.get(url, timeout=5).status_code < 500
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the group this test started, by its leader's PID
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Children that left the group's leader behind (bun, granian workers) go too.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
