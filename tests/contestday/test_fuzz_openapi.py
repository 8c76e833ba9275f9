"""R4 of issue 17: property-based fuzzing of every operation of the app's OpenAPI document (schemathesis over
hypothesis), on a real database holding the demo, so that paths name real rows as well as random ones.

Every generated case is sent with the organiser's bearer token and without credentials, with its generated path
and again with the path naming the demo's rows. Generation is derandomized (the same requests every run: it
cannot flake). The test prints how many requests it sent and the statuses they got, and fails naming every 5xx
(method, path, body, the exception). Run it alone:
`python -m pytest -m reliability tests/contestday/test_fuzz_openapi.py -s`. The small tests below it pin each
5xx the fuzzing found, now refused."""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from contestday.app import create_app
from contestday.cli import main
from contestday.db.engine import create_engine
from contestday.settings import Settings
from contestday.web.request_bounds import largest_id
from tests.conftest import ADMIN_TOKEN

REQUESTS = 5000  # at least this many, over all operations
PER_STRATEGY = 12  # generated cases per operation and mode (schema-valid / schema-breaking)


def _seed_demo(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's data (an event at every stage: registrations, seats, marks, publications, certificates),
    made by the real command on the test's database."""
    for name, value in {"CONTESTDAY_DATA_DIR": str(settings.data_dir),
                        "CONTESTDAY_DATABASE_URL": settings.database_url,
                        "CONTESTDAY_SECRET_KEY": "test-secret-key",
                        "CONTESTDAY_ALLOW_LOOPBACK_QR": "1"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output


def _real_values(database_url: str) -> dict[str, Any]:
    """Path values that name rows of the demo: the event, an item's code, a judge, a seat, a criterion…"""
    queries = {
        "event_id": "SELECT min(id) FROM event",
        "code": "SELECT min(code) FROM item",
        "judge_id": "SELECT min(id) FROM judge",
        "seat": "SELECT min(seat_label) FROM seat_assignment",
        "criterion": "SELECT min(code) FROM criterion",
        "serial": "SELECT min(serial) FROM certificate",
        "import_id": "SELECT min(id) FROM theory_import",
        "remark_id": "SELECT min(id) FROM remark_request",
        "appeal_id": "SELECT min(id) FROM appeal",
    }

    async def read() -> dict[str, Any]:
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                values = {name: (await conn.execute(text(sql))).scalar() for name, sql in queries.items()}
        finally:
            await engine.dispose()
        values["name"] = "results"
        return {name: value for name, value in values.items() if value is not None}

    return asyncio.run(read())


def _cases(schema: Any, real: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """Every operation's generated cases, the same on every run (schema-valid and schema-breaking ones), each with
    the path values that name the demo's rows for the parameters its path has."""
    cases: list[tuple[Any, dict[str, Any]]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {param.name for param in operation.path_parameters}
        fixed = {name: value for name, value in real.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis_settings(max_examples=PER_STRATEGY, derandomize=True, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                cases.append((case, fixed))  # noqa: B023 (run at once, in this iteration)

            collect()
    return cases


class _Unhandled(logging.Handler):
    """The exceptions the app logs as unhandled (each 5xx that is not an outage), in order."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.seen.append(f"{type(exc).__name__}: {str(exc)[:120]}")


@pytest.mark.reliability
def test_r4_5000_fuzzed_requests_answer_no_5xx(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each generated case is sent with the organiser's bearer token (every guard passes, the handler runs) and
    without (the guards refuse), each with its generated path and again with the path naming the demo's rows."""
    _seed_demo(settings, monkeypatch)
    real = _real_values(settings.database_url)
    app = create_app(settings)
    unhandled = _Unhandled()
    logging.getLogger("contestday.http").addHandler(unhandled)
    started = time.perf_counter()
    sent = 0
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        operations = len(list(schema.get_all_operations()))
        cases = _cases(schema, real)
        generated = time.perf_counter() - started
        with schemathesis_asgi.get_client(app) as client:
            for case, fixed in cases:
                for paths, headers in itertools.product(
                        ("generated", "real") if fixed else ("generated",),
                        ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, {})):
                    if paths == "real":  # the same query and body, the path naming the demo's rows
                        case.path_parameters = {**(case.path_parameters or {}), **fixed}
                    response = case.call(session=client, headers=headers)
                    sent += 1
                    statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        body = None if isinstance(case.body, NotSet) else case.body
                        cause = unhandled.seen[-1] if unhandled.seen else response.text[:120]
                        failures.append(f"{response.status_code} {case.method} {case.formatted_path} "
                                        f"{'organiser' if headers else 'anonymous'} query={case.query!r} "
                                        f"body={body!r}"[:300] + f" -> {cause}")
    finally:
        logging.getLogger("contestday.http").removeHandler(unhandled)
        schemathesis_asgi.shutdown_lifespans()
    took = time.perf_counter() - started
    print(f"\nR4 fuzz: {sent} requests ({len(cases)} generated cases × organiser/anonymous × generated/real "
          f"paths) over {operations} "
          f"operations, generated in {generated:.1f} s, {took:.1f} s in all; statuses "
          f"{dict(sorted(statuses.items()))}; 5xx: {len(failures)}")
    assert sent >= REQUESTS
    assert not failures, f"{len(failures)} answers 5xx:\n" + "\n".join(failures)


# --- each 5xx the fuzzing found, refused with a stable code ---

BEYOND_SQLITE = 2**63  # one past SQLite's INTEGER (the driver raised OverflowError: 244 of 445 in the first run)


@pytest.mark.parametrize("path", [
    f"/api/events/{BEYOND_SQLITE}", f"/api/public/events/{BEYOND_SQLITE}/results",
    f"/api/events/1/items/LED/paper/{BEYOND_SQLITE}", f"/api/events/-{BEYOND_SQLITE + 1}/checkin/status",
    f"/api/events/{10**30}/appeals"])
async def test_a_path_number_no_id_column_holds_is_404_id_out_of_range(admin: Any, client: Any, path: str) -> None:
    for who in (admin, client):  # before any guard: the anonymous get the same answer
        refused = await who.get(path)
        assert refused.status_code == 404 and refused.json()["code"] == "id_out_of_range", refused.text
        assert "超出范围" in refused.json()["message"]
    page = await admin.get(f"/admin/events/{BEYOND_SQLITE}/poster.pdf", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "超出范围" in page.text
    assert (await admin.get("/api/events/1")).json()["code"] == "unknown_event"  # in range: the row's own 404


def test_the_largest_id_is_the_database_columns() -> None:
    assert largest_id("sqlite+aiosqlite:///x.sqlite3") == 2**63 - 1
    assert largest_id("postgresql+asyncpg://h/db") == 2**31 - 1  # `integer` id columns: asyncpg's DataError else


async def test_a_path_number_past_postgresql_integer_is_refused_there(admin: Any, settings: Settings) -> None:
    refused = await admin.get(f"/api/events/{2**31}")
    if settings.is_sqlite:
        assert refused.json()["code"] == "unknown_event"
    else:
        assert refused.status_code == 404 and refused.json()["code"] == "id_out_of_range", refused.text


async def test_a_form_field_that_is_not_utf8_is_400_invalid_encoding(admin: Any) -> None:
    """litestar decodes multipart fields as UTF-8 and let the UnicodeDecodeError through (7 of the 5xx)."""
    body = (b'--XX\r\nContent-Disposition: form-data; name="reason"\r\n\r\n\xfd\xce\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            b'Content-Type: text/csv\r\n\r\na,b\r\n--XX--\r\n')
    headers = {"Content-Type": "multipart/form-data; boundary=XX"}
    for url in ("/api/events/1/items/LED/theory/file", "/api/console/events/1/items/LED/scores/import"):
        refused = await admin.post(url, content=body, headers=headers)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_encoding", (url, refused.text)


async def test_a_json_body_that_is_not_an_object_is_400_on_every_json_route(admin: Any) -> None:
    """`null` on POST …/recheck/{seat} was an AttributeError (201 of the 445): every JSON body that is not an
    object is `invalid_body` now, on every operation of the document that takes one."""
    doc = (await admin.get("/schema/openapi.json")).json()
    checked = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            url = path.replace("{event_id}", "1").replace("{code}", "LED").replace("{", "").replace("}", "")
            for raw in (b"null", b"[1]", b'"x"', b"7"):
                answer = await admin.request(method.upper(), url, content=raw,
                                             headers={"Content-Type": "application/json"})
                assert answer.status_code < 500, (method, url, raw, answer.text)
                if answer.status_code == 400:
                    assert answer.json()["code"] == "invalid_body", (method, url, raw, answer.text)
                    checked += 1
    assert checked >= 4 * 20  # most routes read their body before they look the event up


async def test_a_nul_in_the_path_or_query_is_400_invalid_text(admin: Any) -> None:
    """PostgreSQL's text cannot hold U+0000: the check-in search with `q=…%00…` was a 500 there (asyncpg's
    "invalid byte sequence for encoding UTF8: 0x00"); now a 400 on both databases, before any query."""
    for url in ("/api/events/1/checkin/search?q=%E5%BC%A0%00%E4%B8%89", "/api/events/1/items/LED%00/seats"):
        refused = await admin.get(url)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_text", (url, refused.text)


async def test_a_nul_in_a_json_body_is_never_a_5xx(admin: Any) -> None:
    from tests.support.helpers import example_event

    answer = await admin.post("/api/events", json=example_event(name="赛\x00事"))
    assert answer.status_code in (201, 400, 422), answer.text  # PostgreSQL: `invalid_text` (nothing stored)
    if answer.status_code == 400:
        assert answer.json()["code"] == "invalid_text" and (await admin.get("/api/events")).json() == []


async def test_a_websocket_path_number_out_of_range_is_closed_4404(client: Any) -> None:
    from litestar.exceptions import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, \
            await client.websocket_connect(f"/ws/board/{BEYOND_SQLITE}") as socket:
        socket.receive_text()
    assert closed.value.code == 4404
