"""Real servers for the scale-out tests, started on loopback: llama_cpp.server, `chroma run`; the PostgreSQL URL.

The helpers are imported by the other tests/test_scale_*.py modules; the tests here check the servers themselves.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PG_ENV = "COACH_TEST_POSTGRES_URL"
CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server process started by a test, with its URL and log."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Terminate it (kill if it lingers)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self) -> str:
        """The end of its log, for a failure message."""
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


def offline_env() -> dict[str, str]:
    """The environment of a server: telemetry off, no model hub."""
    return {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}


def start_server(cmd: list[str], url: str, health: str, log: Path, timeout: float = 60.0) -> Server:
    """Start cmd and wait until GET url+health answers 200; pytest.fail with its log if it never does."""
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=offline_env(), cwd=REPO)
    server = Server(process, url, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{cmd[0]} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url + health, timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"{' '.join(cmd)} did not answer within {timeout:g} s:\n{server.log_tail()}")


def start_llama_server(model: Path, log: Path, *, n_ctx: int = 1024, alias: str = "coach") -> Server:
    """`python -m llama_cpp.server` for a GGUF on a free loopback port; the URL ends in /v1."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
           # One thread: on a busy test machine, llama.cpp's threads spin-wait for each other and crawl.
           "--n_threads", "1", "--n_threads_batch", "1", "--seed", "1", "--cache", "True", "--verbose", "False",
           # By default a new request interrupts the running one: requests of several users must queue instead.
           "--interrupt_requests", "False"]
    return start_server(cmd, f"http://127.0.0.1:{port}/v1", "/models", log, timeout=120)


def start_chroma(path: Path, log: Path) -> Server:
    """`chroma run` on a folder and a free loopback port."""
    port = free_port()
    cmd = [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return start_server(cmd, f"http://127.0.0.1:{port}", "/api/v2/heartbeat", log)


def remote_hosts(pid: int) -> set[str]:
    """Remote addresses of a process's TCP connections (to check that a server stays offline)."""
    import psutil

    return {c.raddr.ip for c in psutil.Process(pid).net_connections(kind="inet") if c.raddr}


def postgres_url() -> str:
    """The PostgreSQL test server's URL; skips the test when none is configured or it does not answer."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (scripts/test starts PostgreSQL and sets it)")
    from sqlalchemy import text

    from bot.core.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to test against
        pytest.skip(f"PostgreSQL at {PG_ENV} does not answer ({type(exc).__name__})")
    finally:
        engine.dispose()
    return url


# ---------------------------------------------------------------- the servers themselves


def test_chroma_cli_serves_on_loopback_without_reaching_out(tmp_path: Path) -> None:
    server = start_chroma(tmp_path / "chroma", tmp_path / "chroma.log")
    try:
        with urllib.request.urlopen(server.url + "/api/v2/version", timeout=5) as response:
            assert response.status == 200
        time.sleep(0.5)   # telemetry, if any, would connect at start
        assert remote_hosts(server.process.pid) <= {"127.0.0.1"}
    finally:
        server.stop()


def test_free_port_is_free() -> None:
    port = free_port()
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(1)
        sock.connect(("127.0.0.1", port))
