"""`ocop serve` trusts X-Forwarded-For only from the proxies `OCOP_FORWARDED_ALLOW_IPS` names.

uvicorn's default trusts 127.0.0.1: a client on the same host could then name a new address
with each request and never meet the anonymous rate limit."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from app.cli import build_parser, serve_options
from app.core.config import Environment, Settings
from tests.servers import free_port


@contextmanager
def ocop_serve(database_url: str, **env: str) -> Iterator[str]:
    port = free_port()
    process_env = {key: value for key, value in os.environ.items() if key != "FORWARDED_ALLOW_IPS"}
    process_env.update(
        OCOP_DATABASE_URL=database_url,
        OCOP_ENVIRONMENT="test",
        OCOP_RATE_LIMIT_ANONYMOUS="2/minute",
        OCOP_LOG_LEVEL="warning",
        **env,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "ocop serve exited"
                assert time.monotonic() < deadline, "ocop serve did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def statuses_from_three_forged_addresses(url: str) -> list[int]:
    return [
        httpx.get(f"{url}/v1/taxonomy", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(3)
    ]


def test_forwarded_for_is_not_trusted_by_default(database_url: str) -> None:
    with ocop_serve(database_url) as url:
        statuses = statuses_from_three_forged_addresses(url)

    assert statuses == [200, 200, 429]


def test_forwarded_for_is_trusted_from_the_configured_proxy(database_url: str) -> None:
    with ocop_serve(database_url, OCOP_FORWARDED_ALLOW_IPS="127.0.0.1") as url:
        statuses = statuses_from_three_forged_addresses(url)

    assert statuses == [200, 200, 200]


def test_serve_passes_the_setting_to_uvicorn() -> None:
    args: argparse.Namespace = build_parser().parse_args(["serve"])
    default = serve_options(Settings(environment=Environment.test), args)
    behind = serve_options(
        Settings(environment=Environment.test, forwarded_allow_ips="10.0.0.5,10.0.0.6"), args
    )

    assert default["proxy_headers"] is False
    assert "forwarded_allow_ips" not in default
    assert behind["proxy_headers"] is True
    assert behind["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"
