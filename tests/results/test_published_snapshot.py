"""The published snapshot as typed structures (results/snapshot.py): snapshots stored before later keys still
decode (with defaults); a snapshot built through the structures stores the very JSON and SHA-256 the dict
built before; a malformed stored snapshot fails with a clear, stable refusal; the typed write bodies of the
publication routes refuse what the hand-read bodies refused, with the same codes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import text, update

from judging import audit
from registration.entries.models import EntryMember
from registration.events.models import Event, Item
from results.notice import notice_period
from results.publication import Publication, audit_anchors, snapshot_of
from results.snapshot import (
    AuditAnchor,
    PublishedSnapshot,
    SnapshotError,
    decode_snapshot,
    snapshot_body,
    snapshot_digest,
)
from scoring.event_file import CHINA_TZ
from scoring.skill_levels import LEVEL_NAMES
from tests.results.test_publication import marked, settle
from tests.support.helpers import login_headers


def canonical_sha256(body: dict[str, Any]) -> str:
    """The hash as publication has always computed it, spelt out here so a change to the code cannot move it."""
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


# --- old shapes -------------------------------------------------------------------------------------------------

# the first publications' snapshot: no seat, criteria, level name, certificate kind or anchor
FIRST_SHAPE: dict[str, Any] = {
    "event": "2026 技能大赛", "item": "LED", "item_name": "LED 装调", "version": 1,
    "published_at": "2026-11-26T10:00:00+08:00", "basis": "total",
    "groups": [{"group": "学生组", "absent": 1, "rows": [
        {"position": 1, "rank": 1, "award": "一等奖", "names": ["张三"], "unit": "一中", "instructors": ["李老师"],
         "practical": "88.50", "total": "88.50", "qualified": True, "cert_level": 3, "promoted": True},
        {"position": 2, "rank": 2, "award": "", "names": ["王五", "赵六"], "unit": "二中", "instructors": [],
         "practical": None, "total": "0.00", "qualified": False, "cert_level": None, "promoted": False}]}],
    "notice": {"working_days": 5, "last_day": "2026-12-03", "ends_at": "2026-12-04T00:00:00+08:00",
               "calendar_known": True}}


def test_a_snapshot_from_before_the_later_keys_decodes_with_defaults() -> None:
    snap = decode_snapshot(FIRST_SHAPE)
    assert snap.certificate is None and snap.criteria == () and snap.audit is None
    first, second = snap.groups[0].rows
    assert (first.seat, first.criteria, first.cert_level_name) == ("", {}, "")
    assert first.total == Decimal("88.50") and second.total == Decimal("0.00") and second.practical is None
    assert second.names == ("王五", "赵六") and snap.groups[0].absent == 1
    assert snap.notice.ends_at == "2026-12-04T00:00:00+08:00"
    # as JSON text too, and the anchored shape of later snapshots
    anchored = {**FIRST_SHAPE, "certificate": "special_ability", "audit": {"seq": 12, "mac": "ab" * 32}}
    again = decode_snapshot(json.dumps(anchored).encode())
    assert again.audit == AuditAnchor(seq=12, mac="ab" * 32) and again.certificate == "special_ability"


# --- the same JSON, the same hash -------------------------------------------------------------------------------

def _ranking() -> dict[str, Any]:
    """A gate's ranking with what a snapshot must carry through: a team, a zero score, a score missing, a
    criterion not marked, no award, a promotion, the ranking's own extra keys (ignored)."""
    row = {"practical_pct": "88.50", "tie_unresolved": False, "decided": False}
    return {
        "item": "LED", "basis": "practical", "levelled": True, "complete": True, "pending": [], "totals": {},
        "criteria": [{"code": "A", "name": "操作规范", "max": "40.00"}, {"code": "B", "name": "功能", "max": "60.00"}],
        "groups": [
            {"group": "学生组", "absent": 1, "rows": [
                {**row, "seat": "A01", "position": 1, "rank": 1, "practical": "88.50", "total": "88.50",
                 "qualified": True, "award": "一等奖", "cert_level": 3, "promoted": True,
                 "criteria": {"A": "30.00", "B": "58.50"}},
                {**row, "seat": "A02", "position": 2, "rank": 2, "practical": "0.00", "total": None,
                 "qualified": False, "award": None, "cert_level": None, "promoted": False,
                 "criteria": {"A": "0.00", "B": None}}]},
            {"group": "职工组", "absent": 0, "rows": []}]}


