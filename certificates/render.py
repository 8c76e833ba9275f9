"""Honour certificates (荣誉证书) as PDF: the pure core, from certificate data to PDF bytes (no web, no
database).

- A4 landscape; every field (name, unit, the award sentence, issuing body, date, serial, QR) is placed by a
  `Template`: positions and sizes are data, a background image (the organisers' printed design) is optional,
  and `overprint` (套打) prints only the fields, for stock that is already printed. `offset_x_mm` /
  `offset_y_mm` shift every field to calibrate a printer; `calibration_page` prints crosshairs where each
  field goes.
- Fonts are embedded TrueType subsets (contestday.pdf.fonts: the configured font, else WenQuanYi Zen Hei or
  AR PL UMing, else a clear error saying what to install). `coverage` lists the names with characters the
  font lacks; with a fallback font (e.g. HanaMinB for 𠮷) those fields are drawn in it instead.
- The QR code encodes the certificate's verify URL and is drawn as vector rectangles (a few hundred bytes,
  sharp at any printer resolution). The background image is embedded once for the whole document.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import qrcode
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from contestday.pdf.fonts import cjk_font, missing_glyphs

__all__ = ["DEFAULT_TEMPLATE", "Certificate", "Field", "LayoutError", "Template", "calibration_page", "coverage",
           "layout_errors", "render", "template_from_document"]

PAGE_W, PAGE_H = landscape(A4)
log = logging.getLogger("contestday.certificates")


@dataclass(frozen=True)
class Certificate:
    serial: str
    name: str
    unit: str
    event: str
    item: str
    group: str
    award: str
    issuer: str
    issued_on: date
    verify_url: str
    score: str = ""  # an item that weighs theory: "总成绩 … （理论 … · 实操 …）"

    @property
    def sentence(self) -> str:
        group = f"（{self.group}）" if self.group else ""
        return f"在《{self.event}》《{self.item}》{group}中荣获"


@dataclass(frozen=True)
class Field:
    """Where a field goes: the anchor point (mm from the page's left and bottom edges), the font size (pt),
    the alignment at the anchor, and the widest it may be (mm; text is shrunk to fit)."""

    x_mm: float
    y_mm: float
    size: float
    align: str = "center"  # center | left | right
    max_width_mm: float = 240
    color: str = "#1a1a1a"


@dataclass(frozen=True)
class Template:
    fields: dict[str, Field]
    qr_x_mm: float = 24
    qr_y_mm: float = 22
    qr_size_mm: float = 24
    background: bytes | None = None  # PNG/JPEG of the whole page (the printed design)
    overprint: bool = False  # 套打: only the variable fields, onto pre-printed stock
    offset_x_mm: float = 0
    offset_y_mm: float = 0
    fixed: dict[str, str] = field(default_factory=lambda: {"title": "荣誉证书"})  # printed unless overprint

    def calibrated(self, dx_mm: float, dy_mm: float) -> Template:
        return replace(self, offset_x_mm=dx_mm, offset_y_mm=dy_mm)

    def with_background(self, image: bytes) -> Template:
        return replace(self, background=image)

    def as_overprint(self) -> Template:
        return replace(self, overprint=True)


DEFAULT_TEMPLATE = Template(fields={
    "title": Field(148.5, 162, 40, color="#b3261e"),
    "name": Field(148.5, 128, 30),
    "unit": Field(148.5, 114, 14, color="#444444"),
    "sentence": Field(148.5, 96, 16),
    "award": Field(148.5, 76, 30, color="#b3261e"),
    "score": Field(148.5, 63, 13, color="#444444"),
    "issuer": Field(255, 44, 14, align="right", max_width_mm=150),
    "date": Field(255, 34, 13, align="right"),
    "serial": Field(24, 15, 9, align="left", max_width_mm=80, color="#555555"),
})


class LayoutError(ValueError):
    """A layout document with bad values: `errors` lists each as {field, message (Chinese), message_en}."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message_en']}" for e in errors))
        self.errors = errors


PAGE_W_MM, PAGE_H_MM = 297.0, 210.0
# (low, high) of every number a layout may hold; a value outside breaks the page, not just itself
_RANGES = {"x_mm": (0.0, PAGE_W_MM), "y_mm": (0.0, PAGE_H_MM), "size": (4.0, 120.0),
           "max_width_mm": (5.0, PAGE_W_MM)}
_QR_RANGES = {"x_mm": (0.0, PAGE_W_MM), "y_mm": (0.0, PAGE_H_MM), "size_mm": (8.0, 100.0)}
_OFFSET = 30.0  # mm either way: a printer is off by a few millimetres, not a page
_FIELD_KEYS = {"x_mm", "y_mm", "size", "align", "max_width_mm", "color"}
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_ALIGNS = ("center", "left", "right")
_FIELD_NAMES = {"name", "unit", "sentence", "award", "score", "issuer", "date", "serial"}
_MAX_FIXED = 12


