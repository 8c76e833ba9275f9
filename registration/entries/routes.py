"""The public registration API of contracts §5 (what the QR form posts). Thin: read, register, answer."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath

from registration.entries.context import register_on_writer
from registration.entries.request import RequestError, read_request
from registration.web import ApiError

__all__ = ["RegistrationController", "request_error"]


def request_error(exc: RequestError) -> ApiError:
    """The first bad field as always (`code`, `message`, `field`), and `errors`: every bad field."""
    errors = [{"code": e.code, "field": e.field, "message": f"{e.field}：{e.zh}", "message_en": f"{e.field}: {e.en}"}
              for e in exc.errors]
    return ApiError(422, exc.code, f"{exc.field}：{exc.zh}", f"{exc.field}: {exc.en}", field=exc.field,
                    errors=errors)


class RegistrationController(Controller):
    path = "/api/events/{event_id:int}/registrations"
    tags = ["registration"]

    @post("/", status_code=201, summary="报名 / register (public: what the QR form posts)")
    async def create(self, event_id: FromPath[int], request: Request[Any, Any, Any]) -> dict[str, Any]:
        try:
            payload = await request.json()
        except Exception as exc:  # a body that is not JSON at all
            raise ApiError(400, "invalid_body", "请求内容不是有效的 JSON", "the body is not valid JSON") from exc
        try:
            req = read_request(payload)
        except RequestError as exc:
            raise request_error(exc) from exc
        outcome = await register_on_writer(request.app.state, event_id, req, "api")
        base = request.app.state.settings.public_url
        return {
            "registration_id": outcome.entry_id,
            "ticket_code": outcome.ticket_code,
            "ticket_url": f"{base}/t/{outcome.ticket_code}",
            "review": outcome.review,
            "warnings": outcome.warnings,
        }
