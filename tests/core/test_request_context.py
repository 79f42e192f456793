"""Request ids and the one-line JSON access log."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from app.core.logging import JsonFormatter
from tests.servers import free_port

pytestmark = pytest.mark.anyio


async def test_a_request_id_is_generated_and_echoed(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert len(first.headers["x-request-id"]) == 32
    # A random UUID's hex form: 32 lowercase hex digits, version 4, RFC 4122 variant.
    assert re.fullmatch(
        r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", first.headers["x-request-id"]
    )
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_the_callers_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/owners", headers={"X-Request-ID": "abc-123 / retry 2"})

    assert response.headers["x-request-id"] == "abc-123 / retry 2"


@pytest.mark.parametrize("bad", ["x" * 201, "tab\there", ""])
async def test_an_invalid_request_id_is_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": bad})

    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_error_answers_carry_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere", headers={"X-Request-ID": "r-404"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "r-404"


async def test_one_access_log_record_per_request(
    client: httpx.AsyncClient, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    key_id = "00000000-0000-4000-8000-000000000000"
    with caplog.at_level(logging.INFO, logger="app.access"):
        response = await client.get(
            f"/v1/api-keys/{key_id}", headers={**admin, "X-Request-ID": "r-1"}
        )

    records = [r for r in caplog.records if r.name == "app.access"]
    assert len(records) == 1
    fields = records[0].__dict__["http"]
    assert response.status_code == 404
    assert fields["request_id"] == "r-1"
    assert fields["method"] == "GET"
    assert fields["route"] == "/v1/api-keys/{key_id}"
    assert fields["status"] == 404
    assert fields["client"] == "127.0.0.1"
    assert fields["key_prefix"] == admin["Authorization"].split("_")[1]
    assert 0 < fields["duration_ms"] < 10_000


async def test_the_access_log_names_no_key_without_authentication(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        await client.get("/v1/api-keys", headers={"Authorization": "Bearer ocop_abc_wrong"})

    (record,) = [r for r in caplog.records if r.name == "app.access"]
    assert record.__dict__["http"]["status"] == 401
    assert record.__dict__["http"]["key_prefix"] is None


def test_the_formatter_writes_one_json_object() -> None:
    record = logging.LogRecord("app.access", logging.INFO, "", 0, "GET %s", ("/x",), None)
    record.http = {"status": 200, "route": "/x"}

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "info"
    assert entry["logger"] == "app.access"
    assert entry["message"] == "GET /x"
    assert entry["http"] == {"status": 200, "route": "/x"}


def test_ocop_serve_logs_json_lines_and_no_uvicorn_access_line(database_url: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, "OCOP_DATABASE_URL": database_url, "OCOP_ENVIRONMENT": "test"},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "serve-1"}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "ocop serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=15)

    entries = [json.loads(line) for line in err.splitlines() if line.strip()]
    access = [e for e in entries if e["logger"] == "app.access"]
    assert [e["http"]["request_id"] for e in access] == ["serve-1"]
    assert access[0]["http"]["route"] == "/healthz"
    assert not [e for e in entries if e["logger"] == "uvicorn.access"]
    assert not [e for e in entries if "color_message" in e]  # uvicorn's copy with colour codes
