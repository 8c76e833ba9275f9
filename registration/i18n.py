"""The message catalog: Simplified Chinese is the source language, English the translation.

Templates call `_("赛事列表")`; with English chosen they get the catalog's English, and the Chinese
itself where a message has no translation yet (a test lists those).
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

__all__ = ["EN", "gettext", "jinja_gettext", "register"]

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
