"""The venue check's findings, one `Check` per section: the public address, the PDF font, the database, Redis,
the disk, the time zone (the browser's clock is compared by the page's script) and the printer test sheet.

Each check states ok | warn | error and says why in both languages. Labels are catalog messages (Chinese, the
template translates them); values are data. The slow ones (database, Redis) have short timeouts and report a
timeout as an error instead of holding the page up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from contestday import settings as settings_module
from contestday.health import database_state
from contestday.pdf.fonts import FONT_ENV, FontReport, missing_glyphs
from contestday.settings import DataDirState
from scoring.event_file import CHINA_TZ

__all__ = ["CHINA_OFFSET", "COMMON_SAMPLE", "DB_TIMEOUT_S", "REDIS_TIMEOUT_S", "WARN_FREE_MIB", "Check", "State",
           "address_check", "clock_check", "database_check", "disk_check", "font_check", "is_loopback",
           "redis_check", "sheet_check", "summary", "venue_url"]

State = Literal["ok", "warn", "error"]
DB_TIMEOUT_S = 3.0
REDIS_TIMEOUT_S = 2.0
WARN_FREE_MIB = 1024  # below 1 GiB: a warning (photos, backups and PDFs need room); below MIN_FREE_MIB an error
CHINA_OFFSET = timedelta(hours=8)  # contest times are China time
# characters every name list needs: a font lacking them is no CJK font at all
COMMON_SAMPLE = "中文王李张刘陈杨黄赵吴周"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Check:
    key: str
    title: str  # a catalog message
    state: State
    facts: tuple[tuple[str, str], ...] = ()  # (label: a catalog message, value: data or a catalog message)
    notes: tuple[tuple[str, str], ...] = ()  # (Chinese, English): what is wrong and what to do


# --- 1. the public address -----------------------------------------------------------------------------------

def venue_url(public: str) -> str:
    """What the QR codes of the page and the test sheet open: the phone's "连接成功" page."""
    return f"{public.rstrip('/')}/venue/ok"


def is_loopback(host: str) -> bool:
    """localhost, 127.x, ::1, or the unspecified 0.0.0.0 / :: — addresses no other device can open."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _port(url: SplitResult, scheme: str) -> int | None:
    try:
        return url.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is no number
        return None


def address_check(public: str, host_header: str | None) -> Check:
    """Warn when the public address is loopback, or is not the address this page was opened at (the browser's
    `Host`): phones scanning the codes open the public address, not the one in the organiser's address bar."""
    url = urlsplit(public)
    host = url.hostname or ""
    notes: list[tuple[str, str]] = []
    if is_loopback(host):
        notes.append((
            f"公开地址指向本机（{host}）：手机、平板和其他电脑打不开二维码和链接。请把公开地址设为本机在场地网络中的"
            "地址，如 http://192.168.1.10:8000：在赛事页面的“二维码中的地址”中设置"
            "（或设环境变量 CONTESTDAY_PUBLIC_URL）。",
            f"the public address points at this machine itself ({host}): phones, tablets and other computers "
            "cannot open the QR codes and links. Set it to this machine's address on the venue network, e.g. "
            "http://192.168.1.10:8000: set it in the event page's \"address in the QR codes\" box (or set "
            "CONTESTDAY_PUBLIC_URL)."))
    seen = urlsplit(f"//{host_header}") if host_header else None
    if seen is not None and (seen.hostname != host.lower() or _port(seen, url.scheme) != _port(url, url.scheme)):
        notes.append((
            f"本页是通过 {host_header} 打开的，而二维码和链接使用公开地址 {public}：请用手机扫码，确认能打开。",
            f"this page was opened at {host_header}, but the QR codes and links use the public address {public}: "
            "scan the code with a phone to make sure it opens."))
    facts = (("公开地址", public), ("本页的访问地址", host_header or "?"), ("二维码内容", venue_url(public)))
    return Check("address", "公开地址", "warn" if notes else "ok", facts, tuple(notes))


# --- 3. fonts ------------------------------------------------------------------------------------------------

