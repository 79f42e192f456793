"""`make bench` compares the API with a baseline that runs the API's own SQL (bench/baseline.py).

The comparison means something only while the baseline does exactly the API's work. This runs
the benchmark's own check (no load): the SQL of a catalogue page and of an order, statement for
statement, and both servers' answers, byte for byte. A change to either hot path's SQL or answer
fails here until the baseline is brought along.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench import compare
from bench.client import Client
from tests.database import IS_POSTGRES

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="the baseline runs on asyncpg: PostgreSQL only"
)


def test_the_baseline_does_the_apis_work(database_url: str) -> None:
    with compare.staged(database_url, products=25) as stage:
        assert set(stage.bases) == {"ocop", "baseline"}
        # The benchmark's own client gets each answer, three on one kept-alive connection.
        body = json.dumps(stage.body)
        for base in stage.bases.values():
            for operation in ("list", "order"):
                assert asyncio.run(_sent(base, operation, stage.token, body)) == [True] * 3


async def _sent(base: str, operation: str, token: str, body: str) -> list[bool]:
    client = Client(base)
    try:
        return [await compare._send(client, operation, token, body) for _ in range(3)]
    finally:
        await client.close()


def test_a_drift_is_caught(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a baseline one statement short of the API's order path."""
    shorter = compare.baseline_statements

    def one_short() -> dict[str, list[str]]:
        statements = shorter()
        return {**statements, "order": statements["order"][:-1]}

    monkeypatch.setattr(compare, "baseline_statements", one_short)
    with pytest.raises(compare.NotTheSameWork, match="order"), compare.staged(database_url, 3):
        pass
