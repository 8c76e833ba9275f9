"""Certificates on the server: issued from published results only, each with a serial and a signed verify URL;
revoked or reissued with a reason, never deleted.

- Serial: `E{event}-{ITEM}-{NNNN}-{RANDOM}` (E3-SA01-0007-K7QX9MP): the readable part numbered per item in
  handing-out order (group, then place), then 7 characters drawn from the CSPRNG (34.7 bits, the ticket
  alphabet: no 0/O/1/I/L), so that /verify cannot be walked from one serial to the next; unique within the
  event and across events (UNIQUE(serial)). Serials issued before the random part keep verifying.
- One valid certificate per person and entry: `active_key` (`entry:position` while valid, NULL once revoked)
  is UNIQUE, so issuing twice, or two organisers at once, cannot make two.
- Not while an appeal of the item is open (409 `appeal_open`): arbitration may still change the awards, and a
  certificate handed out for an award that then changes has to be called back.
- The QR holds `{public_url}/verify/{serial}?s=<HMAC>`: the verify page says whether the code is genuine; the
  record itself (valid or revoked, masked name, event, item, group, award, date) comes from the database.
  Only with the genuine signature does it add the issuer, a revocation's reason and the serial that replaced
  it: a typed serial shows what contracts §5 names, nothing that leads to another certificate.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from certificates.render import Certificate
from contestday.db.types import UTCDateTime, utcnow
from contestday.web.errors import Refusal
from registration.entries.models import Entry, EntryMember
from registration.entries.public_data import mask_name
from registration.entries.tickets import ALPHABET
from registration.events.models import Item
from registration.events.service import event_or_404
from results.appeals import open_appeals_by_item
from results.publication import current, seated_members
from results.snapshot import PublishedRow, decode_snapshot
from scoring.event_file import CHINA_TZ

__all__ = ["IssuedCertificate", "held_by_appeals", "issue", "load_template", "mask_name", "new_serial",
           "printable", "refuse_while_appealed", "reissue", "replaced_by", "revoke", "sign", "template_dir",
           "verify_url", "verify_view"]

log = logging.getLogger("contestday.certificates")


class IssuedCertificate(SQLModel, table=True):
    __tablename__ = "certificate"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False,
                                           index=True))
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("entry.id", ondelete="CASCADE"), nullable=False))
    position: int = 0  # the member of a team
    serial: str = Field(max_length=40, unique=True)
    active_key: str | None = Field(default=None, max_length=40, unique=True)  # entry:position while valid
    name: str = Field(max_length=64)
    unit: str = Field(max_length=200)
    event_name: str = Field(max_length=200)
    item_name: str = Field(max_length=200)
    group_name: str = Field(default="", max_length=64)
    award: str = Field(max_length=16)
    score: str = Field(default="", max_length=120)  # an item that weighs theory: its total, theory and practical
    issuer: str = Field(max_length=200)
    issued_on: date
    version: int  # the publication version it follows
    order_key: int = 0  # handing-out order within the event
    state: str = Field(default="valid", max_length=16)  # valid | revoked
    reason: str = Field(default="", max_length=500)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=80)
    replaces: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def sign(secret_key: str, serial: str) -> str:
    return hmac.new(f"contestday/certificate/{secret_key}".encode(), serial.encode(), hashlib.sha256).hexdigest()[:16]


def verify_url(public_url: str, secret_key: str, serial: str) -> str:
    return f"{public_url.rstrip('/')}/verify/{serial}?s={sign(secret_key, serial)}"


SERIAL_RANDOM = 7  # 31**7 > 2**34
SERIAL_MAX = 40  # the column's width


def new_serial(event_id: int, item_code: str, number: int) -> str:
    """`E3-SA01-0007-K7QX9MP`; a long item code is shortened so the serial fits its column (the random part
    keeps it unique)."""
    tail = f"-{number:04d}-" + "".join(secrets.choice(ALPHABET) for _ in range(SERIAL_RANDOM))
    head = f"E{event_id}-"
    return head + item_code[:max(1, SERIAL_MAX - len(head) - len(tail))] + tail


async def _next_number(session: AsyncSession, item_id: int) -> int:
    return int((await session.exec(select(func.count()).select_from(IssuedCertificate)
                                   .where(IssuedCertificate.item_id == item_id))).one()) + 1


def _appeal_open(item: Item, count: int) -> Refusal:
    return Refusal(409, "appeal_open",
                    f"赛项“{item.name}”有 {count} 件申诉尚未裁定：仲裁裁定后方可颁发或打印荣誉证书",
                    f"{item.code} has {count} open appeal(s): certificates wait for arbitration's ruling",
                    item=item.code, open_appeals=count)


async def held_by_appeals(session: AsyncSession, event_id: int) -> list[str]:
    """The codes of the event's items with an open appeal, in the event's order."""
    held = await open_appeals_by_item(session, event_id)
    if not held:
        return []
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    return [i.code for i in items if held.get(i.id or 0)]


async def refuse_while_appealed(session: AsyncSession, event_id: int, item_code: str | None) -> None:
    """409 `appeal_open` when the item (or, for the whole event, any item) has an open appeal: printing a batch
    then would hand out awards arbitration may still change."""
    held = await open_appeals_by_item(session, event_id)
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    for item in items:
        if held.get(item.id or 0) and item_code in (None, item.code):
            raise _appeal_open(item, held[item.id or 0])


async def issue(session: AsyncSession, event_id: int, item_code: str | None = None,
                issued_on: date | None = None) -> int:
    """Certificates for every award holder of the published items (or of one item) who has none yet; returns
    how many were made. An item with an open appeal is refused (one item: 409 `appeal_open`) or, for the
    whole event, left out (`held_by_appeals` names it). Commits."""
    event = await event_or_404(session, event_id)
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    if item_code is not None:
        items = [i for i in items if i.code == item_code]
        if not items:
            raise Refusal(404, "unknown_item", f"本赛事没有赛项“{item_code}”", f"no item {item_code!r}")
    day = issued_on or utcnow().astimezone(CHINA_TZ).date()
    issuer = event.organiser or f"{event.name}组委会"
    made = 0
    held = await open_appeals_by_item(session, event_id)
    for item in items:
        published = await current(session, item.id or 0)
        if published is None or published.state != "published" or published.body is None:
            if item_code is not None:
                raise Refusal(409, "not_published", "该赛项成绩尚未发布：证书只按发布的成绩颁发",
                               "the item's results are not published: certificates follow published results")
            continue
        if held.get(item.id or 0):
            if item_code is not None:
                raise _appeal_open(item, held[item.id or 0])
            continue
        snapshot = decode_snapshot(published.body)
        seated = await seated_members(session, item.id or 0)
        order = 0
        for group in snapshot.groups:
            for row in group.rows:
                if not row.award:
                    continue
                who, members = seated[row.seat]
                entry_id = who["registration_id"]
                for member in members:
                    order += 1
                    key = f"{entry_id}:{member.position}"
                    taken = (await session.exec(select(IssuedCertificate.id).where(
                        IssuedCertificate.active_key == key))).first()
                    if taken is not None:
                        continue
                    number = await _next_number(session, item.id or 0)
                    try:
                        async with session.begin_nested():  # a refused one rolls back alone
                            session.add(IssuedCertificate(
                                event_id=event_id, item_id=item.id or 0, entry_id=entry_id, position=member.position,
                                serial=new_serial(event_id, item.code, number), active_key=key, name=member.name,
                                unit=row.unit, event_name=event.name, item_name=item.name,
                                group_name=group.group, award=row.award, score=score_line(row), issuer=issuer,
                                issued_on=day,
                                version=published.version, order_key=(item.position or 0) * 100_000 + order))
                    except IntegrityError:  # issued meanwhile (the unique keys decide): leave theirs
                        continue
                    made += 1
    await session.commit()
    return made


async def _get(session: AsyncSession, serial: str) -> IssuedCertificate:
    row = (await session.exec(select(IssuedCertificate).where(IssuedCertificate.serial == serial))).first()
    if row is None:
        raise Refusal(404, "unknown_certificate", f"没有编号为 {serial} 的证书", f"no certificate {serial}")
    return row


async def revoke(session: AsyncSession, serial: str, reason: str, by: str, commit: bool = True) -> IssuedCertificate:
    if not reason.strip():
        raise Refusal(422, "reason_required", "作废证书须填写原因", "revoking needs a reason")
    row = await _get(session, serial)
    if row.state != "valid":
        raise Refusal(409, "already_revoked", "该证书已作废", "this certificate is already revoked")
    row.state, row.active_key, row.reason = "revoked", None, reason.strip()[:500]
    row.revoked_at, row.revoked_by = utcnow(), by[:80]
    session.add(row)
    log.info("certificate revoked", extra={"serial": serial, "by_user": by, "reason": row.reason})
    if commit:
        await session.commit()
    return row


async def reissue(session: AsyncSession, serial: str, reason: str, by: str) -> IssuedCertificate:
    """Revoke and issue again under a new serial (e.g. a misspelt unit corrected), in one transaction; the
    new certificate names the one it replaces."""
    old = await revoke(session, serial, reason, by, commit=False)
    await session.flush()
    entry_member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == old.entry_id,
                                                                 EntryMember.position == old.position))).first()
    entry = await session.get(Entry, old.entry_id)  # the name and unit as corrected since
    number = await _next_number(session, old.item_id)
    item = await session.get(Item, old.item_id)
    item_code = item.code if item is not None else old.serial.split("-")[1]
    new = IssuedCertificate(**{
        **old.model_dump(exclude={"id", "serial", "active_key", "state", "reason", "revoked_at", "revoked_by",
                                  "replaces", "created_at"}),
        "serial": new_serial(old.event_id, item_code, number), "active_key": f"{old.entry_id}:{old.position}",
        "name": entry_member.name if entry_member else old.name, "unit": entry.unit if entry else old.unit,
        "replaces": old.serial,
        "issued_on": utcnow().astimezone(CHINA_TZ).date()})
    session.add(new)
    log.info("certificate reissued", extra={"serial": new.serial, "replaces": old.serial, "by_user": by})
    await session.commit()
    return new


async def replaced_by(session: AsyncSession, serial: str) -> str | None:
    """The serial of the certificate reissued in place of `serial` (None: not reissued)."""
    return (await session.exec(select(IssuedCertificate.serial).where(IssuedCertificate.replaces == serial))).first()


async def verify_view(session: AsyncSession, serial: str, signature: str | None, secret_key: str) -> dict[str, Any]:
    """What contracts §5 names (valid, masked name, event, item, group, award, issued_on, revoked) for anyone
    who knows the serial; the issuer, a revocation's reason and the replacing serial only with the QR's
    genuine signature (the reason may name a person's unit; the replacing serial leads to another record)."""
    row = await _get(session, serial)
    genuine = signature is not None and hmac.compare_digest(signature, sign(secret_key, serial))
    view: dict[str, Any] = {
        "serial": row.serial, "valid": row.state == "valid", "revoked": row.state == "revoked",
        "name": mask_name(row.name), "event": row.event_name, "item": row.item_name, "group": row.group_name,
        "award": row.award, "issued_on": row.issued_on.isoformat(),
        "qr_genuine": genuine if signature is not None else None}
    if genuine:
        view.update({"issuer": row.issuer, "reason": row.reason if row.state == "revoked" else "",
                     "replaced_by": await replaced_by(session, row.serial) if row.state == "revoked" else None})
    return view


def score_line(row: PublishedRow) -> str:
    """What a certificate of an item that weighs theory prints under the award: the total with its theory and
    practical parts, as published (成绩总表 shows the same three); "" for the other items."""
    if not isinstance(row.theory, Decimal) or row.total is None:
        return ""
    practical = "—" if row.practical is None else f"{row.practical:.2f}"
    return f"总成绩 {row.total:.2f} 分（理论 {row.theory:.2f} · 实操 {practical}）"


async def printable(session: AsyncSession, event_id: int, public_url: str, secret_key: str,
                    item_code: str | None = None, group: str | None = None,
                    serials: list[str] | None = None) -> list[Certificate]:
    """The valid certificates to print, in handing-out order (item, group, place)."""
    query = select(IssuedCertificate, Item.code).join(Item, col(Item.id) == IssuedCertificate.item_id).where(
        IssuedCertificate.event_id == event_id, IssuedCertificate.state == "valid")
    if item_code:
        query = query.where(Item.code == item_code)
    if group is not None:
        query = query.where(IssuedCertificate.group_name == group)
    if serials is not None:
        query = query.where(col(IssuedCertificate.serial).in_(serials))
    rows = (await session.exec(query.order_by(col(IssuedCertificate.order_key)))).all()
    return [Certificate(r.serial, r.name, r.unit, r.event_name, r.item_name, r.group_name, r.award, r.issuer,
                        r.issued_on, verify_url(public_url, secret_key, r.serial), r.score) for r, _code in rows]


def template_dir(data_dir: Any, event_id: int) -> Any:
    return data_dir / "certificates" / f"event-{event_id}"


def load_template(data_dir: Any, event_id: int) -> Any:
    """The event's certificate template: `template.json` (layout, 套打, offsets) and `design.jpg|png` in
    DATA_DIR/certificates/event-N/ when the organiser uploaded them, else the default design."""
    import json

    from certificates.render import DEFAULT_TEMPLATE, template_from_document

    folder = template_dir(data_dir, event_id)
    template = DEFAULT_TEMPLATE
    layout = folder / "template.json"
    if layout.is_file():
        try:
            doc = json.loads(layout.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):  # a file broken on disk: the default design still prints
            log.warning("certificate layout unreadable: the default is used", extra={"event_id": event_id})
            doc = {}
        # not strict: a layout saved before the checks falls back to the default for its bad values
        template = template_from_document(doc, strict=False)
    for name in ("design.jpg", "design.png"):
        if (folder / name).is_file():
            template = template.with_background((folder / name).read_bytes())
            break
    return template
