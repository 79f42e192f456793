"""examples/webhook_receiver.py, run as a partner would, accepts what the worker sends and
refuses what it cannot verify."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest

from app.webhooks.worker import DeliveryWorker
from tests.database import PROJECT_ROOT
from tests.servers import free_port

pytestmark = pytest.mark.anyio

Start = Callable[[str], tuple[str, subprocess.Popen[str]]]


@pytest.fixture
def start_example() -> Iterator[Start]:
    """Start the example receiver with a secret; its URL and process."""
    started: list[subprocess.Popen[str]] = []

    def start(secret: str) -> tuple[str, subprocess.Popen[str]]:
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                str(PROJECT_ROOT / "examples" / "webhook_receiver.py"),
                f"--port={port}",
                f"--secret={secret}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stderr is not None
        assert process.stderr.readline().startswith("listening on")
        return f"http://127.0.0.1:{port}/", process

    yield start
    for process in started:
        process.kill()
        process.communicate()


async def test_the_example_receiver_verifies_and_prints_a_ping(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    worker: DeliveryWorker,
    start_example: Start,
) -> None:
    body = {"url": "http://127.0.0.1:1/", "event_types": ["order.created"]}
    endpoint = (await client.post("/v1/webhooks", json=body, headers=admin)).json()
    url, process = start_example(endpoint["secret"])
    await client.patch(f"/v1/webhooks/{endpoint['id']}", json={"url": url}, headers=admin)
    pinged = (await client.post(f"/v1/webhooks/{endpoint['id']}/ping", headers=admin)).json()

    await worker.run_once()

    process.kill()
    printed, _ = process.communicate()
    listed = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=admin)
    (delivery,) = listed.json()["items"]
    assert [a["status_code"] for a in delivery["attempt_log"]] == [204]
    assert printed.startswith(f"{pinged['message_id']} webhook.ping ")
    assert printed.endswith(f'{{"endpoint_id": "{endpoint["id"]}"}}\n')


async def test_the_example_receiver_refuses_a_message_it_cannot_verify(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    worker: DeliveryWorker,
    start_example: Start,
) -> None:
    url, process = start_example("whsec_" + "A" * 44)
    body = {"url": url, "event_types": ["order.created"]}
    endpoint = (await client.post("/v1/webhooks", json=body, headers=admin)).json()
    await client.post(f"/v1/webhooks/{endpoint['id']}/ping", headers=admin)

    await worker.run_once()

    process.kill()
    printed, _ = process.communicate()
    listed = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=admin)
    (delivery,) = listed.json()["items"]
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", 401)
    assert printed == ""
