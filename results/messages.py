"""English for the results pages (Chinese is the source language)."""

from __future__ import annotations

from contestday.web.i18n import register

__all__: list[str] = []

register({
    "发布成绩": "Publish results",
    "每个赛项须全部评分完成、锁定、复核、解密，并列名次已裁定，方可发布。发布后进入公示期；撤回或再次发布须填写原因，每次都生成新版本。":
        "An item can be published once every mark is in, locked, re-checked and decrypted, and every tie on a "
        "boundary is decided. Publishing starts the notice period; withdrawing or publishing again needs a "
        "reason, and each makes a new version.",
    "已发布": "Published",
    "已撤回": "Withdrawn",
    "未发布": "Not published",
    "第 {n} 版": "version {n}",
    "公示至": "notice until",
    "尚不能发布：": "Not ready to publish:",
    "公示期（工作日）": "Notice period (working days)",
    "再次发布的原因": "Reason for publishing again",
    "发布": "Publish",
    "撤回原因": "Reason for withdrawing",
    "撤回": "Withdraw",
    "公示页面": "Public results page",
    "大屏": "Big-screen board",
    "名单": "Lists",
    "导出全部名单": "Export every list",
    "导出全部名单（ZIP）": "Export every list (ZIP)",
    "正在生成：{done} / {total}": "Building: {done} of {total}",
    "已完成：{total} 份": "Done: {total}",
    "下载": "Download",
    "荣誉证书": "Honour certificates",
    "荣誉证书版式": "Certificate design",
    "底图（JPEG/PNG，印刷设计稿）": "Design (JPEG/PNG, the printed artwork)",
    "版式 JSON（可选）": "Layout JSON (optional)",
    "套打（只打印文字和二维码）": "Overprint (fields and QR only, onto pre-printed stock)",
    "横向偏移（毫米）": "Offset x (mm)",
    "纵向偏移（毫米）": "Offset y (mm)",
    "保存并打印校准页": "Save and print the calibration page",
    "颁发": "Issue",
    "打印（PDF）": "Print (PDF)",
    "已颁发 {n} 张荣誉证书。": "{n} certificate(s) issued.",
    "打印荣誉证书": "Print the certificates",
    "未能完成：{error}": "Not finished: {error}",
    "排队等待中：其他任务完成后开始": "Waiting: it starts when the jobs before it are done",
    "该文件已过期删除（完成后保留 {hours} 小时），请返回重新生成":
        "The file was deleted ({hours} hours after it was made): go back and start again",
    "下载 ZIP": "Download the ZIP",
    "含合格人员名单的完整身份证号：请妥善保管，勿公开传播。":
        "Holds the qualified list with whole ID numbers: keep it safe, never publish it.",
    "获奖名单": "Award winners",
    "晋升名单": "Promotions",
    "成绩总表": "Full results",
    "合格人员名单": "Qualified (for the assessment body)",
    "巴渝青年技能之星推荐名单": "巴渝青年技能之星 candidates",
    "已发布第 {n} 版。": "Version {n} published.",
    "请注意（不影响发布）：": "Please note (publishing is still allowed):",
    "已撤回（第 {n} 版）。": "Withdrawn (version {n}).",
})