def font_check(report: FontReport) -> Check:
    """The font every PDF embeds: none → error; lacking common characters → error; lacking 𠮷 → warning (names
    with such characters print blank)."""
    if not report.found:
        return Check("fonts", "字体", "error", (("PDF 字体", "未找到"),), ((report.problem_zh, report.problem_en),))
    rare = report.rare_glyphs
    lacking = "".join(missing_glyphs(report.name, COMMON_SAMPLE))
    where = f"{report.path}#{report.index}" if report.index else report.path
    facts = (("PDF 字体", report.name), ("字体文件", where),
             ("生僻字 𠮷（U+20BB7）", "可以打印" if rare else "无法打印（空白）"))
    notes: list[tuple[str, str]] = []
    if lacking:
        notes.append((f"字体 {report.name} 缺少常用汉字（{lacking}）：PDF 中的姓名会缺字。请设置 {FONT_ENV} 为中文"
                       "TrueType 字体（.ttf/.ttc）。",
                       f"the font {report.name} lacks common Chinese characters ({lacking}): names in PDFs would miss "
                       f"them. Set {FONT_ENV} to a Chinese TrueType font (.ttf/.ttc)."))
    if not rare:
        notes.append((f"字体 {report.name} 没有 𠮷 这类扩展区汉字：含这类字的姓名在证件和证书上会留空。如有这样的"
                      f"选手，请设置 {FONT_ENV} 为含这些字的字体（如方正、华文字库），或手写补上。",
                      f"the font {report.name} has no characters like 𠮷 (CJK Extension B): names holding them print "
                      f"blank on cards and certificates. If a contestant has one, set {FONT_ENV} to a font that has "
                      "them, or write them in by hand."))
    return Check("fonts", "字体", "error" if lacking else "warn" if notes else "ok", facts, tuple(notes))


# --- 4. database ---------------------------------------------------------------------------------------------

