"""A TCP proxy a test can cut: what a server sees when the database host goes away (its connections drop, new
ones are refused, or — `blackhole` — accepted and never answered, as when the host vanishes off the network)
and comes back. It runs on a thread of its own, so a test that blocks (a synchronous HTTP call, a subprocess
wait) never stalls the traffic it forwards."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

__all__ = ["TcpProxy"]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, port: int) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._blackhole = False
        self.accepted = 0

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._call(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def cut(self, *, blackhole: bool = False) -> None:
        """Every open connection dropped; new ones refused — or, with `blackhole`, accepted and left silent."""
        self._call(self._cut(blackhole))

    def restore(self) -> None:
        self._call(self._restore())

    async def _cut(self, blackhole: bool) -> None:
        self._blackhole = blackhole
        await self._close_all(keep_listening=blackhole)
        if blackhole:
            await self._listen()

    async def _restore(self) -> None:
        if self._blackhole:  # the silent ones would stay silent: drop them
            await self._close_all(keep_listening=True)
        self._blackhole = False
        await self._listen()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _close_all(self, keep_listening: bool = False) -> None:
        if not keep_listening:
            await self._stop_listening()
        for writer in list(self._open):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._open.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._open.add(writer)
        if self._blackhole:  # hold it open, say nothing, until it is closed
            with contextlib.suppress(Exception):
                await reader.read()
            self._open.discard(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.transport.abort()
                self._open.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
