"""Judges of an event and their panels: add a judge (with the account the personal link signs in), put a
judge on an item's panel, and the personal link itself (signed, revocable by bumping `link_version`)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import LoginSession, User
from contestday.accounts.security import new_token, sign, unsign, unsign_unscoped
from contestday.accounts.service import RoleConflict, grant_role
from contestday.web.errors import Refusal
from judging.models import Judge, PanelMember
from registration.entries.personal import normalise_phone, normalise_unit

__all__ = ["PANEL_ROLES", "add_judge", "assign", "conflict_error", "judge_from_link", "personal_link_token",
           "revoke_link"]

PANEL_ROLES = ("chief_judge", "judge", "encryption_judge")


async def add_judge(session: AsyncSession, event_id: int, name: str, unit: str = "", phone: str = "",
                    user_id: int | None = None) -> Judge:
    """A judge bound to `user_id`, or to a new login-less account (the personal link is the way in); the
    caller commits."""
    if user_id is None:
        user = User(name=f"judge-{event_id}-{new_token(6)}", display_name=name)
        session.add(user)
        await session.flush()
        user_id = user.id
    judge = Judge(event_id=event_id, user_id=user_id, name=name, unit=unit,
                  unit_key=normalise_unit(unit) if unit else "", phone=normalise_phone(phone) if phone else "")
    session.add(judge)
    await session.flush()
    return judge


async def assign(session: AsyncSession, judge: Judge, item_id: int, role: str,
                 criteria: list[str] | None = None, by: str = "?") -> PanelMember:
    """Put a judge on a panel; the account gets the matching role for that item of that event only (a chief
    judge's holds for the whole event), recorded. 409 `role_conflict` when that would put the person on both
    sides of the blind in this event (judging one item, holding another's seat → name list). The caller
    commits."""
    if role not in PANEL_ROLES:
        raise Refusal(422, "unknown_role", f"未知的裁判组角色“{role}”", f"unknown panel role {role!r}")
    member = PanelMember(item_id=item_id, judge_id=judge.id or 0, role=role, criteria=list(criteria or []))
    session.add(member)
    await session.flush()
    if judge.user_id is not None:
        user = await session.get(User, judge.user_id)
        assert user is not None
        try:
            await grant_role(session, user, role, by, judge.event_id, None if role == "chief_judge" else item_id)
        except RoleConflict as exc:
            raise conflict_error(judge.name, exc) from exc
    return member


def conflict_error(name: str, exc: RoleConflict) -> Refusal:
    """409 `role_conflict`: a judge cannot hold the seat → name list of the event they score in, nor the other
    way round."""
    if exc.held_side == "sealing":
        zh = f"{name} 已是本赛事的加密裁判，不能再担任裁判或裁判长（盲评：评分者不得知道选手姓名）"
        en = f"{name} is an encryption judge of this event and cannot also score in it (blind scoring)"
    else:
        zh = f"{name} 已在本赛事担任裁判或裁判长，不能再担任加密裁判（盲评：评分者不得知道选手姓名）"
        en = f"{name} scores in this event and cannot also be its encryption judge (blind scoring)"
    return Refusal(409, "role_conflict", zh, en, role=exc.role)


def personal_link_token(secret_key: str, judge: Judge) -> str:
    return sign(secret_key, "judge-link", f"j{judge.id}.{judge.link_version}")


async def judge_from_link(session: AsyncSession, secret_key: str, token: str) -> Judge | None:
    # a link printed before tokens named their purpose keeps opening, so cards already handed out survive the
    # upgrade; revoking (a new link_version) retires it like any other
    payload = unsign(secret_key, "judge-link", token) or unsign_unscoped(secret_key, token, r"j\d+\.\d+")
    if payload is None or not payload.startswith("j"):
        return None
    judge_id, _, version = payload[1:].partition(".")
    if not (judge_id.isdigit() and version.isdigit()):
        return None
    judge = await session.get(Judge, int(judge_id))
    return judge if judge is not None and judge.link_version == int(version) else None


async def revoke_link(session: AsyncSession, judge: Judge) -> None:
    """Every link issued so far stops working, and the tablets signed in through one are signed out (their
    websockets are refused from the next reconnect)."""
    judge.link_version += 1
    session.add(judge)
    if judge.user_id is not None:
        await session.exec(delete(LoginSession).where(col(LoginSession.user_id) == judge.user_id))