def _describe_database(database_url: str) -> tuple[tuple[str, str], ...]:
    """Kind and place, never the password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return (("类型", "SQLite"), ("数据库文件", url.database or "(memory)"))
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return (("类型", "PostgreSQL"), ("服务器", where), ("数据库", url.database or ""),
            ("用户", url.username or ""))


async def database_check(engine: AsyncEngine, database_url: str, timeout: float = DB_TIMEOUT_S) -> Check:
    """Kind and place (never the password), reachable within `timeout` seconds, schema current."""
    state = await database_state(engine, timeout)
    facts = _describe_database(database_url)
    if not state.reachable:
        return Check("database", "数据库", "error", (*facts, ("连接", "失败")), ((
            f"数据库无法连接（{state.detail}）：请检查数据库服务是否运行、地址和密码是否正确。",
            f"the database cannot be reached ({state.detail}): check that it is running and its address and "
            "password are right."),))
    facts = (*facts, ("连接", "成功"), ("数据库版本", state.revision or "(none)"), ("程序要求的版本", state.head or ""))
    if not state.current:
        return Check("database", "数据库", "error", facts, ((
            "数据库结构不是最新版本：请先运行 contestday migrate 再启动服务。",
            "the database schema is not current: run contestday migrate before serving."),))
    return Check("database", "数据库", "ok", facts)


# --- 5. Redis ------------------------------------------------------------------------------------------------

def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


async def redis_check(redis_url: str | None, timeout: float = REDIS_TIMEOUT_S) -> Check:
    """Not configured: fine for one instance. Configured: one PING within `timeout` seconds."""
    if not redis_url:
        return Check("redis", "Redis", "ok", (("配置", "未配置（单实例，实时消息在进程内转发）"),))
    from redis.asyncio import Redis

    facts: tuple[tuple[str, str], ...] = (("地址", _redacted(redis_url)),)
    client = Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        async with asyncio.timeout(timeout + 0.5):
            await client.ping()
    except Exception as exc:  # reported, not raised: the page shows every section
        return Check("redis", "Redis", "error", (*facts, ("PING", "失败")), ((
            f"Redis 无法连接（{type(exc).__name__}）：多个实例之间的实时消息（控制台、大屏）不会转发。请检查 Redis "
            "是否运行、CONTESTDAY_REDIS_URL 是否正确。",
            f"Redis cannot be reached ({type(exc).__name__}): live updates (console, board) are not passed between "
            "instances. Check that Redis is running and CONTESTDAY_REDIS_URL is right."),))
    finally:
        await client.aclose()
    return Check("redis", "Redis", "ok", (*facts, ("PING", "成功")))


# --- 6. disk -------------------------------------------------------------------------------------------------

def disk_check(data_dir: Path, found: DataDirState) -> Check:
    """Read-only or below MIN_FREE_MIB: error; below WARN_FREE_MIB: warning."""
    free = "?" if found.free_mib is None else f"{found.free_mib:,} MiB（{found.free_mib / 1024:.1f} GiB）"
    facts = (("数据目录", str(data_dir)), ("剩余空间", free))
    problem = found.problem(data_dir)
    if problem is not None:
        return Check("disk", "磁盘", "error", facts, (problem,))
    if found.free_mib is not None and found.free_mib < WARN_FREE_MIB:
        return Check("disk", "磁盘", "warn", facts, ((
            f"数据目录所在磁盘剩余不到 {WARN_FREE_MIB // 1024} GiB：照片、备份和 PDF 需要空间，请清理磁盘。"
            f"低于 {settings_module.MIN_FREE_MIB} MiB 时服务会拒绝启动。",
            f"less than {WARN_FREE_MIB // 1024} GiB free on the data directory's disk: photos, backups and PDFs "
            f"need room, free some. Below {settings_module.MIN_FREE_MIB} MiB the server refuses to start."),))
    return Check("disk", "磁盘", "ok", facts)


# --- 7. time zone and clock ----------------------------------------------------------------------------------

def _zone_name() -> str:
    """The IANA name of the server's zone where it can be told (TZ, /etc/timezone, /etc/localtime's target)."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        pass
    target = str(Path("/etc/localtime").resolve())
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def clock_check(now: datetime | None = None, zone_name: str | None = None) -> Check:
    """The server's zone and local time (`now`, aware; default the system's): a zone that is not +08:00 is a
    warning (times are stored in UTC and shown in China time, but logs, backups' names and any local-time
    tool then differ). The browser's clock is compared on the page."""
    now = now or datetime.now().astimezone()
    zone = zone_name if zone_name is not None else _zone_name()
    offset = now.utcoffset()
    facts = (("服务器时区", f"{zone or now.tzname() or '?'}（UTC{_offset(offset)}）"),
             ("服务器时间", f"{now:%Y-%m-%d %H:%M:%S}"),
             ("北京时间", f"{now.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}"))
    if offset != CHINA_OFFSET:
        return Check("clock", "时区与时钟", "warn", facts, ((
            f"服务器时区不是北京时间（UTC+08:00），而是 UTC{_offset(offset)}：页面上的比赛时间按北京时间显示，但日志、"
            "备份文件名等使用服务器时间。建议设为 Asia/Shanghai（如 timedatectl set-timezone Asia/Shanghai）。",
            f"the server's time zone is UTC{_offset(offset)}, not China time (UTC+08:00): pages show contest times "
            "in China time, but logs and backup names use the server's. Set it to Asia/Shanghai (e.g. timedatectl "
            "set-timezone Asia/Shanghai)."),))
    return Check("clock", "时区与时钟", "ok", facts)


# --- 8. the printer test sheet -------------------------------------------------------------------------------

def sheet_check(font: FontReport) -> Check:
    """The sheet needs the PDF font; printing it at 100 % and measuring is the organiser's part."""
    if not font.found:
        return Check("sheet", "打印测试页", "error", (), ((
            "没有可用的中文字体，无法生成测试页：请先解决上面“字体”一项。",
            "no usable Chinese font, so no test sheet: fix the fonts section above first."),))
    return Check("sheet", "打印测试页", "ok", (("纸张", "A4（210 × 297 mm）"),))


def summary(checks: list[Check]) -> State:
    """The worst state of all."""
    states = {c.state for c in checks}
    return "error" if "error" in states else "warn" if "warn" in states else "ok"
