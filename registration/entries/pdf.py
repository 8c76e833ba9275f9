"""Printed registration documents: the event's A4 poster with the form's QR code, and the contestant's A6
ticket. Drawn on a reportlab canvas with the embedded CJK font and our own wrapping (pdf_fonts), so long
item lists flow onto further pages and Chinese punctuation never starts a line."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from contestday.pdf.fonts import cjk_font, missing_glyphs, wrap_text
from registration.entries.qr import draw_qr

__all__ = ["PosterItem", "poster_pdf", "ticket_pdf"]

INSTRUCTIONS = (
    "用手机微信或浏览器扫描上方二维码，打开报名表。",
    "选择赛项和组别，如实填写姓名、身份证号码、手机号码和工作单位（学校），上传本人近期正面免冠照片。",
    "每人只能报名一个赛项，不得以多重身份报名；提交前请勾选确认。",
    "提交成功后保存参赛凭证（二维码），比赛当天凭凭证和身份证检录。",
    "如需修改或撤回，在报名页点击“我的报名”，用身份证号码和手机号码查询。",
)


@dataclass(frozen=True)
class PosterItem:
    code: str
    name: str
    groups: tuple[str, ...]
    team_size: int


class _Writer:
    """A cursor down the page that starts a new page when the next block does not fit."""

    def __init__(self, canvas: Canvas, font: str, page: tuple[float, float], margin: float, footer: str):
        self.c, self.font, self.page, self.margin, self.footer = canvas, font, page, margin, footer
        self.width = page[0] - 2 * margin
        self.y = page[1] - margin
        self.number = 1

    def new_page(self) -> None:
        self._footer()
        self.c.showPage()
        self.number += 1
        self.y = self.page[1] - self.margin

    def _footer(self) -> None:
        self.c.setFont(self.font, 8)
        self.c.setFillGray(0.4)
        self.c.drawCentredString(self.page[0] / 2, self.margin / 2, f"{self.footer}　第 {self.number} 页")
        self.c.setFillGray(0)

    def finish(self) -> None:
        self._footer()
        self.c.showPage()

    def ensure(self, height: float) -> None:
        if self.y - height < self.margin:
            self.new_page()

    def text(self, text: str, size: float, *, indent: float = 0, centred: bool = False, gap: float = 0.4,
             keep: float = 0) -> None:
        """Wrapped lines; `keep` asks for that much room after the first line (a heading with its first row)."""
        lines = wrap_text(text, self.font, size, self.width - indent)
        leading = size * 1.45
        self.ensure(leading * min(len(lines), 2) + keep)
        self.c.setFont(self.font, size)
        for line in lines:
            self.ensure(leading)
            self.c.setFont(self.font, size)
            self.y -= size * 1.15
            if centred:
                self.c.drawCentredString(self.page[0] / 2, self.y, line)
            else:
                self.c.drawString(self.margin + indent, self.y, line)
            self.y -= leading - size * 1.15
        self.y -= size * gap

    def columns(self, left: str, right: str, size: float, split: float, *, indent: float = 0,
                hang: str = "") -> None:
        """A row of two wrapped columns (an item and its groups), kept together on one page; `hang` (the
        number) leads the first line and the left column's further lines align after it."""
        hang_width = pdfmetrics.stringWidth(hang, self.font, size)
        left_lines = wrap_text(left, self.font, size, self.width * split - indent - hang_width - 8)
        right_lines = wrap_text(right, self.font, size, self.width * (1 - split))
        leading = size * 1.4
        rows = max(len(left_lines), len(right_lines))
        self.ensure(rows * leading + 2)
        self.c.setFont(self.font, size)
        for row in range(rows):
            baseline = self.y - size * 1.15 - row * leading
            if row == 0 and hang:
                self.c.drawString(self.margin + indent, baseline, hang)
            if row < len(left_lines):
                self.c.drawString(self.margin + indent + hang_width, baseline, left_lines[row])
            if row < len(right_lines):
                self.c.drawString(self.margin + self.width * split, baseline, right_lines[row])
        self.y -= rows * leading + size * 0.25


def _fit_size(text: str, font: str, size: float, width: float, smallest: float = 6) -> float:
    """The largest size up to `size` at which `text` fits on one line (URLs and codes are never wrapped)."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def poster_pdf(event_name: str, url: str, items: Sequence[PosterItem], *, deadline: str | None = None,
               organiser: str | None = None) -> bytes:
    font = cjk_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)  # no stray unembedded Helvetica
    c.setTitle(f"{event_name} 报名二维码")
    w = _Writer(c, font, A4, 18 * mm, event_name)
    w.text(event_name, 24, centred=True, gap=0.5)
    if organiser:
        w.text(f"主办单位：{organiser}", 12, centred=True, gap=0.2)
    w.text("扫码报名", 18, centred=True, gap=0.3)
    size = 80 * mm
    w.ensure(size + 20)
    draw_qr(c, url, (A4[0] - size) / 2, w.y - size, size)
    w.y -= size + 4
    c.setFont(font, _fit_size(url, font, 10, w.width))
    c.drawCentredString(A4[0] / 2, w.y - 10, url)
    w.y -= 24
    if deadline:
        w.text(f"报名截止：{deadline}", 13, centred=True, gap=0.8)
    w.text("报名须知", 15, gap=0.3, keep=20)
    for number, line in enumerate(INSTRUCTIONS, 1):
        w.text(f"{number}. {line}", 11, indent=6, gap=0.15)
    w.y -= 8
    w.text(f"竞赛项目（共 {len(items)} 项）", 15, gap=0.3, keep=20)
    for number, item in enumerate(items, 1):
        details = "、".join(item.groups) if item.groups else "不分组"
        if item.team_size > 1:
            details += f"；{item.team_size} 人一队"
        w.columns(f"{item.name}（{item.code}）", details, 11, 0.66, indent=6, hang=f"{number}. ")
    w.finish()
    c.save()
    return out.getvalue()


def ticket_pdf(*, code: str, code_display: str, url: str, event_name: str, rows: Sequence[tuple[str, str]],
               state_label: str) -> bytes:
    """An A6 ticket: the QR of the ticket page, the code for typing, and the entry's details (masked)."""
    font = cjk_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A6, pageCompression=1, initialFontName=font)
    c.setTitle(f"参赛凭证 {code_display}")
    w = _Writer(c, font, A6, 8 * mm, "参赛凭证")
    w.text(event_name, 12, centred=True, gap=0.2)
    w.text("参赛报名凭证", 15, centred=True, gap=0.3)
    size = 46 * mm
    draw_qr(c, url, (A6[0] - size) / 2, w.y - size, size)
    w.y -= size + 2
    c.setFont(font, _fit_size(code_display, font, 11, w.width))
    c.drawCentredString(A6[0] / 2, w.y - 11, code_display)
    w.y -= 20
    w.text(f"状态：{state_label}", 10, centred=True, gap=0.4)
    for label, value in rows:
        shown = value
        lost = missing_glyphs(font, value)
        if lost:  # the font lacks a rare character: say so instead of printing a silent blank
            shown = "".join("□" if ch in lost else ch for ch in value) + "（□为生僻字，以证件为准）"
        w.text(f"{label}：{shown}", 9.5, gap=0.1)
    w.finish()
    c.save()
    return out.getvalue()
