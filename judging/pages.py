"""The judge's tablet page `/judge`: a server-rendered shell; judging/static/tablet.js and queue.js talk to the
websocket `/ws/judge` (judging/PROTOCOL.md) with the session cookie the personal link `/j/{token}` set.

A browser without that session (the cookie expired, another browser, a cleared tablet) gets a page telling the
judge to open the personal link again: judges have no password, so the organiser's login form is no way in."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.response import Template

from contestday.accounts.guards import current_principal, requires
from contestday.web.errors import Refusal
from contestday.web.http import error_body
from contestday.web.i18n import gettext, preferred_language, register

__all__ = ["TABLET_JS", "TabletPages"]

Req = Request[Any, Any, Any]

EXPIRED_401 = ("本机的裁判登录已失效。请用裁判长发给您的个人链接（或二维码）重新打开评分页面；"
               "未发送的分数已保存在本机，重新打开后自动发送。")
EXPIRED_403 = "当前登录的账号不是裁判。请用您的个人评分链接打开评分页面；未发送的分数已保存在本机。"
EXPIRED_REVOKED = "您的个人评分链接已被收回。请向裁判长索取新的链接并打开；未发送的分数已保存在本机。"
EXPIRED_SIGNED_OUT = "您的账号已被停用、重置或收回了角色。请向裁判长或组委会询问；未发送的分数已保存在本机。"

# key → Chinese; the page hands the script its messages, translated, as a JSON data block
TABLET_JS: dict[str, str] = {
    "connecting": "连接中…",
    "online": "在线",
    "offline": "离线",
    "pending": "待发送 {n} 条",
    "retry_in": "{s} 秒后重连",
    "server_busy": "服务器暂时无法保存，分数已存本机，恢复后自动发送",
    "no_items": "您还没有被分配到任何赛项的裁判组，请联系裁判长。",
    "no_seats": "该赛项还没有已就位的选手。",
    "seats": "赛位",
    "seat": "赛位 {seat}",
    "pick_seat": "请在左侧选择赛位",
    "total": "本人录入合计",
    "total_note": "合计仅供参考，以裁判长汇总为准",
    "progress": "{item}：已录入 {done} / {total} 项",
    "max": "满分 {max}",
    "deduction": "扣分项",
    "scale": "0–3 分制",
    "kind_measurement": "测量",
    "kind_judgement": "评价",
    "kind_deduction": "扣分",
    "saved": "已保存 ✓ 第 {v} 版",
    "waiting": "待发送",  # with a drawn hourglass: tablets without an emoji font show ⏳ as a box
    "refused": "未接受 ✗",
    "draft": "草稿",
    "locked": "已锁定",
    "bad_number": "请输入数字，如 35.5",
    "too_many_decimals": "最多 2 位小数",
    "out_of_range": "应在 0 到 {max} 之间",
    "conflict": "该分数已在别处修改：当前值 {value}（第 {v} 版），您录入的是 {mine}",
    "keep_current": "采用当前值 {value}",
    "use_mine": "改为我的 {mine}",
    "empty": "空",
    "remarks": "裁判长要求复核",
    "remark_line": "赛位 {seat} · {criterion}：{message}",
    "remark_how": "修改该分数即视为已复评；分数无误请点“确认原分”。",
    "keep_mark": "确认原分",
    "keep_waiting": "确认原分 · 待发送",
    "kept": "已确认原分，复评请求已完成。",
    "remark_closed": "裁判长已关闭复评请求：赛位 {seat} · {criterion}",
    "submit": "签字提交",
    "submit_title": "签字提交评分表",
    "submit_summary": "{item}：{seats} 个赛位，已录入 {done} / {total} 项。",
    "submit_missing": "还有 {n} 项未录入（扣分项可不填）。",
    "submit_pending": "还有 {n} 条待发送，将在其后提交。",
    "drafts_invalid": "有 {n} 项草稿不是有效分数（{seats}），请先改正",
    "submit_warning": "提交后评分表只读，修改需请裁判长退回。",
    "signature": "签名（请输入您的姓名）",
    "confirm_submit": "确认签字提交",
    "cancel": "取消",
    "signature_needed": "请输入姓名签字",
    "submitted": "已签字提交：评分表只读。如需修改请联系裁判长。",
    "submitting": "签字提交待发送…",
    "reopened": "裁判长已退回评分表，可以修改。",
    "expired_title": "请重新打开个人评分链接",
    "expired_401": EXPIRED_401,
    "expired_403": EXPIRED_403,
    "expired_revoked": EXPIRED_REVOKED,
    "expired_signed_out": EXPIRED_SIGNED_OUT,
    "dropped": "有一条记录未被服务器接受，已从待发送中移除：{message}",
    "storage_failed": "本机无法保存离线数据（浏览器存储不可用）：请保持在线并尽快提交。",
    "hand_in": "交卷",
    "hand_in_waiting": "交卷 · 待发送",
    "hand_in_confirm": "确认赛位 {seat} 的选手现在交卷？交卷时间以此刻为准。",
    "handed_in": "已交卷 · 用时 {time}",
    "handed_in_done": "赛位 {seat} 已交卷，用时 {time}",
}

register({
    "评分": "Marking",
    "裁判评分": "Judge's marking",
    "连接中…": "Connecting…",
    "在线": "Online",
    "离线": "Offline",
    "待发送 {n} 条": "{n} waiting to send",
    "正在加载评分表…": "Loading the marking sheet…",
    "需要打开个人评分链接": "Open your personal marking link",
    "请重新打开您的个人评分链接": "Please open your personal marking link again",
    "评分页面只能通过裁判长发给您的个人链接（或二维码）打开。": (
        "The marking page opens only through the personal link (or QR code) the chief judge gave you."),
    "如果您已经打开过，可能是登录已过期、换了浏览器或清除了浏览器数据：请再次打开该链接。": (
        "If you opened it before, the sign-in may have expired, or the browser or its data changed: open the link "
        "again."),
    "链接丢失请联系裁判长。": "Lost the link? Ask the chief judge.",
    "当前账号不是裁判，不能打开评分页面。": "This account is not a judge and cannot open the marking page.",
    "本页需要启用 JavaScript。": "This page needs JavaScript.",
    # the script's messages
    "{s} 秒后重连": "reconnecting in {s} s",
    "服务器暂时无法保存，分数已存本机，恢复后自动发送": "the server cannot store marks just now: they are kept on this "
                                                  "tablet and sent once it can",
    "您还没有被分配到任何赛项的裁判组，请联系裁判长。": "You are not on any item's panel yet: ask the chief judge.",
    "该赛项还没有已就位的选手。": "No contestant is seated in this item yet.",
    "赛位": "Seats",
    "赛位 {seat}": "Seat {seat}",
    "请在左侧选择赛位": "Pick a seat on the left",
    "本人录入合计": "My total",
    "合计仅供参考，以裁判长汇总为准": "totals are for information: the chief judge's result counts",
    "{item}：已录入 {done} / {total} 项": "{item}: {done} / {total} marks entered",
    "满分 {max}": "max {max}",
    "扣分项": "deduction",
    "0–3 分制": "0–3 scale",
    "测量": "Measurement",
    "评价": "Judgement",
    "扣分": "Deduction",
    "已保存 ✓ 第 {v} 版": "Saved ✓ version {v}",
    "待发送": "Waiting",
    "未接受 ✗": "Refused ✗",
    "草稿": "Draft",
    "已锁定": "Locked",
    "请输入数字，如 35.5": "Enter a number, e.g. 35.5",
    "最多 2 位小数": "At most 2 decimals",
    "应在 0 到 {max} 之间": "Must be between 0 and {max}",
    "该分数已在别处修改：当前值 {value}（第 {v} 版），您录入的是 {mine}": (
        "Changed elsewhere: now {value} (version {v}); you entered {mine}"),
    "采用当前值 {value}": "Keep {value}",
    "改为我的 {mine}": "Use mine: {mine}",
    "空": "empty",
    "裁判长要求复核": "The chief judge asks for a re-mark",
    "赛位 {seat} · {criterion}：{message}": "Seat {seat} · {criterion}: {message}",
    "修改该分数即视为已复评；分数无误请点“确认原分”。": (
        "Changing the mark answers the request; if the mark is right, tap “Keep mark”."),
    "确认原分": "Keep mark",
    "确认原分 · 待发送": "Keep mark · waiting",
    "已确认原分，复评请求已完成。": "Mark kept: the re-mark request is done.",
    "裁判长已关闭复评请求：赛位 {seat} · {criterion}": (
        "The chief judge closed the re-mark request: seat {seat} · {criterion}"),
    "签字提交": "Sign and submit",
    "签字提交评分表": "Sign and submit the sheet",
    "{item}：{seats} 个赛位，已录入 {done} / {total} 项。": "{item}: {seats} seats, {done} / {total} marks entered.",
    "还有 {n} 项未录入（扣分项可不填）。": "{n} marks are still empty (deductions may stay empty).",
    "还有 {n} 条待发送，将在其后提交。": "{n} operations wait to be sent; the sheet follows them.",
    "有 {n} 项草稿不是有效分数（{seats}），请先改正": "{n} drafts are not valid marks ({seats}): correct them first",
    "提交后评分表只读，修改需请裁判长退回。": "After submitting the sheet is read-only; the chief judge can reopen it.",
    "签名（请输入您的姓名）": "Signature (type your name)",
    "确认签字提交": "Confirm: sign and submit",
    "取消": "Cancel",
    "请输入姓名签字": "Type your name to sign",
    "交卷": "Hand in", "交卷 · 待发送": "Hand in · waiting to send",
    "确认赛位 {seat} 的选手现在交卷？交卷时间以此刻为准。":
        "Does the contestant at seat {seat} hand in now? The time is this moment.",
    "已交卷 · 用时 {time}": "Handed in · {time} used",
    "赛位 {seat} 已交卷，用时 {time}": "Seat {seat} handed in: {time} used",
    "已签字提交：评分表只读。如需修改请联系裁判长。": (
        "Signed and submitted: read-only. Ask the chief judge to change it."),
    "签字提交待发送…": "Signature waiting to be sent…",
    "裁判长已退回评分表，可以修改。": "The chief judge reopened the sheet: you may change it.",
    "请重新打开个人评分链接": "Open your personal marking link again",
    EXPIRED_401: (
        "This tablet's judge sign-in has lapsed. Open the marking page again with the personal link (or QR code) "
        "from the chief judge; unsent marks are kept here and sent after that."),
    EXPIRED_403: (
        "The signed-in account is not a judge. Open the marking page with your personal link; unsent marks are "
        "kept here."),
    EXPIRED_SIGNED_OUT: (
        "Your account was disabled or reset, or a role was taken from it. Ask the chief judge or the organisers; "
        "unsent marks are kept here."),
    EXPIRED_REVOKED: (
        "Your personal marking link was revoked. Ask the chief judge for the new link and open it; unsent marks "
        "are kept here."),
    "有一条记录未被服务器接受，已从待发送中移除：{message}": (
        "The server refused an operation; it left the queue: {message}"),
    "本机无法保存离线数据（浏览器存储不可用）：请保持在线并尽快提交。": (
        "This browser cannot keep offline data (storage unavailable): stay online and submit soon."),
})


def _wants_html(request: Req) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _refused(request: Req, exc: Exception) -> Response[Any]:
    """A browser without a judge session gets the "open your personal link again" page (not the organiser
    login the app's handler redirects to); API clients get the usual JSON refusal."""
    status, body = error_body(exc)
    if status in (401, 403) and _wants_html(request):
        return Template("judging/tablet_link.html", status_code=status, headers={"Cache-Control": "no-store"},
                        context={"lang": preferred_language(request), "not_judge": status == 403})
    return Response(body, status_code=status, media_type=MediaType.JSON)


class TabletPages(Controller):
    path = "/judge"
    guards = [requires("judge", "chief_judge")]
    include_in_schema = False
    exception_handlers = {Refusal: _refused}

    @get("/")
    async def tablet(self, request: Req) -> Template:
        principal = await current_principal(request)
        lang = preferred_language(request)
        text = json.dumps({key: gettext(zh, lang) for key, zh in TABLET_JS.items()},
                          ensure_ascii=False).replace("</", "<\\/")  # safe inside <script>
        return Template("judging/tablet.html", headers={"Cache-Control": "no-store"}, context={
            "lang": lang, "principal": principal, "js_text": text,
            # one local store per account: two judges sharing a tablet never replay each other's marks
            "store_key": f"contestday.tablet.u{principal.user_id if principal else 0}"})
