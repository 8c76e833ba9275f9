"""What the organiser's registration pages need besides queries: the labels they show, the edit form's
values to and from a registration request (pure), and their English messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contestday.web.errors import Refusal
from contestday.web.i18n import register
from registration.entries.request import RequestError

__all__ = ["DONE", "FLAGS", "REVIEWS", "SOURCES", "STATES", "edit_values", "error_field", "form_payload"]

STATES = {"active": "有效", "withdrawn": "已撤回", "rejected": "已驳回"}
REVIEWS = {"none": "无需审核", "pending": "待审核", "approved": "审核通过", "rejected": "审核驳回"}
FLAGS = {"possible_duplicate": "疑似重复报名", "instructor_conflict": "指导教师冲突", "unit_quota_warning": "单位超额",
         "employee_qualification": "职工资格待核实", "retirement_base_unknown": "退休年龄基准待核实",
         "retires_on_contest_day": "比赛当天达到退休年龄", "photo_required": "未上传照片",
         "residence_not_declared": "未声明在渝", "major_required": "未填写专业"}
SOURCES = {"form": "扫码报名", "api": "扫码报名", "roster": "名单导入", "organiser": "组委会录入"}
DONE = {"closed": "已截止报名", "reopened": "已重新开放报名", "approve": "已通过审核", "reject": "已驳回该报名",
        "saved": "已保存修改", "withdrawn": "已撤回该报名"}
_MEMBER_KEYS = ("identity", "name", "id_number", "phone", "education", "skill_level", "certificate_number",
                "years_in_occupation", "female_base", "major", "residence_declared")
# a refusal without a `field` still belongs next to one input of the form
_FIELD_OF_CODE = {"unknown_item": "item", "team_size_mismatch": "item", "unknown_group": "group",
                  "unit_quota_exceeded": "unit", "duplicate_entry": "id_number", "already_registered": "id_number"}


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def edit_values(view: Any) -> dict[str, str]:
    """The edit form pre-filled from an entry. The ID number field starts empty (it keeps the stored
    number): the whole number is shown on the detail page only."""
    entry, members = view.entry, view.members
    values = {"item": view.item.code, "group": entry.group_name, "unit": entry.unit}
    for i, m in enumerate(members):
        p = "" if len(members) == 1 else f"members[{i}]."
        values.update({p + "identity": m.identity, p + "name": m.name, p + "id_number": "", p + "phone": m.phone,
                       p + "education": _s(m.education), p + "skill_level": _s(m.skill_level),
                       p + "certificate_number": _s(m.certificate_number),
                       p + "years_in_occupation": _s(m.years_in_occupation), p + "female_base": _s(m.female_base),
                       p + "major": _s(m.major), p + "residence_declared": "1" if m.residence_declared else ""})
    instructors = members[0].instructors if members else []
    for i, ins in enumerate(instructors):
        values[f"instructors[{i}].name"], values[f"instructors[{i}].phone"] = ins.get("name", ""), ins.get("phone", "")
    values["instructor_rows"] = str(max(2, len(instructors)))
    return values


def form_payload(values: Mapping[str, str], stored_numbers: Sequence[str],
                 stored_photos: Sequence[bool] = ()) -> dict[str, Any]:
    """The request body of a posted edit form; an empty ID number field keeps the stored number, and the
    same person keeps their stored photo (the service carries it over)."""
    def member(prefix: str, i: int) -> dict[str, str]:
        m = {k: values.get(prefix + k, "").strip() for k in _MEMBER_KEYS}
        m["id_number"] = m["id_number"] or stored_numbers[i]
        if i < len(stored_photos) and stored_photos[i] and m["id_number"].upper() == stored_numbers[i].upper():
            m["photo"] = "kept"
        return m

    rows = int(values.get("instructor_rows", "2")) if values.get("instructor_rows", "2").isdigit() else 2
    payload: dict[str, Any] = {
        "item": values.get("item", ""), "group": values.get("group", ""), "unit": values.get("unit", ""),
        "instructors": [{"name": values.get(f"instructors[{i}].name", "").strip(),
                         "phone": values.get(f"instructors[{i}].phone", "").strip()} for i in range(min(rows, 5))],
    }
    if len(stored_numbers) > 1:
        payload["members"] = [member(f"members[{i}].", i) for i in range(len(stored_numbers))]
    else:
        payload.update(member("", 0))
    return payload


def error_field(exc: RequestError | Refusal) -> str:
    """The form input a refusal belongs to ('' for the top of the form)."""
    if isinstance(exc, RequestError):
        return exc.field
    return str(exc.extra_fields.get("field") or _FIELD_OF_CODE.get(exc.code, ""))


register({
    # registration admin pages (registration/templates/registrations)
    "报名管理": "Registration",
    "报名概览": "Overview",
    "报名名单": "Entries",
    "审核": "Review",
    "导入名单": "Import roster",
    "已完成": "Done",
    "报名状态": "Registration",
    "报名中": "open",
    "已截止": "closed",
    "未设置": "not set",
    "已手动截止于": "closed by hand at",
    "截止时间已过；如需延长，请在赛事设置中修改截止时间。":
        "The deadline has passed; to extend it, change the deadline in the event settings.",
    "原因（记入日志）": "Reason (logged)",
    "如：名额已满，组委会决定提前截止": "e.g. places filled, closing early",
    "如：延长补报一天": "e.g. one more day for late entries",
    "立即截止报名": "Close registration now",
    "重新开放报名": "Reopen registration",
    "各赛项组别报名人数": "Entries per item and group",
    "导出参赛选手报名表": "Export entry forms",
    "导出参赛信息汇总表": "Export summary list",
    "导出照片": "Export photos",
    "有效报名": "Active",
    "待审核": "Pending review",
    "已撤回": "Withdrawn",
    "已驳回": "Rejected",
    "单位数": "Units",
    "提醒": "Flags",
    "导出": "Export",
    "（不分组）": "(no groups)",
    "每个组别初始参赛选手原则上不少于 50 人（队）": "In principle at least 50 initial contestants (teams) per group",
    "不足 {n} 人（队）": "below {n}",
    "报名表": "Forms",
    "汇总表": "Summary",
    "本赛事还没有赛项。": "This event has no items.",
    "按通知要求，每个组别初始参赛选手原则上不少于 50 人（队）、决赛不少于 30 人（队）：人数不足只作提醒，不影响报名。":
        "The notices ask for at least 50 initial and 30 final contestants (teams) per group in principle: "
        "fewer is a warning only and does not stop registration.",
    "姓名": "Name",
    "按姓名搜索": "Search by name",
    "全部": "All",
    "单位": "Unit",
    "单位名称包含": "Unit name contains",
    "状态": "State",
    "筛选": "Filter",
    "清除": "Clear",
    "共 {n} 条": "{n} in all",
    "第 {p} 页": "page {p}",
    "报名编号": "Ticket",
    "赛项 / 组别": "Item / group",
    "身份证号": "ID number",
    "没有符合条件的报名。": "No entries match.",
    "上一页": "Previous",
    "下一页": "Next",
    "本报名": "This entry",
    "已有报名": "Existing entry",
    "出生日期": "Born",
    "手机": "Phone",
    "报名审核": "Review queue",
    "以下报名已受理但有需要核实的提醒。通过后保持有效；驳回须填写理由，并释放该选手的报名名额。":
        "These entries were accepted with flags to check. Approving keeps them; rejecting needs a reason and "
        "frees the contestant's place.",
    "对照已有报名": "Compared with existing entries",
    "审核意见（驳回时必填）": "Reviewer's note (required to reject)",
    "审核意见": "Reviewer's note",
    "通过": "Approve",
    "驳回": "Reject",
    "没有待审核的报名。": "Nothing waits for review.",
    "修改": "Edit",
    "撤回报名": "Withdraw",
    "报名来源": "Source",
    "学生": "Student",
    "职工": "Employee",
    "院校教师": "College teacher",
    "灵活就业人员": "Flexible worker",
    "灵活就业": "Flexible worker (no unit)",
    "男": "Male",
    "女": "Female",
    "学历": "Education",
    "技能等级": "Skill level",
    "证书编号": "Certificate no.",
    "从业年限": "Years in the occupation",
    "女职工退休基准": "Retirement base (women)",
    "指导教师": "Instructors",
    "确定撤回以下报名吗？撤回后该选手的报名名额和单位名额将被释放，可以重新报名。":
        "Withdraw this entry? The contestant's and the unit's places are freed; the person may enter again.",
    "确认撤回": "Withdraw",
    "该选手已检录并抽签（{seat}）：撤回后该座位释放，可由其他选手抽取。":
        "Checked in with a seat drawn ({seat}): withdrawing frees the seat for another contestant.",
    "取消": "Cancel",
    "该报名已撤回或已驳回。": "This entry is withdrawn or rejected.",
    "修改报名": "Edit entry",
    "未保存：": "Not saved: ",
    "未保存，请修改标出的项目。": "Not saved: correct the marked fields.",
    "赛项与单位": "Item and unit",
    "选手": "Contestant",
    "身份": "Identity",
    "留空则保持原号码": "leave empty to keep it",
    "指导教师姓名": "Instructor",
    "指导教师手机": "Instructor's phone",
    "保存修改": "Save changes",
    "导入报名名单": "Import a roster",
    "上传各单位报送的名单（.xlsx、.xls、WPS 的 .et 或 .csv）。每一行按与扫码报名相同的规则检查并报名；"
    "有错误的行不影响其他行。":
        "Upload a unit's roster (.xlsx, .xls, WPS .et or .csv). Every row is checked and registered by the same "
        "rules as the QR form; a row with errors does not stop the others.",
    "下载名单模板": "Download the template",
    "无法导入：": "Cannot import:",
    "名单文件": "Roster file",
    "只检查不导入": "Check only, import nothing",
    "检查结果（未导入）": "Check result (nothing imported)",
    "导入结果": "Import result",
    "下载结果表": "Download the report",
    "共 {n} 行": "{n} rows",
    "成功 {n} 行": "{n} registered",
    "可导入 {n} 行": "{n} would register",
    "失败 {n} 行": "{n} refused",
    "用时 {s} 秒": "{s} s",
    "未识别的列（已忽略）": "Columns not recognised (ignored)",
    "行号": "Row",
    "结果": "Result",
    "说明": "Details",
    "请选择要导入的名单文件": "Choose a roster file to import",
    "有效": "active",
    "无需审核": "no review",
    "审核通过": "approved",
    "审核驳回": "rejected",
    "疑似重复报名": "possible duplicate",
    "指导教师冲突": "instructor conflict",
    "单位超额": "unit over quota",
    "职工资格待核实": "employee qualification to check",
    "退休年龄基准待核实": "retirement base to check",
    "比赛当天达到退休年龄": "retires on the contest day",
    "未上传照片": "no photo",
    "未声明在渝": "residence not declared",
    "未填写专业": "no major given",
    "照片": "Photo",
    "在渝声明": "Residence",
    "已勾选": "ticked",
    "未勾选": "not ticked",
    "本人声明": "Declaration",
    "专业": "Major",
    "未填写": "not given",
    "扫码报名": "QR form",
    "名单导入": "roster import",
    "组委会录入": "entered by the organiser",
    "已截止报名": "Registration closed",
    "已重新开放报名": "Registration reopened",
    "已通过审核": "Approved",
    "已驳回该报名": "Entry rejected",
    "已保存修改": "Changes saved",
    "已撤回该报名": "Entry withdrawn",
})
