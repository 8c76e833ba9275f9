"""English of the organiser's judging pages (Chinese is the source language) and the "done" notices."""

from __future__ import annotations

from contestday.web.i18n import register

__all__ = ["DONE"]

# ?done=… after a redirect → the notice shown on top of the page
DONE = {
    "added": "已添加裁判：可在下方登记考评员证", "saved": "已保存", "card_added": "已添加考评员证",
    "card_removed": "已删除考评员证", "revoked": "已撤销旧链接：下方为新链接，请重新发送或打印链接卡",
    "assigned": "已分配", "removed": "已移出裁判组",
}

register({
    "已添加裁判：可在下方登记考评员证": "Judge added: record the examiner cards below",
    "已添加考评员证": "Examiner card added",
    "已删除考评员证": "Examiner card removed",
    "已撤销旧链接：下方为新链接，请重新发送或打印链接卡":
        "The old link is revoked: the new one is below; send it again or print the link cards",
    "已分配": "Assigned",
    "已移出裁判组": "Removed from the panel",
    "裁判长": "Chief judge", "裁判": "Judge", "加密裁判": "Encryption judge",
    "五级/初级工": "Level 5", "四级/中级工": "Level 4", "三级/高级工": "Level 3", "二级/技师": "Level 2",
    "一级/高级技师": "Level 1",
    "请填写姓名": "Please enter the name", "姓名过长": "The name is too long",
    "手机号码应为 11 位": "A mobile number has 11 digits", "必填": "Required",
    "日期格式应如 2027-06-30": "A date like 2027-06-30",
    "请选择要导入的裁判名单文件": "Choose the judge list to import",
    "{name} · 裁判组": "{name} · panel",
    "上传 .xlsx、.xls、.et 或 .csv：每张考评员证一行（姓名、单位、手机、身份证号、考评员证职业、考评员证等级、"
    "考评员证编号、有效期至；只知发证日期时填“发证日期”，按三年计算有效期）。已登记的裁判按身份证号或姓名+手机匹配，"
    "重复导入不会重复添加。":
        "Upload .xlsx, .xls, .et or .csv with one row per examiner card (姓名, 单位, 手机, 身份证号, 考评员证职业, "
        "考评员证等级, 考评员证编号, 有效期至; with only the issue date known, fill 发证日期 and the card counts "
        "three years). "
        "Judges on record are matched by ID number or by name and phone, so importing again adds nobody twice.",
    "下载二维码 PNG": "Download QR (PNG)",
    "下载名单模板": "Download the template",
    "与本赛项选手同单位的裁判会被标出；评分时系统也会拒绝其为同单位选手评分（回避）。":
        "Judges from the unit of a contestant of this item are marked; at scoring time their marks for that "
        "contestant are refused as well (conflict of interest).",
    "与选手同单位者评分时回避": "Never marks contestants of the same unit",
    "个人评分链接": "Personal marking link",
    "全部": "All",
    "共 {n} 行": "{n} rows",
    "分配": "Assign",
    "分配裁判": "Assign a judge",
    "删除": "Delete",
    "加密保存，其他页面只显示部分号码": "Stored encrypted; other pages show it masked",
    "名单文件": "File",
    "基本信息": "Details",
    "失败 {n} 行": "{n} failed",
    "导入裁判名单": "Import judges",
    "已发出的链接和链接卡全部作废，需重新打印。":
        "Every link and link card issued so far stops working: print them again.",
    "已有裁判": "Judge on record",
    "成功 {n} 行": "{n} imported",
    "手机": "Mobile",
    "打印裁判链接卡（A4 PDF）": "Print link cards (A4 PDF)",
    "提醒": "Warnings",
    "撤销并重新生成链接": "Revoke and issue a new link",
    "新增裁判": "Judge added",
    "无法导入：": "Cannot import:",
    "有效期至": "Valid until",
    "未分配": "Not on a panel",
    "未分配到任何赛项的裁判组。": "Not on any item's panel.",
    "未登记考评员证": "No examiner card",
    "未识别的列（已忽略）": "Columns not recognised (ignored)",
    "比赛日": "Contest day",
    "比赛日已过期": "Expired on the contest day",
    "比赛日有效": "Valid on the contest day",
    "添加": "Add",
    "添加考评员证": "Add examiner card",
    "添加裁判": "Add a judge",
    "确认撤销": "Revoke",
    "移出": "Remove",
    "等级": "Level",
    "结果": "Result",
    "考评员证": "Examiner cards",
    "考评员证有效期三年（渝职鉴发〔2025〕8号）；以比赛日判断是否过期。红色为比赛日已过期的证。":
        "Examiner cards are valid three years (渝职鉴发〔2025〕8号), checked against the contest day: red cards "
        "have expired by then.",
    "职业（工种）": "Occupation",
    "至": "until",
    "行号": "Row",
    "裁判名册": "Judges",
    "裁判在平板或手机上打开此链接（或扫码）即登录评分页面。链接等同密码，请勿外传；遗失时撤销，旧链接立即失效。":
        "The judge opens this link (or scans it) on a tablet or phone to sign in to the marking page. It is as "
        "good as a password: keep it private; if it is lost, revoke it and the old link stops working at once.",
    "裁判管理": "Judging",
    "裁判组": "Panel",
    "裁判组还没有成员。": "Nobody on the panel yet.",
    "角色": "Role",
    "证书编号": "Number",
    "证卡有效期三年：只知发证日期时，有效期至 = 发证日期 + 3 年。":
        "A card is valid three years: with only the issue date known, valid until = issue date + 3 years.",
    "评分项（裁判；不选即全部）": "Criteria (judges; none ticked: all)",
    "说明": "Details",
    "身份证号（选填）": "ID number (optional)",
    "还没有裁判。可逐个添加，或导入裁判名单。": "No judges yet. Add them one by one, or import a list.",
    "还没有裁判：先在裁判名册中添加。": "No judges yet: add them to the registry first.",
    "链接与二维码": "Link and QR",
    "以下姓名含打印字体没有的字，链接卡上会空白，请手写补上：":
        "These names hold characters the print font lacks: they come out blank on the link cards; write them in:",
    "操作": "Actions",
    "单位": "Unit",
    "姓名": "Name",
    "身份证号": "ID number",
    "编辑": "Edit",
    "保存": "Save",
    "导入": "Import",
})
