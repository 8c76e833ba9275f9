"""The printer test sheet: one A4 page to print at 100 % ("实际大小") before the contest day, to check the printer's
scaling and the PDF font — a 100 mm ruler each way, a 100 × 50 mm box, corner marks 10 mm from the paper's edges,
a grey scale, sample Chinese in five sizes (common surnames and 𠮷-class characters, with the ones the font lacks
named), and the QR code of the phone's "连接成功" page.

Every length is drawn in millimetres from the page's lower-left corner; the ruler's numbers are centred on their
ticks, so a test can measure the drawn geometry from the text positions.
"""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from contestday.pdf.fonts import RARE_SAMPLE, missing_glyphs
from registration.entries.qr import draw_qr
from scoring.event_file import CHINA_TZ

__all__ = ["RARE_NAME_CHARACTERS", "RULER_MM", "SURNAMES", "printer_sheet_pdf"]

RULER_MM = 100
# the hundred most common surnames, in order of frequency
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
# characters of real names that many fonts lack: Extension B (𠮷), Extension A (䶮) and a few rarer ideographs
RARE_NAME_CHARACTERS = f"{RARE_SAMPLE}䶮堃喆犇淼鑫燚昇珺玥旻"
_SIZES = (8, 10, 12, 16, 24)
_LEFT = 20  # mm
_CORNER = 10  # corner marks this far from the paper's edges


def _corner_marks(c: Canvas) -> None:
    width, height = A4[0] / mm, A4[1] / mm
    c.setLineWidth(0.5)
    for x, dx in ((_CORNER, 1), (width - _CORNER, -1)):
        for y, dy in ((_CORNER, 1), (height - _CORNER, -1)):
            c.line(x * mm, y * mm, (x + 8 * dx) * mm, y * mm)
            c.line(x * mm, y * mm, x * mm, (y + 8 * dy) * mm)


def _centred(c: Canvas, font: str, size: float, x_mm: float, y_mm: float, text: str) -> None:
    c.setFont(font, size)
    c.drawCentredString(x_mm * mm, y_mm * mm, text)


def _ruler_across(c: Canvas, font: str, x0: float, y0: float) -> None:
    """RULER_MM long, ticks upwards from the baseline at y0: 1 mm short, 5 mm longer, 10 mm longest and numbered."""
    c.setLineWidth(0.6)
    c.line(x0 * mm, y0 * mm, (x0 + RULER_MM) * mm, y0 * mm)
    c.setLineWidth(0.3)
    for i in range(RULER_MM + 1):
        tall = 6 if i % 10 == 0 else 4 if i % 5 == 0 else 2.5
        c.line((x0 + i) * mm, y0 * mm, (x0 + i) * mm, (y0 + tall) * mm)
        if i % 10 == 0:
            _centred(c, font, 7, x0 + i, y0 + 7, str(i))
    c.setFont(font, 8)
    c.drawString((x0 + RULER_MM + 3) * mm, (y0 + 1) * mm, f"{RULER_MM} mm")


def _ruler_down(c: Canvas, font: str, x0: float, y0: float) -> None:
    """RULER_MM tall, from y0 (0 at the top) downwards, ticks to the right, numbered every 10 mm on the left."""
    c.setLineWidth(0.6)
    c.line(x0 * mm, y0 * mm, x0 * mm, (y0 - RULER_MM) * mm)
    c.setLineWidth(0.3)
    for i in range(RULER_MM + 1):
        tall = 6 if i % 10 == 0 else 4 if i % 5 == 0 else 2.5
        c.line(x0 * mm, (y0 - i) * mm, (x0 + tall) * mm, (y0 - i) * mm)
        if i % 10 == 0:
            c.setFont(font, 7)
            c.drawRightString((x0 - 1.5) * mm, (y0 - i - 1) * mm, str(i))


def _grey_scale(c: Canvas, font: str, x0: float, y0: float) -> None:
    """Eleven patches from white to black, 9 × 12 mm, each labelled with its share of black."""
    c.setLineWidth(0.3)
    for i in range(11):
        c.setFillGray(1 - i / 10)
        c.rect((x0 + 9 * i) * mm, y0 * mm, 9 * mm, 12 * mm, stroke=1, fill=1)
    c.setFillGray(0)
    for i in range(11):
        _centred(c, font, 6.5, x0 + 9 * i + 4.5, y0 - 4, f"{i * 10}%")


def _fitted(text: str, font: str, size: float, width_mm: float) -> float:
    while size > 5 and pdfmetrics.stringWidth(text, font, size) > width_mm * mm:
        size -= 0.5
    return size


