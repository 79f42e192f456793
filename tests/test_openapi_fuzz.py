"""Schemathesis against the app's own OpenAPI document, over real HTTP.

Every operation is fuzzed with an admin key (so writes are exercised too) and every check is
on: no 5xx, status codes, content types, headers and bodies as documented, auth enforced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.models.api_key import Role
from tests.servers import api_server, issue_key

TESTS = Path(__file__).resolve().parent
MAX_EXAMPLES = os.environ.get("OCOP_FUZZ_EXAMPLES", "20")


@pytest.mark.slow
def test_schemathesis_finds_no_failure(database_url: str, tmp_path: Path) -> None:
    token = issue_key(database_url, Role.admin, name="fuzzer")
    with api_server(database_url) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(TESTS / "schemathesis.toml"),
                "--no-color",
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--header",
                f"Authorization: Bearer {token}",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                "20251103",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--report-dir",
                str(tmp_path),
            ],
            cwd=tmp_path,  # its crash cache stays out of the project
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-30000:] + result.stderr[-5000:]
