"""A real HTTP receiver on 127.0.0.1 (uvicorn in the test's event loop) that records what it
gets and answers from a script."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from tests.servers import free_port


@dataclass
class Received:
    headers: Headers
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    # Status codes to answer, in order; 200 once they run out.
    statuses: list[int] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    # When set, the first request waits for it before answering (a slow receiver).
    hold_first: asyncio.Event | None = None
    received: list[Received] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(Received(Headers(scope=scope), body))
        async with self._arrived:
            self._arrived.notify_all()
        if self.hold_first is not None and len(self.received) == 1:
            await self.hold_first.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        headers = [(k.encode(), v.encode()) for k, v in self.extra_headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async def wait_for(self, count: int, timeout_s: float = 30) -> None:
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)


@asynccontextmanager
async def running(receiver: Receiver, *, tls: Path | None = None) -> AsyncIterator[Receiver]:
    """Serve `receiver` on 127.0.0.1; over https with `tls`, a PEM file holding the key and
    the certificate chain."""
    port = free_port()
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ssl_certfile=tls,
        ssl_keyfile=tls,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    receiver.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        if receiver.hold_first is not None:
            receiver.hold_first.set()
        server.should_exit = True
        await task
