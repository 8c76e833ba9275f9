"""Refusals: what a service says when it will not do something, in domain terms and both languages.

`Refusal(status, code, zh, en, **extra)` knows nothing of HTTP frameworks: services, the CLI and websocket
handlers raise it; the web layer (`contestday.web.http`) turns it into a response
`{"code", "message" (Chinese), "message_en", ...extra}` with `status` (an HTTP status, the one number a
refusal carries).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Refusal"]


class Refusal(Exception):
    def __init__(self, status_code: int, code: str, message: str, message_en: str, **extra: Any):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.message_en = message_en
        self.extra_fields = extra
        self.headers: dict[str, str] | None = None  # e.g. Retry-After of a 429

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en,
                **self.extra_fields}