def _number(value: Any, path: str, low: float, high: float, errors: list[dict[str, str]]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors.append({"field": path, "message": "应为数字", "message_en": "must be a number"})
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append({"field": path, "message": f"“{value}”不是数字", "message_en": f"{value!r} is not a number"})
        return None
    if not math.isfinite(number) or not low <= number <= high:
        errors.append({"field": path, "message": f"应在 {low:g} 到 {high:g} 之间", "message_en":
                       f"must be between {low:g} and {high:g}"})
        return None
    return number


def _field(name: str, spec: Any, base: Field | None, errors: list[dict[str, str]]) -> Field | None:
    """The field, or None when it has an error (each error appended); `base` gives values not stated."""
    before = len(errors)
    if not isinstance(spec, dict):
        errors.append({"field": f"fields.{name}", "message": "应为对象（含 x_mm、y_mm、size 等）",
                       "message_en": "must be an object (x_mm, y_mm, size, …)"})
        return None
    values: dict[str, Any] = {}
    for key, (low, high) in _RANGES.items():
        if key in spec:
            values[key] = _number(spec[key], f"fields.{name}.{key}", low, high, errors)
        elif base is None and key != "max_width_mm":
            errors.append({"field": f"fields.{name}.{key}", "message": "必填", "message_en": "is required"})
    align = spec.get("align", base.align if base else "center")
    if align not in _ALIGNS:
        errors.append({"field": f"fields.{name}.align", "message": "只能是 center、left 或 right",
                       "message_en": "must be center, left or right"})
    color = spec.get("color", base.color if base else "#1a1a1a")
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        errors.append({"field": f"fields.{name}.color", "message": "颜色应写成 #rrggbb（如 #b3261e）",
                       "message_en": "a colour is #rrggbb (like #b3261e)"})
    for key in sorted(set(spec) - _FIELD_KEYS):
        zh = ("字体由服务器配置（CONTESTDAY_FONT_PATH），版式中不能指定" if key == "font" else "不支持的设置")
        errors.append({"field": f"fields.{name}.{key}", "message": zh, "message_en": "not a layout setting"})
    if len(errors) > before:
        return None
    default = base or Field(0, 0, 12)
    return Field(values.get("x_mm", default.x_mm), values.get("y_mm", default.y_mm),
                 values.get("size", default.size), str(align), values.get("max_width_mm", default.max_width_mm),
                 str(color))


def _parse_layout(doc: Any) -> tuple[Template, list[dict[str, str]]]:
    """The template from a layout document and the errors found; a bad value keeps the default's."""
    errors: list[dict[str, str]] = []
    if not isinstance(doc, dict):
        return DEFAULT_TEMPLATE, [{"field": "", "message": "版式应为 JSON 对象", "message_en": "must be an object"}]
    fixed = doc.get("fixed", DEFAULT_TEMPLATE.fixed)
    if not (isinstance(fixed, dict) and len(fixed) <= _MAX_FIXED
            and all(isinstance(k, str) and isinstance(v, str) and len(v) <= 100 for k, v in fixed.items())):
        errors.append({"field": "fixed", "message": f"应为最多 {_MAX_FIXED} 项“名称: 文字”（每项不超过 100 字）",
                       "message_en": f"must map at most {_MAX_FIXED} names to texts of at most 100 characters"})
        fixed = DEFAULT_TEMPLATE.fixed
    fields = dict(DEFAULT_TEMPLATE.fields)
    given = doc.get("fields") or {}
    if not isinstance(given, dict):
        errors.append({"field": "fields", "message": "应为对象", "message_en": "must be an object"})
        given = {}
    known = _FIELD_NAMES | set(DEFAULT_TEMPLATE.fields) | set(fixed)
    for name, spec in given.items():
        if name not in known:
            errors.append({"field": f"fields.{name}", "message": f"没有名为“{name}”的字段（可用："
                           f"{'、'.join(sorted(known))}）", "message_en": f"no field {name!r}"})
            continue
        made = _field(str(name), spec, None, errors)
        if made is not None:
            fields[name] = made
    qr = doc.get("qr") or {}
    if not isinstance(qr, dict):
        errors.append({"field": "qr", "message": "应为对象", "message_en": "must be an object"})
        qr = {}
    box: dict[str, float] = {}
    for key, (low, high) in _QR_RANGES.items():
        if key in qr:
            value = _number(qr[key], f"qr.{key}", low, high, errors)
            if value is not None:
                box[key] = value
    qr_x = box.get("x_mm", DEFAULT_TEMPLATE.qr_x_mm)
    qr_y = box.get("y_mm", DEFAULT_TEMPLATE.qr_y_mm)
    qr_size = box.get("size_mm", DEFAULT_TEMPLATE.qr_size_mm)
    if qr_x + qr_size > PAGE_W_MM or qr_y + qr_size > PAGE_H_MM:
        errors.append({"field": "qr", "message": "二维码超出了页面", "message_en": "the QR code runs off the page"})
        qr_x, qr_y, qr_size = DEFAULT_TEMPLATE.qr_x_mm, DEFAULT_TEMPLATE.qr_y_mm, DEFAULT_TEMPLATE.qr_size_mm
    offsets = [_number(doc.get(k, 0), k, -_OFFSET, _OFFSET, errors) for k in ("offset_x_mm", "offset_y_mm")]
    overprint = doc.get("overprint", False)
    if not isinstance(overprint, bool):
        errors.append({"field": "overprint", "message": "应为 true 或 false", "message_en": "must be true or false"})
        overprint = False
    return Template(fields=fields, qr_x_mm=qr_x, qr_y_mm=qr_y, qr_size_mm=qr_size,
                    offset_x_mm=offsets[0] or 0.0, offset_y_mm=offsets[1] or 0.0,
                    overprint=overprint, fixed=dict(fixed)), errors


def layout_errors(doc: Any) -> list[dict[str, str]]:
    """Every bad value of a layout document, as {field, message, message_en}; [] when it is good."""
    return _parse_layout(doc)[1]


def template_from_document(doc: Any, *, strict: bool = True) -> Template:
    """A template from its JSON form: `{"fields": {"name": {"x_mm", "y_mm", "size", "align"?, "max_width_mm"?,
    "color"?}, …}, "qr": {"x_mm", "y_mm", "size_mm"}, "offset_x_mm"?, "offset_y_mm"?, "fixed"?}`; fields not
    given keep the default layout's place; `"overprint": true` for 套打. Positions lie on the page (A4
    landscape, mm), sizes are finite and sensible, colours #rrggbb. `strict`: LayoutError listing every bad
    value; otherwise (a layout stored before these checks) each bad value falls back to the default's and is
    logged, so one bad value never stops a certificate from printing."""
    template, errors = _parse_layout(doc)
    if errors and strict:
        raise LayoutError(errors)
    if errors:
        log.warning("certificate layout: bad values replaced by the default's",
                    extra={"fields": [e["field"] for e in errors]})
    return template


def coverage(certificates: Iterable[Certificate], font: str, fallback: str | None = None
             ) -> list[tuple[str, str, list[str]]]:
    """(serial, name, characters) for every certificate whose text the font cannot draw, and the fallback
    cannot either (with no fallback: every one the font lacks). Check before printing: a missing glyph
    prints blank."""
    found = []
    for c in certificates:
        text = "".join((c.name, c.unit, c.sentence, c.award, c.issuer))
        lacking = missing_glyphs(font, text)
        if lacking and fallback is not None:
            lacking = [ch for ch in lacking if missing_glyphs(fallback, ch)]
        if lacking:
            found.append((c.serial, c.name, lacking))
    return found


def _qr_path(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    # a fixed mask: choosing the "best" of eight costs 20 ms a code and any mask decodes the same
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # one rectangle per horizontal run of dark modules
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * cell, y + size - (r + 1) * cell, (c - start) * cell, cell)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)


