"""Live messages over Redis pub/sub that outlive Redis going away and coming back.

litestar's `RedisChannelsPubSubBackend` lets the first Redis error escape: the plugin's publishing task and its
listening task die with it (litestar 2.x, checked here), so after one blip no live message flows again until the
process restarts, and a websocket that subscribes while Redis is down fails to open. This backend, on the same
channel names and the same wire format (instances on either backend hear each other):
- never raises out of `publish`: a message that cannot be sent is logged and dropped, and its channels are
  remembered; once Redis answers again they get a `{"type": "resync"}`, since their subscribers on other
  instances missed something;
- never raises out of `subscribe`/`unsubscribe`: the wanted channels are kept here and applied on reconnect;
- keeps `stream_events` going: on an error (or a PING that fails while it is idle) it drops the connection,
  reconnects with backoff, subscribes to every channel wanted, and then delivers a `resync` on each, so each
  page re-reads its snapshot (pub/sub has no history: what was published meanwhile is gone).
Nothing acknowledged depends on it: marks are committed before they are published, and a page that hears
`resync` asks for the database's snapshot."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any

from litestar.channels.backends.base import ChannelsBackend
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RESYNC", "ResilientRedisBackend"]

RESYNC = b'{"type": "resync"}'
_PUBLISH = """for _, channel in ipairs(KEYS) do redis.call("PUBLISH", channel, ARGV[1]) end"""
_FAILURES = (RedisError, OSError, TimeoutError)  # what a Redis that is gone, restarting or loading raises
_MAX_REMEMBERED = 10_000  # channels owed a resync; beyond that the oldest gaps are forgotten (and logged)

log = logging.getLogger("contestday.live")


class ResilientRedisBackend(ChannelsBackend):
    def __init__(self, redis: Redis, *, poll_s: float = 1.0, ping_every_s: float = 5.0,
                 backoff_s: tuple[float, float] = (0.2, 5.0)) -> None:
        self._redis = redis
        self._script = redis.register_script(_PUBLISH)
        self._poll_s, self._ping_every_s, self._backoff = poll_s, ping_every_s, backoff_s
        self._pubsub: PubSub = redis.pubsub()
        self._wanted: set[str] = set()  # what the plugin subscribed to, whatever Redis knows
        self._up = True  # the listening connection holds every wanted channel (or nothing needs one)
        self._owed: set[str] = set()  # channels a dropped message was meant for
        self._dropped = 0
        # after a failed publish, drop without trying for a second: a queue that waited out a connect timeout
        # per message would only grow
        self._quiet_until = 0.0
        self._wake: asyncio.Event | None = None  # made on the running loop
        self.reconnects = 0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ResilientRedisBackend:
        """A client that never retries behind our back: redis-py reconnecting a pub/sub connection by itself
        would resubscribe silently, and the pages would never hear that they missed messages."""
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return cls(Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2, socket_timeout=5,
                                  socket_keepalive=True), **kwargs)

    @property
    def up(self) -> bool:
        """Whether live messages flow: False from a lost connection until every channel is subscribed again."""
        return self._up

    async def ping(self, timeout: float = 1.0) -> bool:
        """Whether Redis answers a PING within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                return bool(await self._once_more(self._redis.ping))
        except Exception:  # any failure means "not reachable" here
            return False

    async def _once_more(self, command: Any, **kwargs: Any) -> Any:
        """`command`, again once if the pooled connection it took had been broken (a restarted Redis): redis-py
        drops that connection, and the second try gets a new one."""
        try:
            return await command(**kwargs)
        except RedisConnectionError:
            return await command(**kwargs)

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def _lost(self, exc: BaseException, doing: str) -> None:
        if self._up:
            log.warning("live updates: Redis lost while %s (%s: %s); reconnecting", doing, type(exc).__name__, exc)
        self._up = False
        self._event().set()

    async def on_startup(self) -> None:
        return None

    async def on_shutdown(self) -> None:
        await self._discard(self._pubsub)
        try:
            await self._redis.aclose()
        except Exception:  # shutting down: nothing more to do with it
            log.debug("live updates: closing the Redis client failed", exc_info=True)

    async def subscribe(self, channels: Iterable[str]) -> None:
        names = set(channels) - self._wanted
        self._wanted |= names
        if names and self._up:
            try:
                await self._pubsub.subscribe(*names)
            except Exception as exc:  # kept in _wanted: the reconnect subscribes it
                self._lost(exc, "subscribing")
        self._event().set()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        names = set(channels) & self._wanted
        self._wanted -= names
        if names and self._up:
            try:
                await self._pubsub.unsubscribe(*names)
            except Exception as exc:  # a new connection will not have it anyway
                self._lost(exc, "unsubscribing")

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        names = sorted(set(channels))
        now = asyncio.get_running_loop().time()
        if now < self._quiet_until or not await self._settle_owed():
            self._drop(names)
            return
        try:
            await self._once_more(self._script, keys=names, args=[data])
        except _FAILURES as exc:
            log.warning("live updates: publishing failed (%s: %s); dropping messages until Redis answers",
                        type(exc).__name__, exc)
            self._drop(names)
        except Exception:  # a bug must not stop every later message: log it loudly
            log.exception("live updates: publishing failed")
            self._drop(names)

    def _drop(self, names: list[str]) -> None:
        self._quiet_until = asyncio.get_running_loop().time() + 1.0
        self._dropped += 1
        if len(self._owed) < _MAX_REMEMBERED:
            self._owed.update(names)
        elif self._dropped % 1000 == 1:
            log.error("live updates: more than %d channels missed messages; some pages may stay stale until "
                      "they reload", _MAX_REMEMBERED)

    async def _settle_owed(self) -> bool:
        """Send the resync the channels of dropped messages are owed; False if Redis still does not answer."""
        if not self._owed:
            return True
        owed, self._owed = self._owed, set()
        try:
            await self._once_more(self._script, keys=sorted(owed), args=[RESYNC])
        except Exception:  # still down: owed again
            self._owed |= owed
            return False
        log.warning("live updates: Redis answers again; %d messages were dropped, %d channels told to resync",
                    self._dropped, len(owed))
        self._dropped = 0
        return True

    async def _discard(self, pubsub: PubSub) -> None:
        try:
            await pubsub.aclose()
        except Exception:  # the connection is broken already
            log.debug("live updates: closing a broken pub/sub connection failed", exc_info=True)

    async def _resubscribe(self) -> None:
        """A new listening connection with every wanted channel. Subscribing awaits, and the plugin may
        (un)subscribe meanwhile: loop until what is subscribed is what is wanted with no await in between,
        then switch over."""
        pubsub = self._redis.pubsub()
        done: set[str] = set()
        try:
            while done != self._wanted:
                wanted = set(self._wanted)
                if wanted - done:
                    await pubsub.subscribe(*(wanted - done))
                if done - wanted:
                    await pubsub.unsubscribe(*(done - wanted))
                done = wanted
            if not done:  # nothing to listen to yet: still prove Redis is there before saying so
                await self._redis.ping()
        except BaseException:
            await self._discard(pubsub)
            raise
        self._pubsub, self._up = pubsub, True

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = self._backoff[0]
        idle_since = asyncio.get_running_loop().time()
        while True:
            if not self._up:
                await self._discard(self._pubsub)
                try:
                    await self._resubscribe()
                except Exception as exc:  # still down (or failing): wait and try again
                    log.debug("live updates: reconnect failed (%s: %s)", type(exc).__name__, exc)
                    await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, self._backoff[1])
                    continue
                delay = self._backoff[0]
                self.reconnects += 1
                log.warning("live updates: Redis back; %d channels subscribed again and told to resync",
                            len(self._wanted))
                await self._settle_owed()
                for channel in sorted(self._wanted):
                    yield channel, RESYNC
                continue
            if not self._wanted or self._pubsub.connection is None:
                # nothing subscribed (yet): wait for a subscription or a failure
                self._event().clear()
                try:
                    async with asyncio.timeout(self._ping_every_s):
                        await self._event().wait()
                except TimeoutError:
                    pass
                continue
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=self._poll_s)
            except Exception as exc:  # a broken connection (or a bug): start over on a new one
                self._lost(exc, "listening")
                continue
            now = asyncio.get_running_loop().time()
            if message is None:
                if now - idle_since >= self._ping_every_s:  # a silent connection may be a dead one
                    idle_since = now
                    if not await self.ping(timeout=2.0):
                        self._lost(TimeoutError("no answer to PING"), "idle")
                    else:
                        await self._settle_owed()
                continue
            idle_since = now
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            # an unsubscribe takes effect in Redis a little later: a message may still come for it
            if channel in self._wanted:
                yield channel, message["data"]

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("pub/sub keeps no history")
