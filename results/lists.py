"""The lists everyone asks for, built from the item's published snapshot (the official results) joined to
what only the organiser may see (ID numbers for the assessment body, birth dates for the age rule):

- `awards` 获奖名单: 序号, 赛项, 组别, 奖项, 姓名, 单位, 指导教师, 晋升等级 (domain.md's columns);
- `promotions` 晋升名单: the promoted, exam level → certificate level; only for an item whose certificate has
  a level (职业技能等级证书, seed 002 "在命题等级基础上,可晋升高一等级"): a 专项职业能力证书 (seed 001) has no
  level, so nobody is promoted, the 获奖名单 has no 晋升等级 column and the other lists say
  "专项职业能力证书（合格）" where a level would be (`levelled`, `offered`);
- `results` 成绩总表: everyone ranked, every criterion;
- `qualified` 合格人员名单: everyone qualified with the certificate level, for the assessment body (whole ID
  numbers: organiser only);
- `stars` 巴渝青年技能之星推荐名单: 一等奖 winners born on or after 1 January of `year` − `age` (the
  nomination year, default the publication's; 40): seed 004 writes "40周岁以下（1983年1月1日以后出生）" in its
  2023 notice, a cut-off by birth date, not an age on some day. Only a 市级行业职业技能竞赛's 一等奖 goes
  straight in, so the list exists for `city_industry` events only (`stars_offered`);
- `sheets` 评分表存档: per seat, each judge's mark per criterion and the item's aggregate (PDF).
Each is a `Sheet` (title, columns, rows) written as XLSX (every cell text) or PDF. The snapshot is read as a
`results.snapshot.PublishedSnapshot`, by attribute; its scores print as the text they were published as.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from judging.analysis import fmt
from registration.entries.exports import text_xlsx
from registration.entries.personal import PersonalData
from registration.events.service import event_or_404
from results.console.state import item_or_404, load_item_state
from results.list_pdf import table_pdf
from results.publication import anchor_line, current, seated_members
from results.snapshot import PublishedRow, decode_snapshot
from scoring.event_file import CHINA_TZ
from scoring.identity import GENDER_NAMES
from scoring.marking import aggregate
from scoring.skill_levels import LEVEL_NAMES

__all__ = ["KINDS", "SPECIAL_ABILITY_QUALIFIED", "STARS_EVENT_KINDS", "Sheet", "build", "levelled", "offered",
           "sheet_pdf", "sheet_xlsx", "stars_offered"]

KINDS = {"awards": "获奖名单", "promotions": "晋升名单", "results": "成绩总表", "qualified": "合格人员名单",
         "stars": "巴渝青年技能之星推荐名单", "sheets": "评分表存档"}
# seed 004 (四): "“巴渝工匠”杯市级行业职业技能竞赛一等奖选手，直接纳入“巴渝青年技能之星”": not district or
# enterprise contests, whose winners go through the ordinary nomination by their 区县
STARS_EVENT_KINDS = frozenset({"city_industry"})
# What the lists print for a qualified entry of a level-less item, in place of its certificate level.
SPECIAL_ABILITY_QUALIFIED = "专项职业能力证书（合格）"


def stars_offered(event_kind: str) -> bool:
    return event_kind in STARS_EVENT_KINDS


def levelled(certificate: str | None) -> bool:
    """Does an item's certificate kind have levels (and so promotion)? Unknown (old snapshots): it does."""
    return certificate != "special_ability"


def offered(kind: str, event_kind: str, certificate: str | None = None) -> bool:
    """Whether the list `kind` exists for an item of `certificate` kind in an event of `event_kind` (the
    publish page and the ZIP ask)."""
    if kind == "promotions" and not levelled(certificate):
        return False
    return kind != "stars" or stars_offered(event_kind)


@dataclass(frozen=True)
class Sheet:
    title: str
    subtitle: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    text_columns: tuple[str, ...] = ()
    anchor: str = ""  # the audit chain head at publication, printed at the foot of the PDF


def _level(level: int | None) -> str:
    return LEVEL_NAMES.get(level or 0, "")


def _theory(value: object) -> str:
    """A published row's theory (UNSET in snapshots of items that do not weigh it)."""
    return _score(value) if isinstance(value, Decimal) else ""


def _score(score: Decimal | None) -> str:
    """A published score as printed: its text ("87.50"), empty for none (a zero score still prints)."""
    return "" if score is None else str(score)


