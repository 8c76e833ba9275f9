"""English for the kiosk's pages (Chinese is the source language), and the kiosk script's messages, which the
page hands to kiosk.js in its language."""

from __future__ import annotations

from typing import Any

from contestday.web.i18n import gettext, register

__all__ = ["KIOSK_JS", "t"]

# key → Chinese; the page passes the translated text as JSON to the script
KIOSK_JS: dict[str, str] = {
    "busy_checkin": "正在检录…",
    "busy_draw": "正在抽签…",
    "draw": "抽签",
    "ok": "检录成功",
    "ok_detail": "{time} · {station}",
    "already": "已检录",
    "already_detail": "首次检录：{time} · {station}",
    "refused": "不能检录",
    "unknown": "无效凭证",
    "drawn": "抽签完成",
    "draw_failed": "抽签未完成",
    "http_error": "服务器返回错误（{status}），请重试或联系工作人员",
    "seat_when": "{session} · {when} 开赛",
    "seat_day": "{m}月{d}日 {time}",
    "no_group": "（不分组）",
    "pending": "有 {n} 条请求待发送",
    "retrying": "网络中断：扫码已保存，第 {n} 次重试（{s} 秒后）",
    "waiting": "等待网络恢复…",
    "online": "在线",
    "offline": "离线",
    "server_trouble": "服务器异常",
    "no_match": "没有找到，请换个写法或核对赛事",
    "more_results": "结果较多，只列出前 20 条：请输入完整姓名或手机号后 4 位",
    "camera_hint": "请将二维码对准摄像头",
    "camera_failed": "无法打开摄像头：请检查权限，或改用扫码枪",
}

