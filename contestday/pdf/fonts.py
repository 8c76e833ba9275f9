"""The CJK font of every PDF we print (posters, tickets, later certificates), and the small text helpers
reportlab lacks for Chinese.

reportlab embeds TrueType outlines only: WenQuanYi Zen Hei (a .ttc, sub-font 0) or AR PL UMing work;
Debian's Noto CJK is CFF-flavoured and fails ("postscript outlines are not supported"), and
`UnicodeCIDFont('STSong-Light')` embeds nothing (Acrobat then asks for a font pack). Organisers may
configure their own 方正/华文 font with CONTESTDAY_FONT_PATH.

Where no font is configured and neither Debian font is installed, the font directories of Windows, macOS and
other Linux systems are searched for known file names (`font_dirs()`); a candidate reportlab cannot embed (CFF
outlines, embedding forbidden, not a font) or without Chinese glyphs is skipped and the next one tried.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FontDir", "FontNotFound", "FontReport", "cjk_font", "find_cjk_font", "font_dirs", "font_report",
           "missing_glyphs", "wrap_text"]

FONT_ENV = "CONTESTDAY_FONT_PATH"
Font = tuple[str, str, int]  # (reportlab name, path, sub-font index)
# in order of preference, looked at before any directory is searched (unchanged since the first release)
_SYSTEM_FONTS: tuple[Font, ...] = (
    ("WenQuanYiZenHei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("ARPLUMing", "/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
# (reportlab name, file name, sub-font index) looked for in each OS's font directories, in order of preference
_WINDOWS_FONTS: tuple[Font, ...] = (
    ("SimSun", "simsun.ttc", 0),  # 宋体 (sub-font 1 is 新宋体)
    ("SimHei", "simhei.ttf", 0),  # 黑体
    ("MicrosoftYaHei", "msyh.ttc", 0),  # 微软雅黑: TrueType outlines (Windows 7: msyh.ttf)
    ("MicrosoftYaHei", "msyh.ttf", 0),
    ("KaiTi", "simkai.ttf", 0),  # 楷体
    ("FangSong", "simfang.ttf", 0),  # 仿宋
)
_MACOS_FONTS: tuple[Font, ...] = (  # PingFang and Hiragino are often CFF: reportlab refuses them, skipped then
    ("Songti", "Songti.ttc", 0),  # 宋体-简 (/System/Library/Fonts/Supplemental)
    ("STHeitiLight", "STHeiti Light.ttc", 0),  # 华文黑体
    ("STHeitiMedium", "STHeiti Medium.ttc", 0),
    ("HiraginoSansGB", "Hiragino Sans GB.ttc", 0),
    ("PingFang", "PingFang.ttc", 0),
    ("ArialUnicode", "Arial Unicode.ttf", 0),
)
_LINUX_FONTS: tuple[Font, ...] = (  # Fedora, Arch, … keep WenQuanYi and AR PL elsewhere than Debian
    ("WenQuanYiZenHei", "wqy-zenhei.ttc", 0),
    ("WenQuanYiMicroHei", "wqy-microhei.ttc", 0),
    ("ARPLUMing", "uming.ttc", 0),
    ("ARPLUKai", "ukai.ttc", 0),
    ("NotoSansSC", "NotoSansSC-Regular.ttf", 0),  # the TrueType builds only: the .otf/.ttc of Noto CJK are CFF
    ("NotoSerifSC", "NotoSerifSC-Regular.ttf", 0),
    ("SourceHanSansSC", "SourceHanSansSC-Regular.ttf", 0),
    ("SourceHanSerifSC", "SourceHanSerifSC-Regular.ttf", 0),
    ("DroidSansFallback", "DroidSansFallbackFull.ttf", 0),
)
# a supplementary-plane character (CJK Extension B) many fonts lack, as in the name 𠮷田
RARE_SAMPLE = "\U00020BB7"  # 𠮷
# Characters that must not start a line (closing punctuation) or end one (opening brackets).
_NO_LINE_START = set("，。、：；！？）》」』】〕”’,.;:!?)]}%·…—")
_NO_LINE_END = set("（《「『【〔“‘([{")


class FontNotFound(RuntimeError):
    """No usable font; `zh` and `en` say what to install or set."""

    def __init__(self, zh: str, en: str | None = None) -> None:
        super().__init__(f"{zh} / {en}" if en else zh)
        self.zh, self.en = zh, en or zh


@dataclass(frozen=True)
class FontDir:
    """A directory searched (with its subdirectories) for the known font file names, in their order."""

    path: Path
    fonts: tuple[Font, ...]


@dataclass(frozen=True)
class FontReport:
    """What `find_cjk_font` picks and whether it draws 𠮷-class characters (for a venue check page)."""

    found: bool
    name: str = ""
    path: str = ""
    index: int = 0
    rare_glyphs: bool = False  # the font has a glyph for RARE_SAMPLE (U+20BB7 𠮷)
    problem_zh: str = ""
    problem_en: str = ""


def font_dirs(environ: Mapping[str, str] | None = None) -> tuple[FontDir, ...]:
    """The font directories of Windows, macOS and Linux, in that order (those absent are skipped when searched).
    Linux ones are also searched for the Windows fonts organisers often copy there."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or env.get("USERPROFILE")
    windows = [Path(env[var]) / "Fonts" for var in ("WINDIR", "SYSTEMROOT") if env.get(var)]
    if env.get("LOCALAPPDATA"):  # fonts installed for one user only (Windows 10 1809 and later)
        windows.append(Path(env["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
    macos = [Path("/System/Library/Fonts"), Path("/Library/Fonts")]
    linux = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts")]
    if home:
        macos.append(Path(home) / "Library" / "Fonts")
        linux += [Path(home) / ".fonts", Path(home) / ".local" / "share" / "fonts"]
    dirs = [FontDir(p, _WINDOWS_FONTS) for p in dict.fromkeys(windows)]
    dirs += [FontDir(p, _MACOS_FONTS) for p in macos]
    dirs += [FontDir(p, _LINUX_FONTS + _WINDOWS_FONTS) for p in linux]
    return tuple(dirs)


def find_cjk_font(configured: str | None = None, roots: tuple[FontDir, ...] | None = None) -> Font:
    """(reportlab font name, path, sub-font index) of the CJK font to embed: the configured one (argument,
    else env CONTESTDAY_FONT_PATH; `path#2` picks sub-font 2 of a .ttc), else a Debian font, else the first
    usable known font in `roots` (default `font_dirs()`)."""
    configured = configured or os.environ.get(FONT_ENV) or None
    if configured:
        return _configured(configured)
    for name, path, index in _SYSTEM_FONTS:
        if Path(path).is_file():
            return name, path, index
    searched = font_dirs() if roots is None else roots
    found = _search(searched)
    if found is None:
        raise _not_found(searched)
    return found


def _configured(configured: str) -> Font:
    path, _, sub = configured.partition("#")
    if not Path(path).is_file():
        raise FontNotFound(f"找不到字体文件：{FONT_ENV}={configured}",
                           f"{FONT_ENV}={configured}: no such font file")
    index = int(sub or 0)
    problem = _unusable(path, index, need_han=False)
    if problem:
        raise FontNotFound(f"字体 {configured} 无法嵌入 PDF（需要 TrueType 轮廓的 .ttf/.ttc）：{problem}",
                           f"{FONT_ENV}={configured}: reportlab cannot embed it (a TrueType .ttf/.ttc is needed): "
                           f"{problem}")
    return f"Custom-{Path(path).stem}", path, index


# a search that found a font is not walked again while that file is there (a font preferred to it and installed
# later is taken after a restart); a search that found none is walked again on the next call
_FOUND: dict[tuple[FontDir, ...], Font] = {}


def _search(roots: tuple[FontDir, ...]) -> Font | None:
    hit = _FOUND.get(roots)
    if hit is not None and Path(hit[1]).is_file():
        return hit
    for font in _candidates(roots):
        if _unusable(font[1], font[2], need_han=True) is None:
            _FOUND[roots] = font
            return font
    return None


def _candidates(roots: tuple[FontDir, ...]) -> Iterator[Font]:
    for root in roots:
        files = _files_by_name(root.path)
        for name, filename, index in root.fonts:
            if filename.lower() in files:
                yield name, files[filename.lower()], index


def _files_by_name(folder: Path) -> dict[str, str]:
    """Every file under `folder` by its lower-cased name (the first in sorted walking order); {} if absent."""
    files: dict[str, str] = {}
    for parent, subdirs, names in os.walk(folder):
        subdirs.sort()
        for name in sorted(names):
            files.setdefault(name.lower(), os.path.join(parent, name))
    return files


@cache
def _unusable(path: str, index: int, need_han: bool) -> str | None:
    """Why reportlab cannot embed sub-font `index` of `path` (or, with `need_han`, it lacks 中), else None."""
    try:
        face = TTFont("contestday-probe", path, subfontIndex=index).face
    except Exception as exc:  # TTFError mostly, but a damaged file may raise anything while it is parsed
        return f"{type(exc).__name__}: {exc}"
    if need_han and ord("中") not in face.charToGlyph:
        return "no Chinese glyphs"
    return None


def _not_found(roots: tuple[FontDir, ...]) -> FontNotFound:
    where = ", ".join(str(root.path) for root in roots if root.path.is_dir()) or "none"
    return FontNotFound(
        "找不到可嵌入 PDF 的中文字体：Debian/Ubuntu 请安装 fonts-wqy-zenhei（apt-get install fonts-wqy-zenhei，"
        f"或 fonts-arphic-uming），或设置环境变量 {FONT_ENV} 为含中文字形的 TrueType 字体文件（.ttf/.ttc，"
        "如 C:\\Windows\\Fonts\\simsun.ttc）；PostScript（CFF）轮廓的 .otf 字体（如思源黑体、Noto Sans CJK）无法嵌入",
        "no CJK TrueType font found: install fonts-wqy-zenhei (or fonts-arphic-uming), "
        f"or set {FONT_ENV} to a TrueType (.ttf/.ttc) font with Chinese glyphs (searched: {where})")


@cache
def _registered(name: str, path: str, index: int) -> str:
    pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
    return name


def cjk_font(configured: str | None = None) -> str:
    """The registered reportlab font name (registered once per process; embedded as a subset)."""
    return _registered(*find_cjk_font(configured))


def font_report(configured: str | None = None, roots: tuple[FontDir, ...] | None = None) -> FontReport:
    """The font every PDF would use, and whether it draws 𠮷 (U+20BB7); not found: what to install or set."""
    try:
        name, path, index = find_cjk_font(configured, roots)
    except FontNotFound as exc:
        return FontReport(found=False, problem_zh=exc.zh, problem_en=exc.en)
    registered = _registered(name, path, index)
    return FontReport(found=True, name=name, path=path, index=index,
                      rare_glyphs=not missing_glyphs(registered, RARE_SAMPLE))


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
