"""The event page's box "二维码中的地址": the address every QR code and printed link will carry
(contestday/web/public_address.py), a warning while phones cannot reach it or while the browser used another
one, and the form that sets it (administrators only: one address serves every event of the server).

`PublicAddressForm` is the form's body; `address_view` is what the template (events/address.html) shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.addresses import is_loopback, lan_addresses, same_origin
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, register
from contestday.web.public_address import browser_address, public_address
from scoring.event_file import CHINA_TZ

__all__ = ["PublicAddressForm", "address_view"]


@dataclass
class PublicAddressForm:
    """The address an administrator sets on the event page."""

    url: str = ""


register({
    "二维码中的地址": "The address in the QR codes",
    "报名海报、参赛凭证、裁判个人链接、登录链接和证书上的二维码都以这个地址开头，手机扫码后打开的就是它。":
        "The QR codes on posters, tickets, judges' links, sign-in links and certificates all start with this "
        "address: it is what a phone opens after scanning.",
    "这是本机地址，手机扫码打不开。设置手机能访问的地址之前，不能打印报名海报、凭证 PDF、裁判链接卡和证书。":
        "This is this machine's own address: a phone scanning it reaches nothing. Until an address phones reach is "
        "set, posters, ticket PDFs, judges' link cards and certificates cannot be printed.",
    "CONTESTDAY_ALLOW_LOOPBACK_QR=1：仍然允许打印（仅供测试和单机演示）。":
        "CONTESTDAY_ALLOW_LOOPBACK_QR=1: printing is allowed anyway (tests and a one-machine demo only).",
    "您现在通过 {browser} 打开本页，与二维码中的地址不同。如果手机也通过这个地址访问，请把二维码中的地址设为它。":
        "You opened this page at {browser}, not at the address in the QR codes. If phones reach the server at "
        "this address too, make it the address in the QR codes.",
    "由环境变量 CONTESTDAY_PUBLIC_URL 固定，不能在此修改：要修改请改环境变量并重启服务。":
        "Fixed by the environment variable CONTESTDAY_PUBLIC_URL, so it cannot be changed here: change the "
        "variable and restart the server.",
    "未设置，使用默认地址。": "Not set: the default address is used.",
    "由 {by} 于 {at} 设置。": "Set by {by} on {at}.",
    "设为（手机能访问的地址）": "Set to (an address phones reach)",
    "保存地址": "Save the address",
    "可选：": "Suggestions:",
    "本机的局域网地址：": "This machine's network addresses:",
    "只有管理员（全部赛事的组织者）可以修改这个地址，它对本服务器上的所有赛事生效。":
        "Only an administrator (organiser of every event) can change this address: it serves every event on this "
        "server.",
    "已保存二维码中的地址。之前打印的海报、凭证和链接卡上是旧地址，请重新打印。":
        "The address in the QR codes is saved. Posters, tickets and link cards printed before carry the old "
        "address: print them again.",
})


def _suggestions(browser: str, current: str) -> list[str]:
    """Addresses worth offering: the browser's own (when phones could use it) and this machine's on the
    network, on the port the browser used."""
    try:
        parts = urlsplit(browser)
        port = parts.port
    except ValueError:
        return []
    scheme = parts.scheme or "http"
    shown = f":{port}" if port else ""
    found = [] if is_loopback(browser) else [browser]
    found += [f"{scheme}://{ip}{shown}" for ip in lan_addresses()]
    return [url for url in dict.fromkeys(found) if not same_origin(url, current)]


async def address_view(request: Any, session: AsyncSession, principal: Any, lang: str, *,
                       error: Refusal | None = None, value: str = "") -> dict[str, Any]:
    """What the box shows: the address, its source, the warnings, and the form (with `error` and the `value`
    typed when a change was refused)."""
    address = await public_address(request, session)
    browser = browser_address(request)
    settings = request.app.state.settings
    at = f"{address.updated_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}" if address.updated_at else ""
    return {
        "url": address.url, "source": address.source, "loopback": address.is_loopback,
        "allow_loopback": settings.allow_loopback_qr, "browser": browser,
        "differs": not is_loopback(browser) and not same_origin(browser, address.url),
        "may_set": address.source != "env" and principal is not None
        and principal.holds("organiser", server_wide=True),
        "set_by": gettext("由 {by} 于 {at} 设置。", lang).format(by=address.updated_by, at=at) if at else "",
        "suggestions": _suggestions(browser, address.url) if address.source != "env" else [],
        "error": "" if error is None else (error.message_en if lang == "en" else error.message),
        "error_code": "" if error is None else error.code, "value": value,
    }
