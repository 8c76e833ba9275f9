"""R4 of issue 17: property-based fuzzing of every operation of the app's OpenAPI document (schemathesis over
hypothesis), on a real database holding the demo, so that paths name real rows as well as random ones.

Every generated request is sent twice, with the organiser's bearer token and without credentials. Generation is
derandomized (the same requests every run: it cannot flake). The test prints how many requests it sent and the
statuses they got, and fails naming every 5xx (method, path, body, the exception). Run it alone:
`python -m pytest -m reliability tests/contestday/test_fuzz_openapi.py -s`. The small tests below it pin each
5xx the fuzzing found, now refused."""

from __future__ import annotations

import asyncio
import collections
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
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.reliability

REQUESTS = 5000  # at least this many, over all operations
PER_STRATEGY = 21  # generated cases per operation and mode (schema-valid / schema-breaking)


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


def _cases(schema: Any, real: dict[str, Any]) -> list[Any]:
    """Every operation's generated cases, the same on every run: schema-valid and schema-breaking ones, every
    other one with its path naming the demo's rows."""
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {param.name for param in operation.path_parameters}
        fixed = {name: value for name, value in real.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            made: list[Any] = []

            @hypothesis_settings(max_examples=PER_STRATEGY, derandomize=True, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                made.append(case)  # noqa: B023 (run at once, in this iteration)

            collect()
            for index, case in enumerate(made):
                if fixed and index % 2:
                    case.path_parameters = {**(case.path_parameters or {}), **fixed}
            cases.extend(made)
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


def test_r4_5000_fuzzed_requests_answer_no_5xx(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each generated request is sent twice: with the organiser's bearer token (every guard passes, the handler
    runs) and without (the guards refuse)."""
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
            for case in cases:
                for headers in ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, {}):
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
    print(f"\nR4 fuzz: {sent} requests ({len(cases)} generated cases × organiser/anonymous) over {operations} "
          f"operations, generated in {generated:.1f} s, {took:.1f} s in all; statuses "
          f"{dict(sorted(statuses.items()))}; 5xx: {len(failures)}")
    assert sent >= REQUESTS
    assert not failures, f"{len(failures)} answers 5xx:\n" + "\n".join(failures)