register({
    "检录与座位": "Check-in and seats",
    "打开检录页面": "Open the check-in kiosk",
    "场次与座位": "Sessions and seats",
    "已检录": "Checked in",
    "缺考": "Absent",
    "未检录": "Not yet",
    "已抽签": "Seats drawn",
    "座位表": "Seat list",
    "开赛": "Start",
    "{n} 场，{seats} 个座位": "{n} sessions, {seats} seats",
    "首场": "First session",
    "未设置座位": "No seat plan",
    "座位安排": "Seat plan",
    "打印": "Print",
    "开赛：未检录者记为缺考": "Start: mark no-shows absent",
    "将 {n} 名尚未检录的选手记为缺考；之后他们不能再检录。":
        "Marks the {n} contestants not checked in as absent; they cannot check in afterwards.",
    "确认记为缺考": "Confirm: mark absent",
    "本赛事还没有赛项。": "This event has no items yet.",
    "检录窗口由各场次的开赛时间与“开赛前/后可检录分钟数”决定。座位一经抽出即固定；已有选手抽签后不能再修改座位安排。":
        "The check-in window follows each session's start and its minutes before/after. Seats are fixed once "
        "drawn; the seat plan cannot change after the first draw.",
    "检录设备登录链接": "Sign-in links for check-in devices",
    "在检录设备上打开链接即以该检录人员身份登录并进入检录页面（{h} 小时内有效）。链接等同密码，请勿外传。":
        "Opening a link on a check-in device signs in as that staff member and opens the kiosk (valid {h} hours). "
        "A link is as good as a password: do not pass it on.",
    "检录人员": "Check-in staff",
    "登录链接": "Sign-in link",
    "还没有检录人员账号（角色：检录人员）。": "No check-in staff accounts yet (role: check-in staff).",
    "检录台名称在每台设备首次打开时设置，也可在链接后加 ?station=A门 作为默认值。":
        "Each device asks for its station name when first opened; add ?station=Gate-A to a link for a default.",
    "调整座位（设备故障）": "Move a contestant (equipment fault)",
    "选手（当前座位号或参赛凭证码）": "Contestant (current seat or ticket code)",
    "调至座位": "To seat",
    "理由（必填，记入日志）": "Reason (required, logged)",
    "如：A07 号工位电源故障": "e.g. no power at bench A07",
    "补时（分钟）": "Minutes given back",
    "调整座位": "Move",
    "时间": "Time",
    "原座位": "From",
    "新座位": "To",
    "理由": "Reason",
    "操作人": "By",
    "检录": "Check in",
    "更改检录台名称": "Change the station name",
    "检录台": "Station",
    "连接中…": "Connecting…",
    "请出示参赛凭证二维码": "Please show your ticket's QR code",
    "扫码枪扫描，或在下方输入凭证码后按回车": "Scan it, or type the ticket code below and press Enter",
    "正在检录…": "Checking in…",
    "身份证号": "ID number",
    "单位": "Unit",
    "抽签": "Draw seat",
    "赛位号": "Seat",
    "扫码或输入凭证码，按回车": "Scan or type the ticket code, then Enter",
    "参赛凭证码": "Ticket code",
    "手动输入": "Keyboard",
    "摄像头扫码": "Camera",
    "按姓名查找": "Find by name",
    "按姓名查找（遗失凭证）": "Find by name (lost ticket)",
    "请核对身份证件后再选择。": "Check the ID card before you pick.",
    "输入姓名": "Name",
    "姓名、手机尾号或身份证号": "Name, last phone digits or ID number",
    "关闭": "Close",
    "请将二维码对准摄像头": "Hold the QR code in front of the camera",
    "取消": "Cancel",
    "本机检录台名称": "This device's station",
    "如：A门、1号检录台。每台设备设置一次，记录在每条检录中。":
        "e.g. Gate A, Desk 1. Set once per device; every check-in records it.",
    "保存": "Save",
    "登录已过期": "Signed out",
    "本机的登录已失效，检录暂停。未发送的扫码已保存，重新登录后自动发送。":
        "This device's session has ended and check-in is paused. Scans not yet sent are kept and go out after "
        "you sign in again.",
    "重新登录": "Sign in again",
    "加密与解密": "Blind numbers and decryption",
    "仅加密裁判可见。解密须在该赛项全部成绩锁定并复核之后，逐层进行：先第 1 层（赛位号 → 抽签号），"
    "再第 2 层（抽签号 → 选手）。每次解密都记入日志，且不可撤销。":
        "For the encryption judge only. Decrypt once all of an item's scores are locked and re-checked, layer by "
        "layer: layer 1 (seat → draw number), then layer 2 (draw number → contestant). Every step is logged and "
        "final.",
    "确认解密“{item}”的第 {layer} 层？此操作记入日志且不可撤销。":
        "Decrypt layer {layer} of “{item}”? This is logged and cannot be undone.",
    "成绩": "Scores",
    "解密进度": "Decrypted",
    "加密座位对照表": "Sealed seat list",
    "解密": "Decrypt",
    "已锁定": "Locked",
    "未锁定": "Not locked",
    "未解密": "Sealed",
    "已解密第 1 层": "Layer 1 decrypted",
    "已全部解密": "Fully decrypted",
    "成绩锁定后可解密": "Available once the scores are locked",
    "解密第 {n} 层": "Decrypt layer {n}",
    "座位表（盲评）": "Seat list (blind)",
    "下载 XLSX": "Download XLSX",
    "密件：仅限加密裁判保管，解密前不得交给他人。":
        "Confidential: kept by the encryption judge, shown to no one before decryption.",
    "已抽签 {n} 人": "{n} seats drawn",
    "共 {total} 个座位，已就座 {n}": "{total} seats, {n} occupied",
    "密": "Sealed",
    "抽签号": "Draw no.",
    "姓名": "Name",
    "本场次还没有选手抽签。": "Nobody has drawn a seat in this session yet.",
    "状态": "State",
    "备注": "Notes",
    "已就座": "Occupied",
    "空": "Empty",
    "加密裁判签字": "Encryption judge's signature",
    "裁判长签字": "Chief judge's signature",
    "日期": "Date",
    "该赛项尚未设置座位（场次）。": "This item has no seat plan yet.",
    "已有选手抽签：座位安排已固定，不能再修改。": "Seats have been drawn: the seat plan is fixed.",
    "每行一个场次；座位号为“前缀 + 序号”，如 A01–A30，不同场次请用不同前缀。时间为北京时间。空行不保存。":
        "One session per row; seats are prefix + number, e.g. A01–A30, with a different prefix per session. "
        "Times are Beijing time. Empty rows are not saved.",
    "场次名称": "Session",
    "开赛时间": "Starts at",
    "座位数": "Seats",
    "座位号前缀": "Seat prefix",
    "开赛前可检录（分钟）": "Check-in opens (min before)",
    "开赛后可检录（分钟）": "Check-in closes (min after)",
    "第{n}场": "Session {n}",
    "需要更多场次：保存后会再出现空行。": "Need more sessions? Save, and more empty rows appear.",
    "保存座位安排": "Save the seat plan",
    # page notices and the script's messages
    "已将未检录者记为缺考：{n} 人": "Marked absent: {n}",
    "座位安排已保存": "Seat plan saved",
    "已调整座位：{n}": "Seat moved: {n}",
    "正在抽签…": "Drawing…",
    "检录成功": "Checked in",
    "{time} · {station}": "{time} · {station}",
    "首次检录：{time} · {station}": "First checked in: {time} · {station}",
    "不能检录": "Cannot check in",
    "无效凭证": "Unknown ticket",
    "抽签完成": "Seat drawn",
    "抽签未完成": "No seat drawn",
    "服务器返回错误（{status}），请重试或联系工作人员": "Server error ({status}): try again or call for help",
    "{session} · {when} 开赛": "{session} · starts {when}",
    "{m}月{d}日 {time}": "{m}/{d} {time}",
    "（不分组）": "(no group)",
    "有 {n} 条请求待发送": "{n} requests waiting to be sent",
    "网络中断：扫码已保存，第 {n} 次重试（{s} 秒后）": "Network down: scan kept, retry {n} in {s} s",
    "等待网络恢复…": "Waiting for the network…",
    "在线": "Online",
    "离线": "Offline",
    "服务器异常": "Server trouble",
    "没有找到，请换个写法或核对赛事": "No match: try another spelling",
    "结果较多，只列出前 20 条：请输入完整姓名或手机号后 4 位":
        "Many matches, the first 20 shown: type the full name or the last 4 phone digits",
    "无法打开摄像头：请检查权限，或改用扫码枪": "Cannot open the camera: check the permission, or use the scanner",
})


def t(message: str, lang: str, **values: Any) -> str:
    text = gettext(message, lang)
    return text.format(**values) if values else text
