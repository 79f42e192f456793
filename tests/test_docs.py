"""/docs (Swagger UI) and /redoc work offline: their files are served by the app itself.

The browser tests open both pages in Debian's headless Chromium against a real server, with
the network blocked, and read the operations off the rendered page. The block: every request
but those to loopback (which Chromium never proxies) goes to a proxy on a loopback port that
refuses connections, and every host name but the server's address is unresolvable; a test
proves that pages at other addresses, bare IPs included, fail to load. Without Chromium they
are skipped, except under CI (`CI=true`), where `.ci/run` installs it and its absence is a
failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import httpx
import pytest

from tests.servers import Server, api_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Host names other than the server's address fail as if they did not exist.
NO_NAMES = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# How long the page's scripts may run (virtual time: fetching /openapi.json and rendering).
BUDGET_MS = 10_000
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's path: skips the test where it is not installed, fails it under CI."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{CHROMIUM} is missing under CI: .ci/run installs it (apt-get install chromium)"
        )
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium) to open /docs in a browser")


@pytest.fixture(scope="module")
def offline() -> Iterator[list[str]]:
    """Chromium's flags that block every destination but loopback.

    The proxy is a loopback port bound, never listening, for as long as the tests run: a
    connection to it is refused at once, and no other process can take the port meanwhile.
    Chromium sends everything but loopback (implicitly bypassed) to it, so a request to a bare
    IP address, which no resolver rule sees, fails too; WebRTC may not go around it over UDP.
    """
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        yield [
            f"--proxy-server=http://127.0.0.1:{dead.getsockname()[1]}",
            NO_NAMES,
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        ]


@pytest.mark.anyio
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_name_no_other_host(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert re.findall(r"https?://|//[a-z]", response.text) == []
    assets = ASSET.findall(response.text)
    assert assets == (
        [
            "/docs/assets/swagger-ui.css",
            "/docs/assets/favicon.png",
            "/docs/assets/swagger-ui-bundle.js",
        ]
        if page == "/docs"
        else ["/docs/assets/favicon.png", "/docs/assets/redoc.standalone.js"]
    )
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset


@pytest.fixture(scope="module")
def docs_server(database_url: str) -> Iterator[Server]:
    with api_server(database_url) as server:
        yield server


def _headless(chromium: str, offline: list[str], url: str, profile: Path) -> CompletedProcess[str]:
    """Headless Chromium, offline, dumping the page's DOM once its scripts have run."""
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *offline,
            f"--virtual-time-budget={BUDGET_MS}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _rendered(chromium: str, offline: list[str], page: str, server: Server, profile: Path) -> str:
    """The page's DOM as headless Chromium renders it offline."""
    result = _headless(chromium, offline, f"{server.url}{page}", profile)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Page load failed" not in result.stderr, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "url",
    [
        "http://1.1.1.1/",  # a public address, named by no host name
        "http://192.0.2.1/",  # TEST-NET-1
        "http://[2001:db8::1]/",  # IPv6 documentation range
        "http://example.com/",
    ],
)
def test_the_browser_reaches_nothing_but_loopback(
    chromium: str, offline: list[str], url: str, tmp_path: Path
) -> None:
    """The same browser and flags that render the docs fail at once on any other address:
    the request goes to the dead proxy, never to the network."""
    result = _headless(chromium, offline, url, tmp_path)

    failures = re.findall(r"Page load failed: (net::ERR_[A-Z_]+)", result.stderr)
    assert failures == ["net::ERR_PROXY_CONNECTION_FAILED"], result.stderr[-3000:]
    assert "<body" not in result.stdout


def _operations(server: Server) -> dict[str, Any]:
    """The document's operations, and its webhooks (listed as `POST <event type>`), by name."""
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    return {
        f"{method.upper()} {path}": operation
        for section in ("paths", "webhooks")
        for path, item in document[section].items()
        for method, operation in item.items()
    }


@pytest.mark.slow
def test_swagger_ui_lists_every_operation_offline(
    chromium: str, offline: list[str], docs_server: Server, tmp_path: Path
) -> None:
    dom = _rendered(chromium, offline, "/docs", docs_server, tmp_path)

    listed = re.findall(
        r'opblock-summary-method">([A-Z]+)</span>.*?'
        r'class="opblock-summary-path" data-path="([^"]+)"',
        dom,
    )
    assert sorted(f"{method} {path}" for method, path in listed) == sorted(_operations(docs_server))


@pytest.mark.slow
def test_redoc_lists_every_operation_offline(
    chromium: str, offline: list[str], docs_server: Server, tmp_path: Path
) -> None:
    dom = _rendered(chromium, offline, "/redoc", docs_server, tmp_path)

    listed = set(re.findall(r'id="operation/([^"]+)"', dom))
    assert listed == {operation["operationId"] for operation in _operations(docs_server).values()}
