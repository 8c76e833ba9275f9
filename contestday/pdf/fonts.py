"""The CJK font of every PDF we print (posters, tickets, later certificates), and the small text helpers
reportlab lacks for Chinese.

reportlab embeds TrueType outlines only: WenQuanYi Zen Hei (a .ttc, sub-font 0) or AR PL UMing work;
Debian's Noto CJK is CFF-flavoured and fails ("postscript outlines are not supported"), and
`UnicodeCIDFont('STSong-Light')` embeds nothing (Acrobat then asks for a font pack). Organisers may
configure their own 方正/华文 font with CONTESTDAY_FONT_PATH.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FontNotFound", "cjk_font", "find_cjk_font", "missing_glyphs", "wrap_text"]

FONT_ENV = "CONTESTDAY_FONT_PATH"
# (reportlab name, path, sub-font index) in order of preference
_SYSTEM_FONTS: tuple[tuple[str, str, int], ...] = (
    ("WenQuanYiZenHei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("ARPLUMing", "/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
# Characters that must not start a line (closing punctuation) or end one (opening brackets).
_NO_LINE_START = set("，。、：；！？）》」』】〕”’,.;:!?)]}%·…—")
_NO_LINE_END = set("（《「『【〔“‘([{")


class FontNotFound(RuntimeError):
    pass


def find_cjk_font(configured: str | None = None) -> tuple[str, str, int]:
    """(reportlab font name, path, sub-font index) of the CJK font to embed: the configured one (argument,
    else env CONTESTDAY_FONT_PATH; `path#2` picks sub-font 2 of a .ttc), else a system font."""
    configured = configured or os.environ.get(FONT_ENV) or None
    if configured:
        path, _, sub = configured.partition("#")
        if not Path(path).is_file():
            raise FontNotFound(f"{FONT_ENV}={configured}: no such font file")
        return f"Custom-{Path(path).stem}", path, int(sub or 0)
    for name, path, index in _SYSTEM_FONTS:
        if Path(path).is_file():
            return name, path, index
    raise FontNotFound("no CJK TrueType font found: install fonts-wqy-zenhei (or fonts-arphic-uming), "
                       f"or set {FONT_ENV} to a TrueType (.ttf/.ttc) font with Chinese glyphs")


@cache
def _registered(name: str, path: str, index: int) -> str:
    pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
    return name


def cjk_font(configured: str | None = None) -> str:
    """The registered reportlab font name (registered once per process; embedded as a subset)."""
    return _registered(*find_cjk_font(configured))


def missing_glyphs(font_name: str, text: str) -> list[str]:
    """Characters of `text` the font cannot draw (reportlab has no fallback: they would come out blank),
    e.g. 𠮷 (U+20BB7) in WQY and UMing."""
    font = pdfmetrics.getFont(font_name)
    glyphs = font.face.charToGlyph
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in glyphs})


def wrap_text(text: str, font_name: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points. Chinese breaks between any two characters, Latin words and
    numbers stay whole (serials, URLs), and closing punctuation never starts a line: reportlab's own CJK
    wrap gets both wrong."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        tokens = _tokens(paragraph)
        line = ""
        for token in tokens:
            if not line or pdfmetrics.stringWidth(line + token, font_name, size) <= width:
                line += token
                continue
            if token.strip() and token[0] in _NO_LINE_START and len(line) > 1:
                line, carried = line[:-1], line[-1]  # pull the last character down with the punctuation
                token = carried + token
            while len(line) > 1 and line[-1] in _NO_LINE_END:
                token, line = line[-1] + token, line[:-1]
            lines.append(line.rstrip())
            line = token.lstrip()
        if len(line) == 1 and lines and len(lines[-1]) > 2 and lines[-1][-1] not in _NO_LINE_START | _NO_LINE_END \
                and not lines[-1][-1].isascii():
            lines[-1], line = lines[-1][:-1], lines[-1][-1] + line  # no lone character on the last line
        lines.append(line.rstrip())
    return lines


def _is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "-_/.:@#&=?%+~")


def _tokens(text: str) -> list[str]:
    """Single CJK characters and punctuation, whole runs of Latin letters/digits (with their trailing space)."""
    tokens: list[str] = []
    for ch in text:
        joins = _is_word(ch) and _is_word(tokens[-1][-1]) if tokens else False
        if joins or (ch == " " and tokens):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens
