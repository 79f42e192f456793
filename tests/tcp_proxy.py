"""A TCP proxy for fault injection: put it between the service and PostgreSQL, then stop it,
freeze it and resume it.

- running: bytes flow both ways.
- stopped: nothing listens (new connections are refused) and every open connection is reset,
  as when the database host goes down.
- frozen: connections are still accepted, but no byte moves in either direction and none is
  dropped, as when packets are silently discarded on the way (a dead host, a firewall, a
  partition): the peers wait. Resuming delivers everything that waited.

It runs in the test's event loop, on 127.0.0.1 and always on the same port, so the service's
database URL stays valid across a stop and a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

_CHUNK = 65536


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = _free_port()
        self._server: asyncio.Server | None = None
        self._closing: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen (again) and let bytes flow."""
        await self.stop()
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Refuse new connections and reset the open ones."""
        self.cut()
        if self._closing is not None:
            await self._closing.wait_closed()
            self._closing = None
        # The pumps now see their connections gone and end; none is cancelled mid-way.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """`stop`, at once, from synchronous code (a SQLAlchemy event, say); `stop` or `start`
        later waits for the pieces to end."""
        if self._server is not None:
            self._server.close()
            self._closing, self._server = self._server, None
        for writer in list(self._writers):
            transport = writer.transport
            if isinstance(transport, asyncio.WriteTransport):
                # SO_LINGER 0: close with a reset, as a crashed host's kernel would answer.
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                        )
                transport.abort()
        self._writers.clear()
        self._flowing.set()

    def freeze(self) -> None:
        """Keep accepting connections, but move no byte (nothing is lost: see `resume`)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Let bytes flow again, including everything that waited while frozen."""
        self._flowing.set()

    async def aclose(self) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            # A frozen network does not even complete the upstream connection.
            await self._flowing.wait()
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
            self._writers.add(upstream_writer)
            await asyncio.gather(
                self._pump(reader, upstream_writer), self._pump(upstream_reader, writer)
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in (writer, upstream_writer):
                if end is not None:
                    self._writers.discard(end)
                    end.transport.abort()
            self._tasks.discard(task)

    async def _pump(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        while True:
            # Wait before reading, so that while frozen the bytes stay in the kernel's buffers
            # (the sender sees a network that swallows its packets without an answer).
            await self._flowing.wait()
            data = await source.read(_CHUNK)
            if not data:
                with contextlib.suppress(OSError):
                    target.write_eof()
                return
            await self._flowing.wait()
            target.write(data)
            await target.drain()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
