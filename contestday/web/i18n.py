"""The message catalog: Simplified Chinese is the source language, English the translation.

Templates call `_("赛事列表")`; with English chosen they get the catalog's English, and the Chinese
itself where a message has no translation yet (a test lists those).
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from litestar import Request
from litestar.connection import ASGIConnection

__all__ = ["EN", "gettext", "jinja_gettext", "preferred_language", "register"]

EN: dict[str, str] = {
    "contestday 赛事日系统": "contestday",
    "登录": "Sign in",
    "退出": "Sign out",
    "用户名": "User name",
    "密码": "Password",
    "用户名或密码错误": "Wrong user name or password",
    "请先登录": "Please sign in",
    "赛事": "Events",
    "赛事列表": "Events",
    "语言": "Language",
    "首页": "Home",
    "健康检查": "Health",
    "接口文档": "API docs",
    "职业技能竞赛赛事日系统": "Contest-day system for vocational skills competitions",
    "报名": "Registration",
    "检录": "Check-in",
    "检录终端": "Check-in kiosk",
    "加密与解密": "Blind numbering",
    "报名页面（公众）": "Registration form (public)",
    "还没有赛事。": "No events yet.",
    "报名海报": "QR poster",
    "裁判": "Judges",
    "裁判长控制台": "Chief judge's console",
    "评分（平板）": "Marking (tablet)",
    # organiser pages: event list, import, editor (registration/templates/events)
    "新建赛事": "New event",
    "编辑赛事": "Edit event",
    "导出 JSON": "Export JSON",
    "导出 TOML": "Export TOML",
    "已导入赛事文件": "Event file imported",
    "已保存": "Saved",
    "赛事文件有错误，未保存：": "The event file has errors; nothing was saved:",
    "提醒（不影响保存）：": "Warnings (saved anyway):",
    "浏览器未启用 JavaScript：请在页面下方直接编辑赛事文件（JSON 或 TOML）并保存。":
        "JavaScript is off: edit the event file (JSON or TOML) at the bottom of the page and save it there.",
    "赛事设置": "Event settings",
    "赛事名称": "Event name",
    "赛事类型": "Kind of event",
    "开始日期": "Starts on",
    "主办单位": "Organiser",
    "报名截止（北京时间）": "Registration closes (Beijing time)",
    "奖项设置": "Award policy",
    "优胜奖规则": "Merit award rule",
    "比例（0–1）": "Ratio (0–1)",
    "门槛人数": "Threshold (contestants)",
    "团体赛项计数方式（30% 的基数）": "Team items: what N counts (base of the 30 %)",
    "按参赛人数": "Count people",
    "按参赛队数": "Count teams",
    "团体赛项按参赛人数时，30% 按人数计，优胜奖名额向下取整到整队（不拆分队伍）；按参赛队数时，30% 按队数计。":
        "On a team item counting people, the 30 % is of people and merit places round down to whole teams "
        "(a team is never split); counting teams, the 30 % is of teams.",
    "一、二、三等奖各 1、2、3 名，另按规则设优胜奖。":
        "One first, two second and three third prizes; merit awards follow the rule.",
    "报名限制": "Registration limits",
    "每人限报一个赛项": "One item per person",
    "每单位每组限报（空为不限）": "Entries per unit and group (empty: no limit)",
    "超额处理": "Over the quota",
    "赛项": "Item",
    "全部赛项": "Items",
    "添加赛项": "Add item",
    "保存赛事": "Save event",
    "只检查不保存": "Check without saving",
    "直接编辑赛事文件（JSON 或 TOML）": "Edit the event file directly (JSON or TOML)",
    "粘贴或修改完整的赛事文件后保存；有错误时不会保存任何内容。":
        "Paste or edit the whole event file and save; nothing is saved while it has errors.",
    "赛事文件": "Event file",
    "按文件保存": "Save this file",
    "用上方表单内容生成": "Fill in from the form above",
    "正在保存…": "Saving…",
    "正在检查…": "Checking…",
    "检查通过，可以保存": "No errors: ready to save",
    "保存失败": "Not saved",
    "无法连接服务器，请稍后重试": "Cannot reach the server; try again shortly",
    "目录中没有找到": "Nothing in the catalog for",
    "职业": "Occupation",
    "专项能力": "Special ability",
    "赛项数": "Items",
    "操作": "Actions",
    "编辑": "Edit",
    "还没有赛事。可以新建一个，或导入赛事文件。": "No events yet. Create one, or import an event file.",
    "导入赛事文件": "Import an event file",
    "上传 JSON 或 TOML 格式的赛事文件（结构见接口文档）；有错误时不会保存任何内容。":
        "Upload an event file in JSON or TOML (structure in the API docs); nothing is saved if it has errors.",
    "导入失败，赛事文件有错误：": "Import failed; the event file has errors:",
    "导入": "Import",
    "请选择要导入的赛事文件": "Choose an event file to import",
    "代码": "Code",
    "评分项名称": "Criterion",
    "满分": "Max",
    "类型": "Kind",
    "汇总方式": "Aggregate",
    "去尾最少裁判数": "Trim from (judges)",
    "允许分差": "Max spread",
    "删除评分项": "Remove criterion",
    "删除赛项": "Remove item",
    "从目录选择（职业或专项能力）": "Pick from the catalog (occupations and special abilities)",
    "输入名称或代码搜索，如：电工、美容": "Search by name or code, e.g. 电工, 美容",
    "赛项代码": "Item code",
    "赛项名称": "Item name",
    "目录代码": "Catalog code",
    "承办单位": "Host unit",
    "每队人数": "Team size",
    "命题等级": "Exam level",
    "合格线（实操，百分制）": "Pass mark (practical, of 100)",
    "理论成绩占比（0–0.3）": "Theory weight (0–0.3)",
    "晋升名额（前几名）": "Promotion: top places",
    "组别": "Groups",
    "其他组别（逗号分隔）": "Other groups (comma-separated)",
    "都不选则该赛项不分组。": "Leave all empty for an item without groups.",
    "评分项": "Criteria",
    "添加评分项": "Add criterion",
    "实操满分合计": "Practical maximum",
    "（测量与评价项满分之和，扣分项不计；按百分制折算）":
        "(sum of measurement and judgement maxima, deductions excluded; scaled to 100)",
    "并列判定顺序（逗号分隔）": "Tie-break order (comma-separated)",
    "市级行业赛": "City industry contest",
    "区县级竞赛": "District contest",
    "企业和院校技能练兵比武": "Enterprise and college skills contest",
    "测量": "Measurement",
    "评价": "Judgement",
    "扣分": "Deduction",
    "平均": "Mean",
    "中位数": "Median",
    "去掉最高最低后平均": "Trimmed mean",
    "五级/初级工": "Level 5 / Beginner",
    "四级/中级工": "Level 4 / Intermediate",
    "三级/高级工": "Level 3 / Advanced",
    "二级/技师": "Level 2 / Technician",
    "一级/高级技师": "Level 1 / Senior technician",
    "参赛超过门槛人数时另设优胜奖（按比例）": "Merit awards by ratio when entries exceed the threshold",
    "全部获奖者不超过参赛人数的比例": "All award winners within the ratio of entries",
    "超额时提醒": "Warn",
    "超额时拒绝": "Refuse",
    "实操成绩": "practical score",
    "理论成绩": "theory score",
    "指定评分项得分": "score of that criterion",
    "criterion:代码": "criterion:CODE",
    "用时（少者优先）": "time used (less first)",
    "学生组": "Students (学生组)",
    "职工组": "Employees (职工组)",
}


def register(messages: dict[str, str]) -> None:
    """Contexts add their own page messages at import time."""
    EN.update(messages)


def gettext(message: str, lang: str) -> str:
    return EN.get(message, message) if lang == "en" else message


@pass_context
def jinja_gettext(context: Any, message: str, **values: Any) -> str:
    lang = context.get("lang", "zh")
    text = gettext(message, lang)
    return text.format(**values) if values else text


def preferred_language(connection: ASGIConnection[Any, Any, Any, Any] | Request[Any, Any, Any]) -> str:
    """Chinese first: English only when chosen (cookie) or the browser asks for no Chinese at all."""
    chosen = connection.cookies.get("lang")
    if chosen in ("zh", "en"):
        return chosen
    accept = connection.headers.get("accept-language", "")
    if accept and "zh" not in accept.lower() and accept.lower().startswith("en"):
        return "en"
    return "zh"
