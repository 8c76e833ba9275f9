"""The venue check: `GET /admin/venue` (organisers) shows each thing a contest day depends on with its state,
`GET /admin/venue/test-sheet.pdf` is the printer test sheet, and `GET /venue/ok` is the tiny public page the
page's QR code opens on a phone ("连接成功"); `GET /venue/clock` gives the server's time to the page's script,
which compares the browser's clock with it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.response import Template

from contestday.accounts.guards import current_principal, requires
from contestday.pdf.fonts import FontNotFound, cjk_font, font_report
from contestday.settings import data_dir_state
from contestday.venue import checks
from contestday.venue.checks import Check
from contestday.venue.sheet import printer_sheet_pdf
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.public_address import public_address as stored_public_address
from registration.entries.qr import qr_svg
from scoring.event_file import CHINA_TZ

__all__ = ["VenueCheckPages", "VenuePublic", "public_address"]

Req = Request[Any, Any, Any]

register({
    "场地检查": "Venue check",
    "重新检查": "Check again",
    "全部正常：可以开始比赛。": "Everything is fine: the contest can start.",
    "有需要注意的项目：请看标为“注意”的各项。": "Some things need attention: see the sections marked “Warning”.",
    "有错误：请先解决标为“错误”的各项。": "There are errors: fix the sections marked “Error” first.",
    "公开地址": "Public address",
    "用手机扫码：应打开“连接成功”页面": "Scan it with a phone: it should open the “Connected” page",
    "手机要连在场地网络（与平板、检录终端相同的 Wi-Fi）上。打不开时，其他设备也打不开评分和检录页面。":
        "The phone must be on the venue network (the tablets' and kiosks' Wi-Fi). If it does not open, the other "
        "devices cannot open the marking and check-in pages either.",
    "本页的访问地址": "This page was opened at",
    "二维码内容": "The QR code opens",
    "字体": "Fonts",
    "PDF 字体": "PDF font",
    "未找到": "not found",
    "字体文件": "Font file",
    "生僻字 𠮷（U+20BB7）": "Rare character 𠮷 (U+20BB7)",
    "可以打印": "prints",
    "无法打印（空白）": "does not print (blank)",
    "数据库": "Database",
    "数据库文件": "Database file",
    "服务器": "Server",
    "用户": "User",
    "连接": "Connection",
    "成功": "ok",
    "失败": "failed",
    "数据库版本": "Schema revision",
    "程序要求的版本": "Revision this program needs",
    "配置": "Configuration",
    "未配置（单实例，实时消息在进程内转发）": "not configured (one instance: live updates stay in the process)",
    "地址": "Address",
    "磁盘": "Disk",
    "数据目录": "Data directory",
    "剩余空间": "Free space",
    "时区与时钟": "Time zone and clock",
    "服务器时区": "Server's time zone",
    "服务器时间": "Server's time",
    "北京时间": "China time",
    "本浏览器的时钟": "This browser's clock",
    "本浏览器的时区": "This browser's time zone",
    "正在比较…": "comparing…",
    "需要 JavaScript 才能比较浏览器时钟": "JavaScript is needed to compare the browser's clock",
    "一致（相差 {s} 秒）": "in step ({s} s apart)",
    "比服务器快 {s} 秒": "{s} s ahead of the server",
    "比服务器慢 {s} 秒": "{s} s behind the server",
    "无法读取服务器时间": "could not read the server's time",
    "本设备的时钟与服务器相差超过 60 秒：平板、检录终端和大屏依赖正确的时间，请校准设备时间（开启“自动设置时间”）。":
        "this device's clock is more than 60 s off the server's: tablets, kiosks and the board depend on the "
        "right time, so set the device's clock (turn on “set time automatically”).",
    "本设备的时区不是北京时间（UTC+08:00）：请在设备设置中改为中国标准时间。":
        "this device's time zone is not China time (UTC+08:00): set it to China Standard Time in its settings.",
    "打印测试页": "Printer test sheet",
    "纸张": "Paper",
    "A4（210 × 297 mm）": "A4 (210 × 297 mm)",
    "打开测试页 PDF，打印时选择“实际大小”或 100%，不要选“适合页面”。":
        "Open the test sheet PDF and print it at “actual size” or 100 %, not “fit to page”.",
    "用直尺测量标尺：0 到 100 应正好 100 mm，方框应为 100 × 50 mm；四角的角标距纸边 10 mm。":
        "Measure the rulers with a ruler: 0 to 100 must be exactly 100 mm, the box 100 × 50 mm; the corner marks "
        "sit 10 mm from the paper's edges.",
    "检查灰度各格能分清，各字号的中文清楚；页面上列出本字体缺少的字。":
        "Check that the grey patches are told apart and the Chinese is clear at every size; the sheet lists the "
        "characters the font lacks.",
    "打开打印测试页（PDF）": "Open the printer test sheet (PDF)",
})


async def public_address(request: Req) -> str:
    """The address phones and tablets open (QR codes, links), without a trailing /: the one every QR code
    carries (contestday/web/public_address.py: the environment's, else the stored one, else loopback)."""
    return (await stored_public_address(request)).url.rstrip("/")


async def gather_checks(request: Req) -> list[Check]:
    """Every section's check, the slow ones side by side (each with its own short timeout)."""
    settings = request.app.state.settings
    report, disk, database, redis = await asyncio.gather(
        asyncio.to_thread(font_report),  # a first search may walk the font directories
        asyncio.to_thread(data_dir_state, settings.data_dir),  # writes a probe file
        checks.database_check(request.app.state.engine, settings.database_url),
        checks.redis_check(settings.redis_url))
    return [checks.address_check(await public_address(request), request.headers.get("host")),
            checks.font_check(report), database, redis, checks.disk_check(settings.data_dir, disk),
            checks.clock_check(), checks.sheet_check(report)]


class VenueCheckPages(Controller):
    path = "/admin/venue"
    guards = [requires("organiser")]
    include_in_schema = False

    @get("/")
    async def venue_check(self, request: Req) -> Template:
        found = await gather_checks(request)
        address = await public_address(request)
        return Template("venue/check.html", context={
            "lang": preferred_language(request), "principal": await current_principal(request),
            "checks": found, "overall": checks.summary(found), "address": address,
            "qr": qr_svg(checks.venue_url(address)), "english": lambda message: gettext(message, "en")})

    @get("/test-sheet.pdf")
    async def test_sheet(self, request: Req) -> Response[bytes]:
        address = await public_address(request)
        try:
            font = await asyncio.to_thread(cjk_font)
        except FontNotFound as exc:
            raise Refusal(503, "font_missing", exc.zh, exc.en) from exc
        report = await asyncio.to_thread(font_report)
        body = await asyncio.to_thread(printer_sheet_pdf, font, address, checks.venue_url(address),
                                       f"{report.name} {report.path}")
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": 'inline; filename="test-sheet.pdf"'})


class VenuePublic(Controller):
    """Public, without personal data: what a phone on the venue network sees, and the server's clock."""

    path = "/venue"
    include_in_schema = False

    @get("/ok")
    async def connected(self, request: Req) -> Template:
        now = datetime.now(CHINA_TZ)
        return Template("venue/ok.html", context={
            "now": f"{now:%Y-%m-%d %H:%M:%S}", "reached": f"{request.url.scheme}://{request.headers.get('host', '')}"})

    @get("/clock", media_type=MediaType.JSON, cache_control=None)
    async def clock(self) -> Response[dict[str, int]]:
        return Response({"server_ms": int(time.time() * 1000)}, headers={"Cache-Control": "no-store"})
