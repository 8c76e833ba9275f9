"""The event file through the API: round trip (JSON and TOML), every validation refusal, nothing stored."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import tomli_w
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.helpers import EXAMPLE_EVENT, example_event

Client = AsyncTestClient[Litestar]


async def _count(admin: Client) -> int:
    return len((await admin.get("/api/events")).json())


async def test_json_round_trip_gives_back_the_same_document(admin: Client) -> None:
    created = await admin.post("/api/events", json=EXAMPLE_EVENT)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    got = (await admin.get(f"/api/events/{event_id}")).json()
    assert got == EXAMPLE_EVENT


async def test_toml_round_trip(admin: Client) -> None:
    body = tomli_w.dumps(EXAMPLE_EVENT)
    created = await admin.post("/api/events", content=body.encode(), headers={"Content-Type": "application/toml"})
    assert created.status_code == 201, created.text
    got = (await admin.get(f"/api/events/{created.json()['id']}")).json()
    assert got == EXAMPLE_EVENT


async def test_defaults_are_made_explicit_and_stable(admin: Client) -> None:
    doc = copy.deepcopy(EXAMPLE_EVENT)
    del doc["event"]["unit_quota_mode"], doc["items"][0]["promotion_top"], doc["items"][0]["pass_mark"]
    doc["items"][0]["team_size"] = 2
    event_id = (await admin.post("/api/events", json=doc)).json()["id"]
    got = (await admin.get(f"/api/events/{event_id}")).json()
    assert got["event"]["unit_quota_mode"] == "warn"
    assert got["items"][0]["promotion_top"] == 3  # two-person teams: top three
    assert got["items"][0]["pass_mark"] == 60
    again = (await admin.post("/api/events", json=got)).json()["id"]
    assert (await admin.get(f"/api/events/{again}")).json() == got


async def test_put_replaces_and_keeps_item_ids_by_code(admin: Client, app: Litestar) -> None:
    event_id = (await admin.post("/api/events", json=EXAMPLE_EVENT)).json()["id"]
    doc = copy.deepcopy(EXAMPLE_EVENT)
    doc["items"][0]["name"] = "LED显示屏应用（改）"
    doc["items"].append({**copy.deepcopy(doc["items"][0]), "code": "WPS", "name": "WPS办公软件应用"})
    response = await admin.put(f"/api/events/{event_id}", json=doc)
    assert response.status_code == 200, response.text
    assert (await admin.get(f"/api/events/{event_id}")).json() == doc


async def test_unknown_event_is_404_with_code(admin: Client) -> None:
    response = await admin.get("/api/events/999")
    assert response.status_code == 404 and response.json()["code"] == "unknown_event"


def _item(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["items"][0]  # type: ignore[no-any-return]


def _crit(doc: dict[str, Any], i: int) -> dict[str, Any]:
    return doc["items"][0]["criteria"][i]  # type: ignore[no-any-return]


REFUSALS = [
    ("theory weight above 0.3", lambda d: _item(d).update(theory_weight=0.31), "items[0].theory_weight", "30%"),
    ("duplicate item codes", lambda d: d["items"].append(copy.deepcopy(_item(d))), "items[1].code", "重复"),
    ("tie-break names unknown criterion", lambda d: _item(d).update(tie_break=["criterion:Z"]),
     "items[0].tie_break[0]", "不存在"),
    ("unknown award rule", lambda d: d["event"]["award_policy"].update(rule="top_half"),
     "event.award_policy.rule", "未知"),
    ("deduction as tie-break key", lambda d: _item(d).update(tie_break=["criterion:S"]),
     "items[0].tie_break[0]", "扣分"),
    ("unknown tie-break key", lambda d: _item(d).update(tie_break=["age"]), "items[0].tie_break[0]", "未知"),
    ("duplicate tie-break key", lambda d: _item(d).update(tie_break=["practical", "practical"]),
     "items[0].tie_break[1]", "重复"),
    ("duplicate criterion codes", lambda d: _item(d)["criteria"].append(copy.deepcopy(_crit(d, 0))),
     "items[0].criteria[3].code", "重复"),
    ("unknown criterion kind", lambda d: _crit(d, 0).update(kind="opinion"), "items[0].criteria[0].kind", "未知"),
    ("unknown aggregate", lambda d: _crit(d, 1).update(aggregate="mode"), "items[0].criteria[1].aggregate", "未知"),
    ("aggregate on a measurement", lambda d: _crit(d, 0).update(aggregate="mean"),
     "items[0].criteria[0].aggregate", "judgement"),
    ("max with three decimals", lambda d: _crit(d, 0).update(max=40.005), "items[0].criteria[0].max", "小数"),
    ("zero max", lambda d: _crit(d, 0).update(max=0), "items[0].criteria[0].max", "大于"),
    ("only deductions", lambda d: _item(d).update(criteria=[_crit(d, 2)], tie_break=[]), "items[0].criteria",
     "测量或评价"),
    ("no criteria", lambda d: _item(d).update(criteria=[], tie_break=[]), "items[0].criteria", "至少"),
    ("exam level 6", lambda d: _item(d).update(exam_level=6), "items[0].exam_level", "1 到 5"),
    ("unknown event kind", lambda d: d["event"].update(kind="national"), "event.kind", "未知"),
    ("bad start date", lambda d: d["event"].update(starts_on="2026-13-01"), "event.starts_on", "日期"),
    ("ratio above 1", lambda d: d["event"]["award_policy"].update(ratio=1.5), "event.award_policy.ratio", "1"),
    ("unknown quota mode", lambda d: d["event"].update(unit_quota_mode="maybe"), "event.unit_quota_mode", "未知"),
    ("duplicate group", lambda d: _item(d).update(groups=["学生组", "学生组"]), "items[0].groups[1]", "重复"),
    ("misspelt field", lambda d: _item(d).update(teory_weight=0.1), "items[0].teory_weight", "未知字段"),
    ("no items", lambda d: d.update(items=[]), "items", "至少"),
    ("missing name", lambda d: d["event"].pop("name"), "event.name", "必填"),
    ("bad closing time", lambda d: d["event"].update(registration_closes="soon"), "event.registration_closes", "日期"),
    ("text as team size", lambda d: _item(d).update(team_size="two"), "items[0].team_size", "整数"),
]


@pytest.mark.parametrize(("why", "mutate", "path", "zh_fragment"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_validation_refusal_names_path_and_reason_and_stores_nothing(
        admin: Client, why: str, mutate: Any, path: str, zh_fragment: str) -> None:
    doc = example_event()
    mutate(doc)
    response = await admin.post("/api/events", json=doc)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_event_file"
    matching = [e for e in body["errors"] if e["path"] == path]
    assert matching, f"{why}: no error at {path}: {body['errors']}"
    assert zh_fragment in matching[0]["message"] and matching[0]["message_en"]
    assert await _count(admin) == 0


async def test_errors_are_all_reported_at_once(admin: Client) -> None:
    doc = example_event(kind="x")
    _item(doc).update(theory_weight=0.9, exam_level=0)
    paths = {e["path"] for e in (await admin.post("/api/events", json=doc)).json()["errors"]}
    assert {"event.kind", "items[0].theory_weight", "items[0].exam_level"} <= paths


async def test_malformed_json_and_toml_are_refused(admin: Client) -> None:
    bad_json = await admin.post("/api/events", content=b'{"event": ', headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422 and bad_json.json()["code"] == "malformed_event_file"
    assert "第 1 行" in bad_json.json()["message"]
    bad_toml = await admin.post("/api/events", content=b"[event\nname=", headers={"Content-Type": "application/toml"})
    assert bad_toml.status_code == 422 and bad_toml.json()["code"] == "malformed_event_file"
    assert await _count(admin) == 0


async def test_failed_replace_leaves_the_stored_event_untouched(admin: Client) -> None:
    event_id = (await admin.post("/api/events", json=EXAMPLE_EVENT)).json()["id"]
    bad = example_event()
    _item(bad).update(theory_weight=0.5)
    assert (await admin.put(f"/api/events/{event_id}", json=bad)).status_code == 422
    assert (await admin.get(f"/api/events/{event_id}")).json() == EXAMPLE_EVENT


async def test_city_contest_with_one_item_is_accepted_with_a_warning(admin: Client) -> None:
    response = await admin.post("/api/events", json=EXAMPLE_EVENT)
    assert [w["path"] for w in response.json()["warnings"]] == ["items"]


async def test_catalog_search_by_name_and_code(client: Client) -> None:
    by_name = (await client.get("/api/catalog", params={"q": "焊工"})).json()
    assert by_name[0]["name"] == "焊工" and by_name[0]["kind"] == "occupation"
    abilities = (await client.get("/api/catalog", params={"q": "4-10-04-02", "kind": "special_ability"})).json()
    assert {a["name"] for a in abilities} >= {"小儿推拿保健服务", "产后康复服务"}
    everything = (await client.get("/api/catalog", params={"limit": 500})).json()
    assert sum(e["kind"] == "occupation" for e in everything) == 165
    assert sum(e["kind"] == "special_ability" for e in everything) == 258
    bad = await client.get("/api/catalog", params={"kind": "sports"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_kind"