def _runs(text: str, font: str, fallback: str | None) -> list[tuple[str, str]]:
    """(font, text) runs: the main font wherever it has the glyph, the fallback for the rest."""
    if fallback is None or not missing_glyphs(font, text):
        return [(font, text)]
    runs: list[tuple[str, str]] = []
    for ch in text:
        face = fallback if missing_glyphs(font, ch) else font
        if runs and runs[-1][0] == face:
            runs[-1] = (face, runs[-1][1] + ch)
        else:
            runs.append((face, ch))
    return runs


def _text(canvas: Canvas, template: Template, spec: Field, text: str, font: str, fallback: str | None) -> None:
    runs = _runs(text, font, fallback)
    size = spec.size
    width = sum(canvas.stringWidth(t, face, size) for face, t in runs)
    limit = spec.max_width_mm * mm
    if width > limit:  # shrink to fit rather than run off the paper
        size, width = size * limit / width, limit
    x, y = (spec.x_mm + template.offset_x_mm) * mm, (spec.y_mm + template.offset_y_mm) * mm
    if spec.align == "right":
        x -= width
    elif spec.align == "center":
        x -= width / 2
    canvas.setFillColor(HexColor(spec.color))
    for face, part in runs:
        canvas.setFont(face, size)
        canvas.drawString(x, y, part)
        x += canvas.stringWidth(part, face, size)