def _seated() -> dict[str, tuple[dict[str, Any], list[EntryMember]]]:
    def member(entry_id: int, position: int, name: str, *teachers: str) -> EntryMember:
        # only what a snapshot reads of a member: its instructors (one with no name is left out)
        return cast(EntryMember, SimpleNamespace(entry_id=entry_id, position=position, name=name,
                                                 instructors=[{"name": t} for t in teachers] + [{"name": ""}]))

    return {"A01": ({"registration_id": 1, "names": ["张三"], "unit": "一中"}, [member(1, 0, "张三", "李老师")]),
            "A02": ({"registration_id": 2, "names": ["王五", "赵六"], "unit": "二中"},
                    [member(2, 0, "王五", "钱老师", "孙老师"), member(2, 1, "赵六", "钱老师")])}


def _old_body(event: Event, item: Item, ranking: dict[str, Any], seated: Any, version: int, at: datetime,
              working_days: int, head: tuple[int, str] | None) -> dict[str, Any]:
    """The snapshot as results/publication.py built it as a dict before the structures (copied as it was)."""
    period = notice_period(at, working_days)
    groups = []
    for g in ranking["groups"]:
        rows = []
        for r in g["rows"]:
            who, members = seated[r["seat"]]
            instructors = list(dict.fromkeys(i["name"] for m in members for i in m.instructors if i.get("name")))
            rows.append({"position": r["position"], "rank": r["rank"], "seat": r["seat"], "award": r["award"] or "",
                         "names": who["names"], "unit": who["unit"], "instructors": instructors,
                         "practical": r["practical"], "total": r["total"], "qualified": r["qualified"],
                         "cert_level": r["cert_level"], "cert_level_name": LEVEL_NAMES.get(r["cert_level"] or 0, ""),
                         "promoted": r["promoted"], "criteria": r["criteria"]})
        groups.append({"group": g["group"], "rows": rows, "absent": g["absent"]})
    body = {"event": event.name, "item": item.code, "item_name": item.name, "version": version,
            "certificate": item.certificate, "criteria": ranking["criteria"],
            "published_at": at.astimezone(CHINA_TZ).isoformat(), "basis": ranking["basis"], "groups": groups,
            "notice": {"working_days": working_days, "last_day": period.last_day.isoformat(),
                       "ends_at": period.ends_at.isoformat(), "calendar_known": period.calendar_known}}
    body["audit"] = {"seq": head[0] if head else 0, "mac": head[1] if head else audit.GENESIS}
    return body


@pytest.mark.parametrize("head", [(41, "c0ffee" * 10 + "beef"), None])
@pytest.mark.parametrize("certificate", ["skill_level", "special_ability"])
def test_a_snapshot_built_through_the_structures_stores_the_same_json_and_hash(
        head: tuple[int, str] | None, certificate: str) -> None:
    event = cast(Event, SimpleNamespace(name="2026 “巴渝工匠”杯技能大赛"))
    item = cast(Item, SimpleNamespace(code="LED", name="LED 装调", certificate=certificate))
    at = datetime(2026, 12, 20, 8, 0, 30, 123456, tzinfo=UTC)
    anchor = AuditAnchor(seq=head[0], mac=head[1]) if head else AuditAnchor(seq=0, mac=audit.GENESIS)
    new = snapshot_body(snapshot_of(event, item, _ranking(), _seated(), 3, at, 5, anchor))
    old = _old_body(event, item, _ranking(), _seated(), 3, at, 5, head)
    assert new == old
    assert json.dumps(new) == json.dumps(old)  # the JSON column's bytes: same keys, same order, same text
    assert snapshot_digest(new) == canonical_sha256(old)
    assert snapshot_body(decode_snapshot(old)) == old  # and a stored one reads back to itself


