"""R4 of issue 17: property-based fuzzing of every operation of the app's OpenAPI document (schemathesis over
hypothesis), on a real database holding the demo, so that paths name real rows as well as random ones.

Half the requests carry the organiser's bearer token, half no credentials. Generation is derandomized (the same
requests every run: it cannot flake). The test prints how many requests it sent and the statuses they got, and
fails naming every 5xx (method, path, body). Run it alone:
`python -m pytest -m reliability tests/contestday/test_fuzz_openapi.py -s`."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
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
PER_STRATEGY = 24  # examples per (operation, positive/negative, random/real path values)


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
    """Every operation's generated cases, the same on every run."""
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {param.name for param in operation.path_parameters}
        fixed = {name: value for name, value in real.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in ({}, fixed) if fixed else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

                @hypothesis_settings(max_examples=PER_STRATEGY, derandomize=True, database=None, deadline=None,
                                     phases=[Phase.explicit, Phase.generate],
                                     suppress_health_check=list(HealthCheck))
                @given(case=strategy)
                def collect(case: Any) -> None:
                    cases.append(case)

                collect()
    return cases


def test_r4_5000_fuzzed_requests_answer_no_5xx(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_demo(settings, monkeypatch)
    real = _real_values(settings.database_url)
    app = create_app(settings)
    started = time.perf_counter()
    try:
        schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        cases = _cases(schema, real)
        generated = time.perf_counter() - started
        statuses: collections.Counter[int] = collections.Counter()
        failures: list[str] = []
        with schemathesis_asgi.get_client(app) as client:
            for index, case in enumerate(cases):
                headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if index % 2 == 0 else {}
                response = case.call(session=client, headers=headers)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    body = case.body if not isinstance(case.body, schemathesis.core.NotSet) else None
                    failures.append(f"{response.status_code} {case.method} {case.formatted_path} "
                                    f"query={case.query!r} body={body!r}"[:400])
    finally:
        schemathesis_asgi.shutdown_lifespans()
    took = time.perf_counter() - started
    print(f"\nR4 fuzz: {len(cases)} requests over {len(list(schema.get_all_operations()))} operations "
          f"(generated in {generated:.1f} s, {took:.1f} s in all); statuses {dict(sorted(statuses.items()))}; "
          f"5xx: {len(failures)}")
    assert len(cases) >= REQUESTS
    assert not failures, "\n".join(failures)
