"""The printed link cards of an event's judges: A4 sheets of eight cut-out cards, each with the judge's
name, unit, panel seats, the personal link as a QR code and as text. Handed out on the contest day, so a
judge opens the marking page by scanning; a lost card is revoked (the link's version is bumped) and
printed again.

URLs are drawn on one line, shrunk to fit, never wrapped (a wrapped token is unusable); names the CJK font
cannot draw (reportlab has no fallback) are reported so the organiser can write them by hand.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from contestday.pdf.fonts import cjk_font, missing_glyphs, wrap_text
from registration.entries.qr import draw_qr

__all__ = ["LinkCard", "link_cards_pdf", "unprintable_names"]

COLUMNS, ROWS = 2, 4
MARGIN = 12 * mm
QR_SIZE = 38 * mm


@dataclass(frozen=True)
class LinkCard:
    name: str
    unit: str
    seats: tuple[str, ...]  # one line each, e.g. "LED显示屏应用 · 裁判 A、B"
    url: str


def unprintable_names(cards: Sequence[LinkCard], font: str | None = None) -> list[str]:
    """Names with characters the font lacks (they would print blank), e.g. 𠮷."""
    font = font or cjk_font()
    return [c.name for c in cards if missing_glyphs(font, c.name)]


def _fit(text: str, font: str, size: float, width: float, smallest: float = 5) -> float:
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _card(c: Canvas, font: str, card: LinkCard, event_name: str, x: float, y: float, w: float, h: float) -> None:
    pad = 5 * mm
    c.setDash(3, 3)
    c.setStrokeGray(0.6)
    c.rect(x, y, w, h, stroke=1, fill=0)  # cut line
    c.setDash()
    top = y + h - pad
    c.setFillGray(0.35)
    text_w = w - 2 * pad - QR_SIZE - 3 * mm
    c.setFont(font, _fit(event_name, font, 7.5, text_w))
    c.drawString(x + pad, top - 7, event_name)
    c.setFillGray(0)
    size = _fit(card.name, font, 18, text_w, 10)
    c.setFont(font, size)
    c.drawString(x + pad, top - 9 - size * 1.1, card.name)
    line_y = top - 14 - size * 1.1
    for text, pt in ((card.unit, 9), *((seat, 8.5) for seat in card.seats[:4])):
        for line in wrap_text(text, font, pt, text_w)[:2]:
            line_y -= pt * 1.4
            c.setFont(font, pt)
            c.drawString(x + pad, line_y, line)
    draw_qr(c, card.url, x + w - pad - QR_SIZE, top - 4 - QR_SIZE, QR_SIZE)
    c.setFont(font, 7.5)
    c.setFillGray(0.35)
    notes = ("个人评分链接：扫码或在平板上打开，等同密码，请勿转发。", "遗失请告知裁判长撤销，旧链接随即失效。")
    for i, note in enumerate(notes):
        c.drawString(x + pad, y + pad + 9 + (1 - i) * 10, note)
    c.setFillGray(0)
    url_size = _fit(card.url, font, 8, w - 2 * pad)  # the embedded font: no unembedded Courier in the file
    c.setFont(font, url_size)
    c.drawString(x + pad, y + pad - 1, card.url)


def link_cards_pdf(event_name: str, cards: Sequence[LinkCard]) -> bytes:
    font = cjk_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)
    c.setTitle(f"{event_name} 裁判个人链接卡")
    width, height = A4
    w = (width - 2 * MARGIN) / COLUMNS
    h = (height - 2 * MARGIN - 8 * mm) / ROWS
    per_page = COLUMNS * ROWS
    pages = max(1, -(-len(cards) // per_page))
    for page in range(pages):
        c.setFont(font, 9)
        c.setFillGray(0.4)
        c.drawString(MARGIN, height - MARGIN + 1 * mm, f"{event_name}　裁判个人链接卡（沿虚线裁开）")
        c.drawRightString(width - MARGIN, MARGIN - 6 * mm, f"第 {page + 1} / {pages} 页")
        c.setFillGray(0)
        for slot, card in enumerate(cards[page * per_page:(page + 1) * per_page]):
            col, row = slot % COLUMNS, slot // COLUMNS
            _card(c, font, card, event_name, MARGIN + col * w, height - MARGIN - 4 * mm - (row + 1) * h, w, h)
        c.showPage()
    c.save()
    return out.getvalue()
