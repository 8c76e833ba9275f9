"""Addresses, without the database: which ones no phone reaches (`is_loopback`), an address as an administrator
types it (`parse_public_url`), two addresses compared (`same_origin`), this machine's own network addresses
(`lan_addresses`: no dependency, no packet sent) and what `contestday serve` prints about them (`serve_lines`).
The offline `certificates build` uses them too, so this module imports no database layer."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from contestday.web.errors import Refusal

__all__ = ["is_loopback", "lan_addresses", "parse_public_url", "same_origin", "serve_lines"]

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_MAX_LENGTH = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def is_loopback(url: str) -> bool:
    """Whether a phone on the network cannot reach `url`'s host: the loopback range (127.0.0.0/8, ::1, localhost),
    the unspecified address (0.0.0.0, ::: a listening address, not one to visit) and link-local ones."""
    host = _host(url) if "://" in url else url.strip().strip("[]").lower().rstrip(".")  # a URL, or a bare host
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified or ip.is_link_local


def parse_public_url(raw: str, *, allow_loopback: bool = False) -> str:
    """An address as typed (`192.168.1.10:8000` gets http://), checked: http(s), a host, no user, query or
    fragment, and not loopback (unless `allow_loopback`); 422 with a stable code otherwise (`missing_public_url`,
    `invalid_public_url`, `public_url_loopback`) and `field="url"`. Scheme and host come back in lower case, no
    trailing /."""
    text = raw.strip().rstrip("/")
    if not text:
        raise Refusal(422, "missing_public_url", "请填写手机能访问的地址，如 http://192.168.1.10:8000",
                      "give an address phones reach, e.g. http://192.168.1.10:8000", field="url")
    if "://" not in text:
        text = f"http://{text}"
    problem = None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        problem = ("端口或地址格式不对", "the port or address is malformed")
    else:
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            problem = ("应以 http:// 或 https:// 开头并带主机名或 IP", "must be http:// or https:// with a host")
        elif parts.username is not None or parts.query or parts.fragment or " " in text:
            problem = ("不能带用户名、? 参数、# 片段或空格", "no user name, query, fragment or spaces")
        elif len(text) > _MAX_LENGTH:
            problem = (f"不能超过 {_MAX_LENGTH} 个字符", f"at most {_MAX_LENGTH} characters")
    if problem is not None:
        shown = raw.strip()[:_MAX_LENGTH]
        raise Refusal(422, "invalid_public_url", f"地址 {shown} 无效：{problem[0]}",
                      f"the address {shown} is invalid: {problem[1]}", field="url")
    if is_loopback(text) and not allow_loopback:
        raise Refusal(422, "public_url_loopback", f"{text} 是本机地址，手机扫码打不开：请填写本机在局域网中的地址",
                      f"{text} is this machine's own address, which phones cannot reach: give its network address",
                      field="url")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return None


def same_origin(a: str, b: str) -> bool:
    """Whether two addresses name the same scheme, host and port (a path after them is not compared)."""
    first = _origin(a)
    return first is not None and first == _origin(b)


# --- this machine's addresses --------------------------------------------------------------------------------

_SKIPPED_INTERFACES = ("docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "lo", "tun", "tap", "zt", "wg",
                       "tailscale")


def _interface_addresses() -> list[str]:
    """IPv4 addresses of this machine's network interfaces (Linux: SIOCGIFADDR), container bridges and VPN
    tunnels left out; elsewhere nothing (the other sources still answer)."""
    try:
        import fcntl
        import struct
    except ImportError:  # Windows
        return []
    found = []
    for _index, name in socket.if_nameindex():
        if name.startswith(_SKIPPED_INTERFACES):
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))  # SIOCGIFADDR
        except OSError:  # no IPv4 address on it
            continue
        found.append(socket.inet_ntoa(packed[20:24]))
    return found


def _route_address() -> list[str]:
    """The address the machine would send from: connect() of a UDP socket picks a route and sends nothing."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): connect() only looks the route up
            return [probe.getsockname()[0]]
    except OSError:
        return []


def _host_addresses() -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        return []


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses phones on the network may reach: the route's own first, then the
    interfaces' and the host name's; loopback, link-local and Docker's default bridge (172.17.0.0/16) left out."""
    seen: list[str] = []
    for address in [*_route_address(), *_interface_addresses(), *_host_addresses()]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip in ipaddress.ip_network("172.17.0.0/16"):
            continue
        if address not in seen:
            seen.append(address)
    return seen


_SOURCES = {"env": ("环境变量 CONTESTDAY_PUBLIC_URL", "CONTESTDAY_PUBLIC_URL"),
            "stored": ("赛事页面上设置的", "set on the event page"), "default": ("默认", "the default")}


def serve_lines(host: str, port: int, lan: list[str], public_url: str, source: str) -> list[str]:
    """What `serve` prints: where phones and tablets reach the server (`lan`: this machine's addresses, for a
    server listening on all of them) and the address the QR codes carry, with what to do while it is loopback."""
    listening_everywhere = host in ("0.0.0.0", "::", "")
    if listening_everywhere and lan:
        lines = ["手机和平板可以通过以下地址访问 / phones and tablets reach it at:"]
        lines += [f"  http://{ip}:{port}" for ip in lan]
    elif listening_everywhere:
        lines = ["未找到本机的局域网地址：电脑连上场馆网络了吗？ / no network address found: is the machine on the "
                 "venue's network?"]
    elif is_loopback(f"http://{host}"):
        lines = [f"只有本机能打开 http://{host}:{port}：手机和平板要访问，请用 --host 0.0.0.0 启动 / only this machine "
                 f"reaches http://{host}:{port}: start with --host 0.0.0.0 for phones and tablets"]
    else:
        shown = f"[{host}]" if ":" in host else host
        lines = ["手机和平板可以通过以下地址访问 / phones and tablets reach it at:", f"  http://{shown}:{port}"]
    zh, en = _SOURCES.get(source, (source, source))
    lines.append(f"二维码中的地址 / the QR codes carry: {public_url}（{zh} / {en}）")
    if is_loopback(public_url):
        example = f"http://{lan[0]}:{port}" if lan else "http://192.168.1.10:8000"
        lines.append(f"注意：这是本机地址，手机扫码打不开，打印海报、凭证和证书会被拒绝。请在赛事页面的“二维码中的地址”处"
                     f"设为手机能访问的地址（如 {example}），或设置 CONTESTDAY_PUBLIC_URL / note: phones cannot reach "
                     f"this address, so printing posters, tickets and certificates is refused: set one they reach "
                     f"(e.g. {example}) on the event page, or CONTESTDAY_PUBLIC_URL")
    return lines
