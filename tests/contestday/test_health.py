import errno
import os
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday import settings as settings_module


async def test_health_reports_database_and_schema(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["schema"] == "current"
    assert body["revision"] == body["head"] is not None
    assert body["data_dir"] == "ok" and body["free_mib"] >= settings_module.MIN_FREE_MIB


async def test_health_names_a_full_or_read_only_data_dir(client: AsyncTestClient[Litestar],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 2**40)
    response = await client.get("/health")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "error"
    assert body["data_dir"] == "full" and isinstance(body["free_mib"], int)
    assert body["database"] == "ok" and body["schema"] == "current"  # the other components still said

    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 1)

    def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:  # a read-only mount (chmod does not stop root)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(settings_module, "open", refuse, raising=False)
    response = await client.get("/health")
    assert response.status_code == 503 and response.json()["data_dir"] == "read_only"
    monkeypatch.undo()
    response = await client.get("/health")
    assert response.status_code == 200 and response.json()["data_dir"] == "ok"


async def test_openapi_lists_event_routes(client: AsyncTestClient[Litestar]) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/events", "/api/events/{event_id}", "/api/catalog"} <= set(paths)
    assert "post" in paths["/api/events"] and "put" in paths["/api/events/{event_id}"]
