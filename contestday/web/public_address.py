"""The public address: what every QR code and printed link starts with (posters `/r/…`, tickets `/t/…`, judges'
links `/j/…`, sign-in links, certificates' `/verify/…`).

Which one (`public_address`): `CONTESTDAY_PUBLIC_URL` when it is set (fixed by the environment: the event page
cannot change it), else the one an administrator set on the organiser's event page (`server_setting`, one row
for every instance on the database), else `DEFAULT_PUBLIC_URL`, which is this machine's loopback address. A
phone scanning a loopback address reaches nothing, so printing posters, tickets and certificates refuses it
(`printable_address`, 409 `public_url_loopback`) unless `CONTESTDAY_ALLOW_LOOPBACK_QR=1` (tests, a one-machine
demo). The address is read again after `CACHE_SECONDS` at most: another instance's change shows that late here.

Addresses themselves (loopback or not, as typed, this machine's own) are contestday/web/addresses.py."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.server_settings import ServerSetting, read_setting, write_setting
from contestday.settings import DEFAULT_PUBLIC_URL, Settings
from contestday.web.addresses import is_loopback, parse_public_url
from contestday.web.errors import Refusal

__all__ = ["CACHE_SECONDS", "KEY", "PublicAddress", "browser_address", "effective_address", "load_address",
           "printable_address", "public_address", "refuse_loopback", "set_public_address"]

log = logging.getLogger("contestday.public_address")

KEY = "public_url"
CACHE_SECONDS = 3.0
_CACHE = "public_address_cache"
Source = Literal["env", "stored", "default"]


@dataclass(frozen=True)
class PublicAddress:
    url: str  # no trailing /
    source: Source
    is_loopback: bool
    updated_by: str = ""
    updated_at: datetime | None = None


def effective_address(settings: Settings, stored: ServerSetting | None) -> PublicAddress:
    if settings.public_url:
        return PublicAddress(settings.public_url, "env", is_loopback(settings.public_url))
    if stored is not None and stored.value:
        return PublicAddress(stored.value, "stored", is_loopback(stored.value), stored.updated_by, stored.updated_at)
    return PublicAddress(DEFAULT_PUBLIC_URL, "default", True)


async def load_address(session: AsyncSession, settings: Settings) -> PublicAddress:
    """The address now, from the database (no cache): the command line's and the cache's source."""
    return effective_address(settings, None if settings.public_url else await read_setting(session, KEY))


async def public_address(connection: Any, session: AsyncSession | None = None) -> PublicAddress:
    """The address QR codes and links carry, for a request or websocket (anything with `.app.state`): read in
    `session` when given, else in a read session of its own; kept `CACHE_SECONDS` in the app's state."""
    state = connection.app.state
    settings: Settings = state.settings
    if settings.public_url:  # fixed: no database read
        return effective_address(settings, None)
    cached = state.get(_CACHE)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    if session is not None:
        address = await load_address(session, settings)
    else:
        async with state.read_session() as own:
            address = await load_address(own, settings)
    state[_CACHE] = (time.monotonic(), address)
    return address


def _loopback_refusal(address: PublicAddress) -> Refusal:
    if address.source == "env":
        how_zh = "请把环境变量 CONTESTDAY_PUBLIC_URL 改为手机能访问的地址（如 http://192.168.1.10:8000）并重启服务"
        how_en = "Set CONTESTDAY_PUBLIC_URL to an address phones reach (e.g. http://192.168.1.10:8000) and restart"
    else:
        how_zh = ("请先在赛事页面的“二维码中的地址”处设置手机能访问的地址（如 http://192.168.1.10:8000），"
                  "或设置 CONTESTDAY_PUBLIC_URL")
        how_en = ("Set an address phones reach (e.g. http://192.168.1.10:8000) under “The address in the QR codes” "
                  "on the event page, or set CONTESTDAY_PUBLIC_URL")
    return Refusal(409, "public_url_loopback",
                   f"二维码中的地址 {address.url} 是本机地址，手机扫码打不开，因此不能打印。{how_zh}。",
                   f"the QR codes would carry {address.url}, this machine's own address: a phone scanning it "
                   f"reaches nothing, so nothing is printed. {how_en}.",
                   public_url=address.url, source=address.source)


def refuse_loopback(address: PublicAddress, settings: Settings) -> None:
    """Raise 409 `public_url_loopback` while `address` is one no phone reaches (unless the override is on)."""
    if address.is_loopback and not settings.allow_loopback_qr:
        raise _loopback_refusal(address)


async def printable_address(connection: Any, session: AsyncSession | None = None) -> str:
    """The address for something printed (a poster, a ticket PDF, certificates): refused while loopback."""
    address = await public_address(connection, session)
    refuse_loopback(address, connection.app.state.settings)
    return address.url


async def set_public_address(connection: Any, session: AsyncSession, raw: str, by: str) -> PublicAddress:
    """Store the address an administrator typed (checked by `parse_public_url`) and commit; 409
    `public_url_fixed` while CONTESTDAY_PUBLIC_URL decides it. Logged with who set it."""
    state = connection.app.state
    settings: Settings = state.settings
    if settings.public_url:
        raise Refusal(409, "public_url_fixed",
                      f"二维码中的地址由环境变量 CONTESTDAY_PUBLIC_URL 固定为 {settings.public_url}，不能在页面上修改",
                      f"the address is fixed by CONTESTDAY_PUBLIC_URL ({settings.public_url}): it cannot be changed "
                      "here")
    url = parse_public_url(raw)
    await write_setting(session, KEY, url, by)
    await session.commit()
    state.pop(_CACHE, None)
    log.info("public address set", extra={"public_url": url, "by": by})
    return await public_address(connection, session)


# --- what the browser used -----------------------------------------------------------------------------------

def browser_address(request: Any) -> str:
    """scheme://host[:port] the browser used for this request (its Host header)."""
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}"