def _frame(canvas: Canvas) -> None:
    """The plain design used when there is no background image: a double red border."""
    canvas.setStrokeColor(HexColor("#b3261e"))
    canvas.setLineWidth(2.2)
    canvas.rect(10 * mm, 10 * mm, PAGE_W - 20 * mm, PAGE_H - 20 * mm)
    canvas.setLineWidth(0.6)
    canvas.rect(13 * mm, 13 * mm, PAGE_W - 26 * mm, PAGE_H - 26 * mm)


def _values(c: Certificate) -> dict[str, str]:
    return {"name": c.name, "unit": c.unit, "sentence": c.sentence, "award": c.award, "issuer": c.issuer,
            "date": f"{c.issued_on.year}年{c.issued_on.month}月{c.issued_on.day}日", "serial": f"证书编号：{c.serial}",
            **({"score": c.score} if c.score else {})}


def render(certificates: Sequence[Certificate], template: Template = DEFAULT_TEMPLATE, *,
           font_path: str | None = None, fallback_path: str | None = None,
           progress: Callable[[int, int], None] | None = None, title: str = "荣誉证书") -> bytes:
    """One page per certificate, in the order given."""
    font = cjk_font(font_path)
    fallback = cjk_font(fallback_path) if fallback_path else None
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_W, PAGE_H), pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("contestday")
    if template.background and not template.overprint:
        # the design once, as a form every page refers to: drawing the image on each page would hash its
        # megabytes of pixels again on every page (10 ms a page)
        canvas.beginForm("design")
        canvas.drawImage(ImageReader(io.BytesIO(template.background)), 0, 0, PAGE_W, PAGE_H)
        canvas.endForm()
    for n, c in enumerate(certificates, 1):
        if template.background and not template.overprint:
            canvas.doForm("design")
        elif not template.overprint:
            _frame(canvas)
        if not template.overprint:
            for key, text in template.fixed.items():
                if key in template.fields:
                    _text(canvas, template, template.fields[key], text, font, None)
        for key, text in _values(c).items():
            if key in template.fields:
                _text(canvas, template, template.fields[key], text, font, fallback)
        canvas.setFillColor(HexColor("#000000"))
        _qr_path(canvas, c.verify_url, (template.qr_x_mm + template.offset_x_mm) * mm,
                 (template.qr_y_mm + template.offset_y_mm) * mm, template.qr_size_mm * mm)
        canvas.showPage()
        if progress is not None:
            progress(n, len(certificates))
    canvas.save()
    return out.getvalue()


def calibration_page(template: Template = DEFAULT_TEMPLATE, font_path: str | None = None) -> bytes:
    """A test print for 套打: a crosshair and the field's name where each field's anchor falls (offsets
    applied), the QR's box, and a 10 mm ruler along two edges; compare it with the pre-printed stock."""
    font = cjk_font(font_path)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_W, PAGE_H))
    canvas.setTitle("套打校准页")
    canvas.setLineWidth(0.3)
    canvas.setFont(font, 7)
    for x in range(0, int(PAGE_W / mm) + 1, 10):
        canvas.line(x * mm, 0, x * mm, (5 if x % 50 else 9) * mm)
        if x % 50 == 0:
            canvas.drawString(x * mm + 0.5 * mm, 6 * mm, str(x))
    for y in range(0, int(PAGE_H / mm) + 1, 10):
        canvas.line(0, y * mm, (5 if y % 50 else 9) * mm, y * mm)
    for key, spec in template.fields.items():
        x, y = (spec.x_mm + template.offset_x_mm) * mm, (spec.y_mm + template.offset_y_mm) * mm
        canvas.setStrokeColor(HexColor("#b3261e"))
        canvas.line(x - 4 * mm, y, x + 4 * mm, y)
        canvas.line(x, y - 4 * mm, x, y + 4 * mm)
        canvas.setFillColor(HexColor("#b3261e"))
        canvas.drawString(x + 1.5 * mm, y + 1.5 * mm, f"{key} ({spec.x_mm + template.offset_x_mm:g}, "
                                                       f"{spec.y_mm + template.offset_y_mm:g}) {spec.size:g}pt")
    qx, qy = (template.qr_x_mm + template.offset_x_mm) * mm, (template.qr_y_mm + template.offset_y_mm) * mm
    canvas.rect(qx, qy, template.qr_size_mm * mm, template.qr_size_mm * mm)
    canvas.drawString(qx, qy + template.qr_size_mm * mm + 1.5 * mm, "QR")
    canvas.setFont(font, 10)
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawCentredString(PAGE_W / 2, PAGE_H - 15 * mm,
                             f"套打校准页：偏移 x {template.offset_x_mm:+g} mm，y {template.offset_y_mm:+g} mm")
    canvas.showPage()
    canvas.save()
    return out.getvalue()
