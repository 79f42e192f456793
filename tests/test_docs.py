"""/docs (Swagger UI) and /redoc work offline: their files are served by the app itself.

The browser tests open both pages in Debian's headless Chromium against a real server, with
every host name but the server's address unresolvable, and read the operations off the rendered
page. Without Chromium they are skipped, except under CI (`CI=true`), where `.ci/run` installs it
and its absence is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import Server, api_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Anything a page asks for beyond the server's own address fails as if the host did not exist.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
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


def _rendered(chromium: str, page: str, server: Server, profile: Path) -> str:
    """The page's DOM once its scripts have run, as headless Chromium renders it offline."""
    result = subprocess.run(
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
            OFFLINE,
            f"--virtual-time-budget={BUDGET_MS}",
            "--dump-dom",
            f"{server.url}{page}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


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
    chromium: str, docs_server: Server, tmp_path: Path
) -> None:
    dom = _rendered(chromium, "/docs", docs_server, tmp_path)

    listed = re.findall(
        r'opblock-summary-method">([A-Z]+)</span>.*?'
        r'class="opblock-summary-path" data-path="([^"]+)"',
        dom,
    )
    assert sorted(f"{method} {path}" for method, path in listed) == sorted(_operations(docs_server))


@pytest.mark.slow
def test_redoc_lists_every_operation_offline(
    chromium: str, docs_server: Server, tmp_path: Path
) -> None:
    dom = _rendered(chromium, "/redoc", docs_server, tmp_path)

    listed = set(re.findall(r'id="operation/([^"]+)"', dom))
    assert listed == {operation["operationId"] for operation in _operations(docs_server).values()}