async def build(session: AsyncSession, event_id: int, item_code: str, kind: str, personal: PersonalData,
                age: int = 40, year: int | None = None) -> Sheet:
    if kind not in KINDS:
        raise Refusal(404, "unknown_list", f"没有名单“{kind}”", f"no list {kind!r}", lists=sorted(KINDS))
    item = await item_or_404(session, event_id, item_code)
    if kind == "stars":
        event_kind = (await event_or_404(session, event_id)).kind
        if not stars_offered(event_kind):
            raise Refusal(409, "stars_not_offered", "巴渝青年技能之星直接推荐仅适用于市级行业职业技能竞赛",
                           "巴渝青年技能之星 direct nomination is for city industry contests only",
                           event_kind=event_kind, offered_for=sorted(STARS_EVENT_KINDS))
    if kind == "promotions" and not levelled(item.certificate):
        raise Refusal(409, "no_promotion_list", "本赛项颁发专项职业能力证书，不分等级，没有晋升名单",
                       "this item leads to a special-ability certificate, which has no level: there is no "
                       "promotion list", certificate=item.certificate)
    published = await current(session, item.id or 0)
    if published is None or published.state != "published" or published.body is None:
        raise Refusal(409, "not_published", "该赛项成绩尚未发布（或已撤回），名单以发布的成绩为准",
                       "the item's results are not published: lists follow the published results")
    snap = decode_snapshot(published.body)
    # the snapshot's own kind when it says (published before certificate kinds: the item's)
    has_level = levelled(item.certificate if snap.certificate is None else snap.certificate)

    def cert(r: PublishedRow) -> str:
        if has_level:
            return _level(r.cert_level)
        return SPECIAL_ABILITY_QUALIFIED if r.qualified else ""
    cert_column = "证书等级" if has_level else "证书"
    anchor = anchor_line(snap)
    exam_level = item.exam_level
    subtitle = f"{snap.event} · {snap.item_name} · 第 {snap.version} 版（{snap.published_at[:10]} 发布）"
    ranked = [(g.group, r) for g in snap.groups for r in g.rows]
    title = f"{snap.item_name}{KINDS[kind]}"
    if kind == "awards":
        rows = [[str(n), snap.item_name, group, r.award, "、".join(r.names), r.unit,
                 "、".join(r.instructors), _level(r.cert_level) if r.promoted else ""][:8 if has_level else 7]
                for n, (group, r) in enumerate([x for x in ranked if x[1].award], 1)]
        award_columns: tuple[str, ...] = ("序号", "赛项", "组别", "奖项", "姓名", "单位", "指导教师", "晋升等级")
        return Sheet(title, subtitle, award_columns if has_level else award_columns[:7], rows, anchor=anchor)
    if kind == "promotions":
        rows = [[str(n), snap.item_name, group, str(r.rank), "、".join(r.names), r.unit,
                 _level(exam_level), _level(r.cert_level)]
                for n, (group, r) in enumerate([x for x in ranked if x[1].promoted], 1)]
        return Sheet(title, subtitle, ("序号", "赛项", "组别", "名次", "姓名", "单位", "鉴定等级", "证书等级"), rows,
                     anchor=anchor)
    if kind == "results":
        codes = [c.code for c in snap.criteria]
        theory = any(isinstance(r.theory, Decimal) for _g, r in ranked)  # 理论/实操/总成绩 where the item weighs theory
        columns = ("组别", "名次", "赛位", "姓名", "单位", *[f"{c.name}（{c.max}）" for c in snap.criteria],
                   *(("理论成绩",) if theory else ()), "实操成绩", "总成绩", "合格", "奖项", cert_column)
        rows = [[group, str(r.rank), r.seat, "、".join(r.names), r.unit,
                 *[_score(r.criteria.get(code)) for code in codes], *([_theory(r.theory)] if theory else []),
                 _score(r.practical), _score(r.total), "合格" if r.qualified else "不合格", r.award, cert(r)]
                for group, r in ranked]
        return Sheet(title, subtitle, columns, rows, anchor=anchor)
    members = {seat: ms for seat, (_row, ms) in (await seated_members(session, item.id or 0)).items()}
    if kind == "qualified":
        rows = []
        for group, r in ranked:
            if not r.qualified:
                continue
            for m in members.get(r.seat, []):
                rows.append([str(len(rows) + 1), m.name, GENDER_NAMES.get(m.gender, m.gender),
                             personal.decrypt(m.id_number_enc) or m.id_masked, r.unit, snap.item_name, group,
                             cert(r)])
        return Sheet(title, subtitle, ("序号", "姓名", "性别", "身份证号", "单位", "职业（工种）", "组别", cert_column),
                     rows, text_columns=("身份证号",), anchor=anchor)
    if kind == "stars":
        nominated = year or datetime.fromisoformat(snap.published_at).astimezone(CHINA_TZ).year
        cut = date(nominated - age, 1, 1)  # "以后出生" counts the day itself: born 1983-01-01 is in for 2023
        rows = []
        for group, r in ranked:
            if r.award != "一等奖":
                continue
            for m in members.get(r.seat, []):
                if m.birth_date >= cut:
                    rows.append([str(len(rows) + 1), m.name, GENDER_NAMES.get(m.gender, m.gender),
                                 m.birth_date.isoformat(), r.unit, snap.item_name, group, r.award])
        return Sheet(title, f"{subtitle} · 一等奖且 {cut.year}年1月1日以后出生（{nominated} 年度 {age} 周岁以下）",
                     ("序号", "姓名", "性别", "出生日期", "单位", "赛项", "组别", "奖项"), rows, anchor=anchor)
    # sheets: every judge's marks per seat and criterion, the aggregate, and the total
    state = await load_item_state(session, item)
    judges = {j.id or 0: j.name for _m, j in state.members}
    names = {seat: "、".join(m.name for m in ms) for seat, ms in members.items()}
    rows = []
    for s in state.seats:
        for c in state.specs:
            given = state.marks.get((s.label, c.code), ())
            marks = "；".join(f"{judges.get(int(j), j)} {fmt(Decimal(v))}" for j, v in given)
            used = state.result_marks().get((s.label, c.code), ())  # a ruled deduction: the chief judge's value
            score = aggregate(c, [v for _, v in used]).score if used or c.kind == "deduction" else None
            rows.append([s.label, names.get(s.label, ""), f"{c.code} {c.name}", marks, fmt(score) or "缺"])
    return Sheet(title, subtitle, ("赛位", "姓名", "评分项", "各裁判评分", "该项得分"), rows, anchor=anchor)


def sheet_xlsx(sheet: Sheet) -> bytes:
    return text_xlsx(sheet.columns, sheet.rows, sheet.title[:31], sheet.text_columns or sheet.columns)


def sheet_pdf(sheet: Sheet) -> bytes:
    return table_pdf(sheet.title, sheet.subtitle, sheet.columns, sheet.rows, footer=sheet.title, anchor=sheet.anchor)