def printer_sheet_pdf(font: str, address: str, qr_payload: str, font_label: str, now: datetime | None = None) -> bytes:
    """The sheet as PDF bytes; `font` is a registered reportlab font (`cjk_font()`), `qr_payload` what the QR
    code opens (the venue's "连接成功" page at `address`)."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle("打印测试页 / Printer test sheet")
    c.setAuthor("contestday")
    top = A4[1] / mm
    _corner_marks(c)
    c.setFont(font, 7)
    c.drawString((_CORNER + 2) * mm, (top - _CORNER - 4) * mm, "角标距纸边 10 mm / corner marks 10 mm from the edges")

    c.setFont(font, 18)
    c.drawString(_LEFT * mm, (top - 25) * mm, "打印测试页 / Printer test sheet")
    c.setFont(font, 10)
    for n, line in enumerate((
            "打印时选择“实际大小”或 100%，不要选“适合页面”。 Print at actual size (100 %), not “fit to page”.",
            f"用直尺量标尺：0 到 {RULER_MM} 应正好 {RULER_MM} mm（误差不超过 1 mm），方框应为 100 × 50 mm。",
            f"Measure the rulers: 0 to {RULER_MM} must be {RULER_MM} mm (within 1 mm); the box 100 × 50 mm.")):
        c.drawString(_LEFT * mm, (top - 34 - 5.5 * n) * mm, line)

    _ruler_across(c, font, _LEFT, top - 65)
    c.setLineWidth(0.5)  # the calibration box, 100 × 50 mm
    c.rect(_LEFT * mm, (top - 125) * mm, 100 * mm, 50 * mm, stroke=1, fill=0)
    _centred(c, font, 11, _LEFT + 50, top - 98, "100 mm × 50 mm")
    _centred(c, font, 8, _LEFT + 50, top - 104, "方框 / calibration box")
    _ruler_down(c, font, 140, top - 60)

    qr_mm = 40
    draw_qr(c, qr_payload, 152 * mm, (top - 62 - qr_mm) * mm, qr_mm * mm)
    _centred(c, font, 8, 172, top - 107, "手机扫码应显示“连接成功”")
    _centred(c, font, _fitted(address, font, 7, 55), 172, top - 111, address)

    _grey_scale(c, font, _LEFT, top - 150)
    c.setFont(font, 9)
    c.drawString(_LEFT * mm, (top - 134) * mm, "灰度 / grey scale：各格应能分清，0% 为白，100% 为黑")

    y = top - 170
    c.setFont(font, 10)
    c.drawString(_LEFT * mm, y * mm, "字号与字形 / sizes and glyphs：")
    sample = f"{SURNAMES[:10]} {RARE_SAMPLE} 中文测试 Aa 0123"
    for size in _SIZES:
        y -= size * 0.3528 + 3.5  # pt to mm, plus the gap
        c.setFont(font, size)
        c.drawString(_LEFT * mm, y * mm, f"{size}pt {sample if size < 24 else sample[:15]}")
    y -= 9
    c.setFont(font, 10)
    c.drawString(_LEFT * mm, y * mm, "常见姓氏 / common surnames：")
    for row in range(0, len(SURNAMES), 25):
        y -= 6
        c.setFont(font, 12)
        c.drawString(_LEFT * mm, y * mm, " ".join(SURNAMES[row:row + 25]))
    y -= 10
    c.setFont(font, 10)
    c.drawString(_LEFT * mm, y * mm, "生僻字 / rare name characters：")
    c.setFont(font, 16)
    c.drawString((_LEFT + 60) * mm, y * mm, " ".join(RARE_NAME_CHARACTERS))
    lacking = missing_glyphs(font, RARE_NAME_CHARACTERS + SURNAMES)
    y -= 8
    c.setFont(font, 10)
    # named by code point: drawn in this font the characters themselves would be blank
    c.drawString(_LEFT * mm, y * mm, "本字体缺少（打印为空白）/ missing from the font："
                 + "、".join(f"U+{ord(ch):04X}" for ch in lacking) if lacking
                 else "本字体可以打印以上全部字符 / the font prints every character above")

    now = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
    c.setFont(font, 7)
    c.drawString(_LEFT * mm, 15 * mm, f"字体 / font：{font_label}")
    c.drawRightString((A4[0] / mm - _LEFT) * mm, 15 * mm, f"contestday · {now:%Y-%m-%d %H:%M} 北京时间")
    c.showPage()
    c.save()
    return out.getvalue()
