"""Synthetic contestants for the demo event: a few hundred registrations through the real service (so every
rule applies), including the cases a reviewer must see — likely duplicates under another ID number, an
employee instructing a student of the same item, employees without a declared qualification, women
whose retirement base is unknown, and seed 001's 院校教师 and 灵活就业人员 (one without a unit: they have
none, and no unit quota counts them)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from registration.entries.context import load_context
from registration.entries.request import read_request
from registration.entries.service import register
from scoring.identity import check_character

__all__ = ["add_demo_registrations"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红梅兰鹏飞宇浩然思雨欣怡子轩梓涵一诺俊杰雪晨"
SCHOOLS = ["重庆电子科技职业大学", "重庆市工业高级技工学校", "重庆市轻工业学校", "重庆机电职业技术大学",
           "重庆电力高等专科学校", "重庆财经职业学院", "重庆市工贸高级技工学校", "重庆工业职业技术大学",
           "重庆工商职业学院", "重庆市江南职业学校", "重庆市卫生高级技工学校", "重庆城市管理职业学院",
           "重庆建筑工程职业学院", "重庆工程职业技术学院", "重庆市渝北职业教育中心", "重庆市巫山县职业教育中心"]
COMPANIES = ["长安汽车股份有限公司", "重庆建工集团", "重庆燃气集团", "国网重庆市电力公司", "重庆银行",
             "重庆机场集团", "重庆市烹饪协会会员单位", "重庆百货大楼", "重庆港务物流集团", "重庆水务集团",
             "赛力斯汽车有限公司", "重庆啤酒股份有限公司", "重庆三峡银行", "重庆轨道交通集团"]
DISTRICTS = ["渝中", "江北", "沙坪坝", "九龙坡", "南岸", "北碚", "渝北", "巴南", "涪陵", "万州", "永川", "江津",
             "合川", "长寿", "綦江", "大足", "璧山", "铜梁", "潼南", "荣昌"]
SCHOOLS += [f"重庆市{d}区职业教育中心" for d in DISTRICTS]
COMPANIES += [f"重庆{d}{kind}有限公司" for d in DISTRICTS for kind in ("机电", "建设")]
REGIONS = [f"5001{n:02d}" for n in range(1, 57)] + ["500157", "500228", "500230", "500240"]


def _id_number(rng: random.Random, birth: date, male: bool) -> str:
    order = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


def _person(rng: random.Random, identity: str, **overrides: Any) -> dict[str, Any]:
    male = rng.random() < 0.6
    if identity == "student":
        birth = date(2004, 1, 1) + timedelta(days=rng.randrange(0, 5 * 365))
    else:
        birth = date(1978, 1, 1) + timedelta(days=rng.randrange(0, 24 * 365))
    body: dict[str, Any] = {
        "identity": identity,
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "id_number": _id_number(rng, birth, male),
        "phone": f"1{rng.choice('3578')}{rng.randrange(0, 10**9):09d}",
        "education": rng.choice(["中专/技校", "大专", "本科"]),
    }
    if identity != "student":
        body.update(skill_level=rng.choice([2, 3, 4]), years_in_occupation=rng.randrange(5, 25),
                    female_base=None if male else 55)
    body.update(overrides)
    return body


async def add_demo_registrations(session: AsyncSession, event_id: int, secret_key: str,
                                 count: int = 300) -> dict[str, int]:
    """Register `count` synthetic entries (deterministic); returns how many were accepted / flagged / refused."""
    rng = random.Random(2026)
    ctx = await load_context(session, event_id, secret_key)
    items = [i.code for i in ctx.spec.items]
    bodies: list[dict[str, Any]] = []
    for n in range(count):
        # a few big items, many small ones: like a real contest
        item = items[0] if n % 5 == 0 else items[min(len(items) - 1, int(rng.paretovariate(1.2)) % len(items))]
        student = rng.random() < 0.55
        unit = rng.choice(SCHOOLS) if student else rng.choice(COMPANIES)
        member = _person(rng, "student" if student else "employee")
        instructors = [{"name": rng.choice(SURNAMES) + "老师", "phone": f"139{rng.randrange(0, 10**8):08d}"}] \
            if student else []
        bodies.append({"item": item, "group": "学生组" if student else "职工组", "unit": unit,
                       "instructors": instructors, **member})
    tally = {"accepted": 0, "flagged": 0, "refused": 0}
    accepted: list[dict[str, Any]] = []

    async def run(batch: list[dict[str, Any]]) -> None:
        for body in batch:
            try:
                outcome = await register(session, ctx, read_request(body), source="demo")
            except Refusal:
                tally["refused"] += 1  # e.g. a unit's quota in that group is used: the rules hold in the demo
                continue
            accepted.append(body)
            tally["accepted"] += 1
            tally["flagged"] += bool(outcome.flags)

    await run(bodies)
    bodies = []
    # cases for the review queue
    for k in range(3):  # the same person again under another ID number, in another item
        twin = dict(accepted[k * 7])
        twin.update(item=items[(items.index(twin["item"]) + 1) % len(items)],
                    id_number=_id_number(rng, date(2005, 5, 5 + k), True))
        bodies.append(twin)
    employee = _person(rng, "employee", name="周建国", phone="13983000001")
    bodies.append({"item": items[0], "group": "职工组", "unit": COMPANIES[0], "instructors": [], **employee})
    pupil = _person(rng, "student")
    bodies.append({"item": items[0], "group": "学生组", "unit": SCHOOLS[3], **pupil,
                   "instructors": [{"name": "周建国", "phone": "13983000001"}]})
    for k in range(3):  # employees who declared no qualification
        body = _person(rng, "employee", skill_level=None, years_in_occupation=2)
        bodies.append({"item": items[5 + k], "group": "职工组", "unit": COMPANIES[5 + k], "instructors": [], **body})
    for k in range(2):  # women workers near 50: is she on the 50 (worker) or the 55 (cadre) base?
        birth = date(1975, 3 + k, 10)
        body = _person(rng, "employee", id_number=_id_number(rng, birth, False), female_base=None)
        bodies.append({"item": items[10 + k], "group": "职工组", "unit": COMPANIES[10 + k], "instructors": [],
                       **body})
    # seed 001: "企事业单位职工、院校教师和学生、灵活就业人员均可报名参赛" (both in 职工组)
    for k in range(3):
        body = _person(rng, "teacher")
        bodies.append({"item": items[k], "group": "职工组", "unit": SCHOOLS[k], "instructors": [], **body})
    for k, unit in enumerate(("", "灵活就业", "灵活就业")):  # three in one item: no quota of 2 holds them
        body = _person(rng, "flexible", years_in_occupation=6 + k)
        bodies.append({"item": items[1], "group": "职工组", "unit": unit, "instructors": [], **body})
    await run(bodies)
    return tally
