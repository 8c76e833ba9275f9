"""The Origin check of the cookie-authenticated websockets (/ws/judge, /ws/console/{id}).

A browser sends the session cookie with a websocket handshake whatever page opened it, and websockets are not
bound by CORS: without this check any page a judge visits could open the judge's socket and mark with the
judge's session (cross-site websocket hijacking). Browsers always send `Origin` and scripts cannot forge it,
so a handshake whose Origin is present and is neither the app's own origin (the scheme, host and port the
request came to) nor the public address's (contestday/web/public_address.py) is refused. No Origin (a script, a
test client) is allowed: such a client has to hold the cookie or token itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket

from contestday.web.public_address import public_address

__all__ = ["ORIGIN_REFUSED", "origin_allowed", "refuse_foreign_origin"]

ORIGIN_REFUSED = 4403
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) normalised: lower case, default ports explicit; None when it cannot be read."""
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS or not netloc:
        return None
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def origin_allowed(origin: str | None, scheme: str, host: str | None, public_url: str | None = None) -> bool:
    """Whether a handshake with this Origin header may go on. `scheme` is the socket's (ws/wss) and `host` the
    Host header, which give the page's own origin; `public_url` is the address the organiser published (behind
    a proxy the Host may be an inner name)."""
    if origin is None:
        return True
    given = urlsplit(origin.strip())
    seen = _origin(given.scheme, given.netloc) if not given.path and not given.query else None
    if seen is None:  # "null" (a sandboxed frame, a file: page) or garbage
        return False
    own = {_origin("https" if scheme in ("wss", "https") else "http", host or "")}
    if public_url:
        published = urlsplit(public_url)
        own.add(_origin(published.scheme, published.netloc))
    return seen in own


async def refuse_foreign_origin(socket: WebSocket[Any, Any, Any]) -> bool:
    """Accept and close with 4403 (a browser sees that code; a refused handshake is only 1006) when the page
    that opened the socket is another site's; True when refused, before anything was sent."""
    public_url = (await public_address(socket)).url if "read_session" in socket.app.state else None
    if origin_allowed(socket.headers.get("origin"), socket.scope.get("scheme", "ws"), socket.headers.get("host"),
                      public_url):
        return False
    await socket.accept()
    await socket.close(code=ORIGIN_REFUSED, reason="foreign origin")
    return True
