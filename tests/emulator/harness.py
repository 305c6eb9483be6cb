"""Run the Cloudflare API emulator (server.py) as a subprocess and drive its admin API.

    with Emulator() as emulator:
        emulator.seed([{"name": "existing"}])
        requests.get(f"{emulator.base_url}/accounts/{MAIN_ACCOUNT}/shares", headers=emulator.auth_headers)

Import it as ansible_collections.edgeops.cloudflare.tests.emulator.harness; see CONTRACT.md.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from ansible_collections.edgeops.cloudflare.tests.emulator.server import (  # the world and the default credentials are defined once, in server.py
    DEFAULT_EMAIL as EMAIL,
    DEFAULT_KEY as KEY,
    DEFAULT_READ_TOKEN as READ_TOKEN,
    DEFAULT_TOKEN as TOKEN,
    FOREIGN_ACCOUNT,
    FOREIGN_ORG,
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
)

__all__ = [
    "EMAIL",
    "FOREIGN_ACCOUNT",
    "FOREIGN_ORG",
    "KEY",
    "MAIN_ACCOUNT",
    "MAIN_ORG",
    "MEMBER_ACCOUNTS",
    "READ_TOKEN",
    "TOKEN",
    "Emulator",
    "EmulatorError",
]

SERVER_SCRIPT = Path(__file__).resolve().with_name("server.py")
STOP_TIMEOUT_SECONDS = 5.0
ADMIN_TIMEOUT_SECONDS = 10.0


class EmulatorError(RuntimeError):
    """The emulator did not start, or its admin API refused a request."""


class Emulator:
    """One emulator process. start()/stop(), or use it as a context manager."""

    def __init__(
        self,
        *,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        server_args: tuple[str, ...] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        tls_args = ("--tls-cert", str(tls_cert), "--tls-key", str(tls_key)) if tls_cert else ()
        self._server_args = (*tls_args, *server_args)
        self._startup_timeout = startup_timeout
        self.scheme = "https" if tls_cert else "http"
        # A path, not True: REQUESTS_CA_BUNDLE (set machine-wide) would override verify=True.
        self.verify: str | bool = str(tls_cert) if tls_cert else True
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._admin = requests.Session()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/client/v4"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def start(self) -> Emulator:
        if self.process is not None:
            raise EmulatorError("the emulator is already running")
        self._workdir = tempfile.TemporaryDirectory(prefix="cf-emulator-")
        workdir = Path(self._workdir.name)
        port_file, log_file = workdir / "port", workdir / "server.log"
        command = [sys.executable, str(SERVER_SCRIPT), "--port", "0", "--port-file", str(port_file), *self._server_args]
        with log_file.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.port = self._wait_for_port(port_file, log_file)
        return self

    def _wait_for_port(self, port_file: Path, log_file: Path) -> int:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if port_file.exists():
                return int(port_file.read_text())
            time.sleep(0.02)
        output = log_file.read_text(errors="replace")
        exit_code = self.process.poll()
        self.stop()
        raise EmulatorError(
            f"emulator not listening after {self._startup_timeout} s (exit code {exit_code}); its output:\n{output}"
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self.process = None
        self._admin.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- admin API (CONTRACT.md, "Admin API") ---

    def _admin_call(self, method: str, name: str, payload: object = None) -> dict:
        response = self._admin.request(
            method, f"{self.url}/__admin/{name}", json=payload, timeout=ADMIN_TIMEOUT_SECONDS, verify=self.verify
        )
        if not response.ok:
            raise EmulatorError(f"{method} /__admin/{name}: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        self._admin_call("POST", "reset")

    def state(self) -> list[dict]:
        return self._admin_call("GET", "state")["shares"]

    def seed(self, shares: list[dict]) -> list[dict]:
        return self._admin_call("POST", "seed", {"shares": list(shares)})["shares"]

    def requests_log(self) -> list[dict]:
        return self._admin_call("GET", "requests")["requests"]

    def clear_log(self) -> None:
        self._admin_call("DELETE", "requests")

    def writes(self) -> list[dict]:
        return [entry for entry in self.requests_log() if entry["method"] != "GET"]

    def add_faults(self, *faults: dict) -> list[dict]:
        return self._admin_call("POST", "faults", {"faults": list(faults)})["faults"]

    def faults(self) -> list[dict]:
        """The faults set, each with ``matched``: how many requests it has matched so far."""
        return self._admin_call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._admin_call("DELETE", "faults")

    def configure(self, **config: object) -> dict:
        return self._admin_call("POST", "config", config)

    def advance(self) -> int:
        return self._admin_call("POST", "advance")["completed"]

    def add_association_error(
        self, share_id: str, account_id: str, error: str, terminal: bool, resource_id: str | None = None
    ) -> dict:
        """Make the recipient's association fail for one resource (default: the share's first active one)."""
        payload = {"share_id": share_id, "account_id": account_id, "error": error, "terminal": terminal}
        if resource_id is not None:
            payload["resource_id"] = resource_id
        return self._admin_call("POST", "association-errors", payload)["share"]

    def clear_association_errors(self) -> None:
        self._admin_call("DELETE", "association-errors")

    def exposures(self) -> set[tuple[str, ...]]:
        """Every (share id, recipient account, resource type, resource account, resource id) that could see each
        other at any moment since the reset: after the seed, and after every write."""
        return {tuple(pair) for pair in self._admin_call("GET", "exposures")["exposures"]}