# --- malformed --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "where"), [
    ({k: v for k, v in FIRST_SHAPE.items() if k != "groups"}, "groups"),
    ({**FIRST_SHAPE, "groups": [{**FIRST_SHAPE["groups"][0], "rows": [{"rank": "1"}]}]}, "$.groups[0].rows[0]"),
    ({**FIRST_SHAPE, "notice": {**FIRST_SHAPE["notice"], "calendar_known": "yes"}}, "$.notice.calendar_known"),
    ({**FIRST_SHAPE, "groups": [{**FIRST_SHAPE["groups"][0], "rows": [
        {**FIRST_SHAPE["groups"][0]["rows"][0], "total": "eighty"}]}]}, "$.groups[0].rows[0].total"),
    (["not", "an", "object"], "object"),
    (b"{not json", "JSON"),
])
def test_a_malformed_snapshot_fails_clearly(raw: Any, where: str) -> None:
    with pytest.raises(SnapshotError) as caught:
        decode_snapshot(raw)
    refusal = caught.value
    assert refusal.status_code == 500 and refusal.code == "snapshot_unreadable"
    assert where in refusal.message_en and where in refusal.extra_fields["detail"], refusal.message_en
    assert refusal.message.startswith("已发布的成绩快照无法读取")


# --- through the app ---------------------------------------------------------------------------------------------

async def test_a_real_publication_stores_its_snapshot_as_the_structures_read_it(client: Any, db: Any) -> None:
    contest = await marked(db)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED/publication"
    assert (await client.post(url, json={}, headers=chief)).status_code == 201
    async with db() as session:
        raw, stored_hash = (await session.exec(text("SELECT body, hash FROM publication"))).one()
    raw = raw if isinstance(raw, str) else json.dumps(raw)  # PostgreSQL's driver may hand back the value
    snap = decode_snapshot(raw.encode())
    assert isinstance(snap, PublishedSnapshot) and snap.version == 1 and snap.audit is not None
    assert snap.audit.seq > 0 and snap.groups[0].rows[0].award == "一等奖"
    assert json.dumps(snapshot_body(snap)) == raw and stored_hash == canonical_sha256(json.loads(raw))
    public = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()["items"][0]["view"]
    assert {k: v for k, v in public.items() if k not in ("state", "hash")} == json.loads(raw)  # verbatim

    # a stored snapshot damaged afterwards: the list refuses with the stable code; the audit check still
    # reads the anchor
    broken = {**json.loads(raw), "groups": "lost"}
    async with db() as session:
        await session.exec(update(Publication).values(body=broken))  # type: ignore[call-overload]
        await session.commit()
    refused = await client.get(f"/api/events/{contest.event_id}/items/LED/lists/awards.xlsx", headers=chief)
    assert refused.status_code == 500 and refused.json()["code"] == "snapshot_unreadable"
    assert "$.groups" in refused.json()["message_en"]
    async with db() as session:
        [anchor] = await audit_anchors(session, contest.event_id)
    assert (anchor.seq, anchor.mac) == (snap.audit.seq, snap.audit.mac)


async def test_the_typed_bodies_refuse_as_the_hand_read_ones_did(client: Any, db: Any) -> None:
    contest = await marked(db, n=4, same=True)  # a tie on every boundary: the gate blocks until it is ordered
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED"

    async def post(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        answer = await client.post(f"{url}/{path}", headers={**chief, **(headers or {})}, **kwargs)
        return answer.status_code, answer.json()

    for path in ("publication", "publication/withdraw", "ties"):
        for bad in ({"content": b"{oops"}, {"content": b"[]", "headers": {"Content-Type": "application/json"}},
                    {"content": b""}):
            status, body = await post(path, **bad)
            assert status == 400 and body["code"] == "invalid_body", (path, bad, body)
    for days in (0, 31, None, "5", 5.0, [5], {"n": 5}):
        status, body = await post("publication", json={"working_days": days})
        assert (status, body["code"], body.get("field")) == (422, "invalid_working_days", "working_days"), days
    for reason in (None, "", "  ", 5, ["撤回"], {"r": "x"}):
        status, body = await post("publication/withdraw", json={"reason": reason})
        assert (status, body["code"], body.get("field")) == (422, "missing_field", "reason"), reason
    status, body = await post("publication/withdraw", json={"reason": "尚未发布"})
    assert (status, body["code"]) == (409, "not_published")
    for seats in (None, [], "A01", ["A01", 2], {"0": "A01"}):
        status, body = await post("ties", json={"reason": "理由", "seats": seats})
        assert (status, body["code"], body.get("field")) == (422, "missing_field", "seats"), seats
    status, body = await post("ties", json={"seats": [1]})
    assert body.get("field") == "reason"  # the reason is checked first, as before
    status, body = await post("publication", json={"working_days": 5, "reason": 7})
    assert (status, body["code"]) == (409, "publish_blocked")  # the tie still blocks: the body itself was fine
