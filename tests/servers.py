"""Real API server and worker processes for tests that need HTTP over a socket (fuzzing,
several processes sharing one database)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from app.api_keys import service as keys
from app.core.config import Environment, Settings
from app.core.db import create_engine, create_sessionmaker
from app.models.api_key import Role

_ROLES = ("ADMIN", "OWNER", "PARTNER", "ANONYMOUS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def api_server(database_url: str, **env: str) -> Iterator[Server]:
    """One `uvicorn` process serving the app on a free port, until the block ends."""
    with api_servers(database_url, 1, **env) as (server,):
        yield server


@contextmanager
def api_servers(database_url: str, count: int, **env: str) -> Iterator[list[Server]]:
    """`count` `uvicorn` processes on one database, started at once (on a loaded machine each
    takes seconds to import the app), each on a free port, until the block ends."""
    process_env = {
        **os.environ,
        "OCOP_DATABASE_URL": database_url,
        "OCOP_ENVIRONMENT": "test",
        "OCOP_WEBHOOKS_ALLOW_PRIVATE": "true",
        # High limits unless a test sets its own: fuzzing must not meet a 429.
        **{f"OCOP_RATE_LIMIT_{role}": "1000000/second" for role in _ROLES},
        # Generous waits: these servers prove correctness under contention (hundreds of
        # orders for one product at once) on a shared test machine, not latency; the defaults
        # would rightly answer some of them 503 there.
        "OCOP_DATABASE_POOL_TIMEOUT_S": "60",
        "OCOP_DATABASE_STATEMENT_TIMEOUT_MS": "60000",
        **env,
    }
    servers: list[Server] = []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.main:create_served_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=process_env,
            )
            servers.append(Server(url=f"http://127.0.0.1:{port}", process=process))
        for server in servers:
            _wait_ready(server)
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def _wait_ready(server: Server, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"API server exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"API server did not become ready in {timeout_s:g} s")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def ocop_worker(database_url: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`ocop worker`, as `make run` starts it, until the block ends (then SIGTERM, as it
    expects). It starts working at once: there is nothing to wait for."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env={
            **os.environ,
            "OCOP_DATABASE_URL": database_url,
            "OCOP_ENVIRONMENT": "test",
            "OCOP_WEBHOOKS_ALLOW_PRIVATE": "true",
            **env,
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process
        assert process.poll() is None, f"ocop worker exited with {process.returncode}"
    finally:
        _stop(process)


def seed_demo(database_url: str) -> None:
    """`ocop seed-demo`, as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "seed-demo"],
        env={**os.environ, "OCOP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo data loaded" in result.stdout, result.stdout


def issue_key(database_url: str, role: Role, name: str = "test") -> str:
    """A new API key's token, written straight to the database (for tests without an app)."""
    import asyncio

    async def issue() -> str:
        engine = create_engine(Settings(environment=Environment.test, database_url=database_url))
        async with create_sessionmaker(engine, writer=True)() as session:
            _key, token = await keys.create_key(session, name=name, role=role, owner_id=None)
            await session.commit()
        await engine.dispose()
        return token

    return asyncio.run(issue())
