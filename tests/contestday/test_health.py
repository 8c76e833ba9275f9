from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_health_reports_database_and_schema(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["schema"] == "current"
    assert body["revision"] == body["head"] is not None


async def test_openapi_lists_event_routes(client: AsyncTestClient[Litestar]) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/events", "/api/events/{event_id}", "/api/catalog"} <= set(paths)
    assert "post" in paths["/api/events"] and "put" in paths["/api/events/{event_id}"]
