"""QR codes of the registration form and of tickets: one module matrix drawn three ways (PNG for the
poster download, inline SVG for the ticket page, vector rectangles in PDFs)."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q
from reportlab.pdfgen.canvas import Canvas

__all__ = ["draw_qr", "qr_matrix", "qr_png", "qr_svg"]

QUIET = 4  # modules of white border the standard asks for


def _ecc(payload: str) -> int:
    """Error correction by payload length: short URLs can afford H (a poster survives dirt and glare),
    long ones keep M so the modules stay large enough for a phone camera."""
    if len(payload) <= 60:
        return ERROR_CORRECT_H
    if len(payload) <= 120:
        return ERROR_CORRECT_Q
    return ERROR_CORRECT_M


def qr_matrix(payload: str) -> list[list[bool]]:
    """The modules, without the quiet zone (True = dark)."""
    code = qrcode.QRCode(error_correction=_ecc(payload), border=0)
    code.add_data(payload)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_png(payload: str, *, module_px: int = 12) -> bytes:
    """A 1-bit PNG with the quiet zone, `module_px` pixels per module."""
    from PIL import Image

    matrix = qr_matrix(payload)
    n = len(matrix) + 2 * QUIET
    img = Image.new("1", (n, n), 1)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                img.putpixel((x + QUIET, y + QUIET), 0)
    out = io.BytesIO()
    img.resize((n * module_px, n * module_px), Image.Resampling.NEAREST).save(out, "PNG", optimize=True)
    return out.getvalue()


def qr_svg(payload: str, *, size: str = "100%") -> str:
    """Inline SVG (one path, a few KB): crisp at any phone's pixel density, no extra request."""
    matrix = qr_matrix(payload)
    n = len(matrix) + 2 * QUIET
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start + QUIET} {y + QUIET}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size}" '
            f'shape-rendering="crispEdges" role="img" aria-label="QR"><rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path d="{"".join(parts)}" fill="#000"/></svg>')


def draw_qr(canvas: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """Vector modules in a `size`-point square whose lower-left corner is (x, y), quiet zone included."""
    matrix = qr_matrix(payload)
    n = len(matrix) + 2 * QUIET
    module = size / n
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + QUIET + 1) * module
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                # a hair wider so neighbouring rectangles leave no anti-aliasing seams
                canvas.rect(x + (start + QUIET) * module, top, (col - start) * module + 0.05, module + 0.05,
                            stroke=0, fill=1)
            else:
                col += 1
    canvas.restoreState()
