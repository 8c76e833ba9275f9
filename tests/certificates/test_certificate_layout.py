"""A certificate layout is checked when it is saved (issue #12, finding 5): a bad colour, a NaN size, a field
off the page or a font named in the layout is refused with 422 `invalid_layout` listing each field, and nothing
is written; a bad layout stored before the checks no longer breaks every certificate PDF: its bad values fall
back to the default's (logged), its good ones still apply."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.certificates.test_certificates_server import published


async def first_serial(db: Any, event_id: int) -> str:
    from sqlmodel import col, select

    from certificates.store import IssuedCertificate

    async with db() as session:
        return (await session.exec(select(IssuedCertificate.serial).where(IssuedCertificate.event_id == event_id)
                                   .order_by(col(IssuedCertificate.order_key)))).first() or ""


BAD = ('{"fields": {"name": {"x_mm": 100, "y_mm": 120, "size": NaN, "color": "red"},'
       ' "unit": {"x_mm": 400, "y_mm": 114, "size": 14, "font": "Comic Sans"},'
       ' "award": {"x_mm": 148.5, "y_mm": 70, "size": 26, "color": "#0055aa"}},'
       ' "qr": {"x_mm": 290, "y_mm": 10, "size_mm": 24}}')


def test_every_bad_value_is_named_and_the_good_ones_are_kept() -> None:
    from certificates.render import DEFAULT_TEMPLATE, LayoutError, layout_errors, template_from_document

    errors = {e["field"]: e["message"] for e in layout_errors(json.loads(BAD))}
    assert set(errors) == {"fields.name.size", "fields.name.color", "fields.unit.x_mm", "fields.unit.font", "qr"}
    assert errors["fields.name.color"] == "颜色应写成 #rrggbb（如 #b3261e）"
    assert errors["fields.unit.x_mm"] == "应在 0 到 297 之间"
    with pytest.raises(LayoutError):
        template_from_document(json.loads(BAD))
    lenient = template_from_document(json.loads(BAD), strict=False)
    assert lenient.fields["name"] == DEFAULT_TEMPLATE.fields["name"]  # the bad field: the default's place
    assert lenient.fields["award"].color == "#0055aa" and lenient.fields["award"].y_mm == 70  # the good one stays
    assert lenient.qr_x_mm == DEFAULT_TEMPLATE.qr_x_mm
    for doc in ({"fields": {"name": {"x_mm": "1e999", "y_mm": 1, "size": 10}}},
                {"fields": {"name": {"x_mm": 1, "y_mm": 1, "size": True}}},
                {"fields": {"nickname": {"x_mm": 1, "y_mm": 1, "size": 10}}},
                {"fields": {"name": {"x_mm": 1, "y_mm": 1, "size": 10, "align": "justify"}}},
                {"offset_x_mm": float("inf")}, {"fixed": {"title": ["x"]}}, {"overprint": "yes"}, []):
        assert layout_errors(doc), doc
    assert layout_errors({"fields": {"name": {"x_mm": 100, "y_mm": 120, "size": 28}}, "offset_x_mm": -2}) == []


async def test_a_bad_layout_is_refused_on_save_and_nothing_is_written(client: Any, db: Any, settings: Any) -> None:
    contest, organiser = await published(client, db)
    url = f"/console/events/{contest.event_id}/certificates/template"
    folder = settings.data_dir / "certificates" / f"event-{contest.event_id}"
    refused = await client.post(url, headers=organiser, data={"layout": BAD})
    body = refused.json()
    assert refused.status_code == 422 and body["code"] == "invalid_layout", body
    assert {e["field"] for e in body["errors"]} >= {"fields.name.size", "fields.name.color", "fields.unit.font"}
    assert body["message"].startswith("版式有 5 处错误")
    assert not (folder / "template.json").exists()
    nan_offset = await client.post(url, headers=organiser, data={"offset_x_mm": "nan"})
    assert nan_offset.status_code == 422 and [e["field"] for e in nan_offset.json()["errors"]] == ["offset_x_mm"]
    deep = await client.post(url, headers=organiser, data={"layout": "[" * 50_000})
    assert deep.status_code == 422 and deep.json()["code"] == "upload_too_complex"
    assert not (folder / "template.json").exists()
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    serial = await first_serial(db, contest.event_id)
    one = await client.get(f"/certificates/{serial}.pdf", headers=organiser)
    assert one.status_code == 200 and one.content.startswith(b"%PDF")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_bad_layout_stored_before_the_checks_still_prints(client: Any, db: Any, settings: Any) -> None:
    contest, organiser = await published(client, db)
    folder = settings.data_dir / "certificates" / f"event-{contest.event_id}"
    folder.mkdir(parents=True)
    (folder / "template.json").write_text(BAD.replace("NaN", "NaN, \"max_width_mm\": -1"), encoding="utf-8")
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    serial = await first_serial(db, contest.event_id)
    logged = _Records()
    logging.getLogger("contestday.certificates").addHandler(logged)  # "contestday" does not propagate
    try:
        one = await client.get(f"/certificates/{serial}.pdf", headers=organiser)
    finally:
        logging.getLogger("contestday.certificates").removeHandler(logged)
    assert one.status_code == 200 and one.content.startswith(b"%PDF")  # before: 500 for every certificate
    assert [getattr(r, "fields", None) for r in logged.records] == [
        ["fields.name.size", "fields.name.max_width_mm", "fields.name.color", "fields.unit.x_mm", "fields.unit.font",
         "qr"]]
    calibration = await client.get(f"/console/events/{contest.event_id}/certificates/calibration.pdf",
                                   headers=organiser)
    assert calibration.status_code == 200 and calibration.content.startswith(b"%PDF")
    (folder / "template.json").write_text("{broken", encoding="utf-8")
    assert (await client.get(f"/certificates/{serial}.pdf", headers=organiser)).status_code == 200


async def test_a_design_image_is_bounded(client: Any, db: Any) -> None:
    import io

    from PIL import Image

    contest, organiser = await published(client, db)
    url = f"/console/events/{contest.event_id}/certificates/template"
    huge = io.BytesIO()
    Image.new("1", (9000, 9000)).save(huge, "PNG")  # a few KB on the wire, 81 megapixels to decode
    refused = await client.post(url, headers=organiser, files={"design": ("design.png", huge.getvalue())})
    assert refused.status_code == 422 and refused.json()["code"] == "upload_too_complex", refused.text
    assert "8000×8000" in refused.json()["message"]
