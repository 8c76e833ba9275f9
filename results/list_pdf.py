"""A list as a printable PDF: A4 landscape, the embedded CJK font, a title, a subtitle line, and a table whose
header repeats on every page; long cells wrap. Used for every list of results/lists.py."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from contestday.pdf.fonts import cjk_font

__all__ = ["table_pdf"]


def _text(value: object, style: ParagraphStyle) -> Paragraph:
    """Every value as text, never markup: a Paragraph parses its text as XML, so a name holding `<b>&` would
    otherwise break the whole list (or set it in bold)."""
    return Paragraph(escape(str(value)), style)


def table_pdf(title: str, subtitle: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
              footer: str = "", anchor: str = "") -> bytes:
    """`anchor`: the audit chain head the published snapshot recorded, printed at the foot of every page so
    the paper can check the chain later (`contestday audit verify --anchor SEQ:MAC`)."""
    font = cjk_font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12)
    head = ParagraphStyle("head", parent=cell, textColor=colors.HexColor("#333333"))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=title)
    data = [[_text(c, head) for c in columns]]
    data += [[_text(v, cell) for v in row] for row in rows]
    if len(data) == 1:
        data.append([_text("（无）", cell)] + [""] * (len(columns) - 1))
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2F4F7")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA3AF")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))

    def page(canvas: object, document: object) -> None:
        c = canvas
        c.saveState()  # type: ignore[attr-defined]
        c.setFont(font, 8)  # type: ignore[attr-defined]
        c.drawRightString(landscape(A4)[0] - 14 * mm, 8 * mm,  # type: ignore[attr-defined]
                          f"{footer}  第 {c.getPageNumber()} 页")  # type: ignore[attr-defined]
        if anchor:
            c.drawString(14 * mm, 8 * mm, anchor)  # type: ignore[attr-defined]
        c.restoreState()  # type: ignore[attr-defined]

    story = [_text(title, ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)),
             _text(subtitle, ParagraphStyle("sub", fontName=font, fontSize=10, leading=14, alignment=1,
                                            textColor=colors.HexColor("#555555"))),
             Spacer(1, 5 * mm), table]
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return out.getvalue()
