"""Live messages to pages and tablets, after a commit: one channels plugin per process, in memory on one
machine and over Redis pub/sub when several instances share PostgreSQL (the same code, switched by
`CONTESTDAY_REDIS_URL`). Features name their own channels (judging's `console:<event>`, `judge:<id>`…).
Over Redis the backend rides out an outage (contestday/web/redis_channels.py): pages then hear
`{"type": "resync"}` and re-read their snapshot."""

from __future__ import annotations

import json
from typing import Any, Protocol

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

__all__ = ["Publisher", "app_channels", "channels_plugin", "live_backend", "publish_json"]


class Publisher(Protocol):
    """What publishing needs of the plugin (a test may pass a list-backed fake)."""

    def publish(self, data: str, channels: list[str]) -> None: ...


def live_backend(redis_url: str | None) -> ChannelsBackend:
    if redis_url:
        from contestday.web.redis_channels import ResilientRedisBackend

        return ResilientRedisBackend.from_url(redis_url)
    return MemoryChannelsBackend()


def channels_plugin(backend: ChannelsBackend) -> ChannelsPlugin:
    """Any channel name may be used; a subscriber that falls 1,000 messages behind loses the oldest (a page
    that slow reloads its snapshot anyway) rather than holding the publisher up."""
    return ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True,
                          subscriber_max_backlog=1000, subscriber_backlog_strategy="dropleft")


def app_channels(app: Litestar) -> ChannelsPlugin:
    return app.plugins.get(ChannelsPlugin)


def publish_json(channels: Publisher, message: dict[str, Any], *names: str) -> None:
    """One message, as JSON with Chinese kept readable, to each of `names`."""
    channels.publish(json.dumps(message, ensure_ascii=False), list(names))
