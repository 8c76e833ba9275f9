"""The sealed mapping: a crawl of every route a judge or the public can reach finds no name, unit or ID number
of a seated contestant before decryption. New routes join the crawl through the role × route matrix."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.contestday.test_guards import app_routes, expected_for
from tests.registration.test_checkin import contest, scan
from tests.support.helpers import login_headers

Client = AsyncTestClient[Litestar]


def _concrete(path: str, event_id: int) -> str:
    path = path.replace("{event_id:int}", str(event_id)).replace("{code:str}", "LED")
    path = re.sub(r"\{[^}]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


async def test_no_personal_data_for_seats_reaches_judges_or_the_public(app: Litestar, admin: Any, client: Client,
                                                                       db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=4, seats=10)
    secrets: set[str] = set()
    for n, code in enumerate(codes):
        await scan(admin, event_id, code, f"n{n}")
        await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A"})
    mapping_headers = await login_headers(client, db, "enc", "encryption_judge")
    for row in (await client.get(f"/api/events/{event_id}/items/LED/mapping", headers=mapping_headers)).json():
        secrets.update(row["names"])
        secrets.add(row["unit"])
    checked_in = await admin.post(f"/api/events/{event_id}/checkins", json={
        "ticket_code": codes[0], "station": "x", "nonce": "again"})
    secrets.update(m["id_masked"] for m in checked_in.json()["entry"]["members"])
    assert len(secrets) >= 5

    judge = await login_headers(client, db, "judge", "judge")
    crawled = 0
    for method, path in sorted(app_routes(app)):
        if method != "GET":
            continue
        allowed = expected_for(method, path)
        for who, headers in (("anonymous", {}), ("judge", judge)):
            if who not in allowed:
                continue
            response = await client.get(_concrete(path, event_id), headers=headers)
            crawled += 1
            leaked = [s for s in secrets if s in response.text]
            assert not leaked, f"{who} GET {path} shows {leaked}"
    assert crawled >= 10
