"""Failure limits on every door that takes a guess: sign-in, sign-in links, the certificate kiosk's look-up,
certificate verification, appeals and 我的报名.

Each rule counts failures per key (the connection's client address, and where there is one the thing
guessed at: an account name, a person) in a fixed window. An attempt reserves one count before the work
and gives it back when it succeeds, or when it is refused, so concurrent guesses cannot all pass a check
together and a refusal never lengthens a lock-out; a success never counts. Over a limit the answer is 429
`too_many_attempts` with `retry_after` (seconds) and a `Retry-After` header.

With `CONTESTDAY_REDIS_URL` the counters live in Redis (one Lua script: INCR + EXPIRE), shared by every
instance; otherwise in this process. The address is the connection's own, or, for a connection from a proxy
named by CONTESTDAY_TRUSTED_PROXIES, the client's in X-Forwarded-For (uvicorn rewrites it; nothing else is
trusted).
Keys are hashed, so Redis holds no names or addresses. If Redis fails, the door stays open (logged): on
contest day signing in matters more, and argon2's thread cap still protects the server.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from litestar import Litestar
from litestar.connection import ASGIConnection

from contestday.web.errors import Refusal

__all__ = [
    "APPEAL",
    "CERTIFICATE_LOOKUP",
    "LOGIN",
    "LOGIN_LINK",
    "MINE",
    "VERIFY",
    "Attempt",
    "Rule",
    "TooManyAttempts",
    "attempt",
    "client_address",
    "close",
]

log = logging.getLogger("contestday.limits")
PREFIX = "contestday:limit:"
_CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Rule:
    """`limits`: (key kind, failures allowed, window in seconds); "address" is filled in from the request."""

    name: str
    limits: tuple[tuple[str, int, int], ...]


# A school's pupils share one NAT address, and the kiosk is one device for a whole event: per address the
# allowance is wide; per account or person it is narrow, which is what stops guessing one target.
LOGIN = Rule("login", (("address", 30, 300), ("account", 10, 900)))
LOGIN_LINK = Rule("login-link", (("address", 20, 300),))
CERTIFICATE_LOOKUP = Rule("certificate-lookup", (("address", 30, 300), ("person", 10, 900)))
VERIFY = Rule("verify", (("address", 30, 300),))
APPEAL = Rule("appeal", (("address", 20, 300),))
MINE = Rule("mine", (("address", 20, 600), ("person", 10, 900)))


class TooManyAttempts(Refusal):
    def __init__(self, retry_after: int, now: float | None = None):
        when = datetime.fromtimestamp((now or time.time()) + retry_after, _CHINA).strftime("%H:%M")
        wait = f"{retry_after} 秒" if retry_after < 60 else f"{math.ceil(retry_after / 60)} 分钟"
        super().__init__(429, "too_many_attempts", f"尝试次数过多，请 {wait}后（北京时间 {when} 以后）再试。",
                         f"too many attempts: try again in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after
        self.retry_headers = {"Retry-After": str(retry_after)}
        self.headers = self.retry_headers  # sent by the app's error handler


class _Store(Protocol):
    async def hit(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]: ...

    async def give_back(self, keys: list[str]) -> None: ...


class _MemoryStore:
    """One process's counters: {key: [count, expires (monotonic)]}; asyncio runs one step at a time."""

    def __init__(self) -> None:
        self._counts: dict[str, list[float]] = {}

    async def hit(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]:
        now = time.monotonic()
        if len(self._counts) > 10_000:  # names guessed at leave keys behind: drop the expired ones
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        out = []
        for key, window in keys:
            slot = self._counts.get(key)
            if slot is None or slot[1] <= now:
                slot = self._counts[key] = [0, now + window]
            slot[0] += 1
            out.append((int(slot[0]), max(1, math.ceil(slot[1] - now))))
        return out

    async def give_back(self, keys: list[str]) -> None:
        for key in keys:
            slot = self._counts.get(key)
            if slot is not None and slot[0] > 0:
                slot[0] -= 1


_HIT = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then redis.call('EXPIRE', key, ARGV[i]); ttl = tonumber(ARGV[i]) end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out
"""
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


class _RedisStore:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self._hit = self.redis.register_script(_HIT)
        self._give_back = self.redis.register_script(_GIVE_BACK)

    async def hit(self, keys: list[tuple[str, int]]) -> list[tuple[int, int]]:
        flat = await self._hit(keys=[k for k, _ in keys], args=[w for _, w in keys])
        return [(int(flat[i]), max(1, int(flat[i + 1]))) for i in range(0, len(flat), 2)]

    async def give_back(self, keys: list[str]) -> None:
        await self._give_back(keys=keys)


def _store(app: Litestar) -> _Store:
    store: _Store | None = app.state.get("attempt_store")
    if store is None:
        url = app.state.settings.redis_url
        store = _RedisStore(url) if url else _MemoryStore()
        app.state["attempt_store"] = store
    return store


async def close(app: Litestar) -> None:
    """At shutdown: the Redis connections, on the loop that opened them."""
    store = app.state.get("attempt_store")
    if isinstance(store, _RedisStore):
        await store.redis.aclose()


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "?"


def _key(rule: Rule, kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{rule.name}\n{kind}\n{value.strip().casefold()}".encode()).hexdigest()[:32]
    return f"{PREFIX}{rule.name}:{kind}:{digest}"


@dataclass
class Attempt:
    """A reserved count on each key; `succeeded()` gives it back (a success never counts)."""

    store: _Store | None
    keys: list[str] = field(default_factory=list)

    async def succeeded(self) -> None:
        if self.store is not None and self.keys:
            keys, self.keys = self.keys, []
            try:
                await self.store.give_back(keys)
            except Exception:
                log.warning("attempt counters unavailable", exc_info=True)


async def attempt(connection: ASGIConnection[Any, Any, Any, Any], rule: Rule, **targets: str) -> Attempt:
    """Reserve one failure on each of the rule's keys; TooManyAttempts when any is over its limit (then
    nothing is kept). A target left empty (no name typed) is not counted."""
    values = {"address": client_address(connection), **targets}
    chosen = [(kind, allowed, window) for kind, allowed, window in rule.limits if values.get(kind)]
    keys = [(_key(rule, kind, values[kind]), window) for kind, _, window in chosen]
    store = _store(connection.app)
    try:
        counts = await store.hit(keys)
    except Exception:
        log.warning("attempt counters unavailable: not limiting", extra={"rule": rule.name}, exc_info=True)
        return Attempt(None)
    over = [ttl for (count, ttl), (_, allowed, _) in zip(counts, chosen, strict=True) if count > allowed]
    taken = Attempt(store, [k for k, _ in keys])
    if over:
        await taken.succeeded()  # a refused attempt is not a failure
        log.info("too many attempts", extra={"rule": rule.name})
        raise TooManyAttempts(max(over))
    return taken
