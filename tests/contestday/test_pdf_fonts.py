"""The CJK font finder on Windows, macOS and other Linux systems: the configured font, then the two Debian paths,
then the known font names in each OS's font directories, skipping what reportlab cannot embed; the message when
there is none; and the report a venue check page shows."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from contestday.cli import main
from contestday.pdf import fonts
from contestday.pdf.fonts import FontDir, FontNotFound, find_cjk_font, font_dirs, font_report

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # TrueType outlines, no glyph for 𠮷
HANAMIN_B = Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf")  # Extension B (𠮷), no 中
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # TrueType, no Chinese at all


@pytest.fixture(autouse=True)
def _no_debian_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Windows or macOS: nothing configured and neither Debian font there."""
    if not WQY.is_file():
        pytest.skip("needs fonts-wqy-zenhei to copy into the fake font directories")
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    monkeypatch.setattr(fonts, "_SYSTEM_FONTS", (("Nowhere", "/nowhere/wqy-zenhei.ttc", 0),))
    monkeypatch.setattr(fonts, "_FOUND", {})  # a search that found a font is remembered for the process


def put(path: Path, source: Path | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copyfile(source, path)
    else:
        path.write_bytes(source)
    return path


def only_under(tmp_path: Path, environ: dict[str, str]) -> tuple[FontDir, ...]:
    """The default directories for `environ`, less the machine's own (/usr/share/fonts, /System/Library/…)."""
    return tuple(d for d in font_dirs(environ) if d.path.is_relative_to(tmp_path))


def test_the_directories_of_each_os_in_order(tmp_path: Path) -> None:
    env = {"WINDIR": r"C:\Windows", "LOCALAPPDATA": r"C:\Users\kaoshi\AppData\Local", "HOME": "/home/kaoshi"}
    dirs = [str(d.path) for d in font_dirs(env)]
    assert dirs[:2] == [str(Path(r"C:\Windows") / "Fonts"),
                        str(Path(r"C:\Users\kaoshi\AppData\Local") / "Microsoft" / "Windows" / "Fonts")]
    assert dirs[2:] == ["/System/Library/Fonts", "/Library/Fonts", "/home/kaoshi/Library/Fonts",
                        "/usr/share/fonts", "/usr/local/share/fonts", "/home/kaoshi/.fonts",
                        "/home/kaoshi/.local/share/fonts"]
    names = [name for _, name, _ in font_dirs(env)[0].fonts]
    assert names[:3] == ["simsun.ttc", "simhei.ttf", "msyh.ttc"] and {"simkai.ttf", "simfang.ttf"} <= set(names)
    assert [str(d.path) for d in font_dirs({})][:2] == ["/System/Library/Fonts", "/Library/Fonts"]


def test_windows_simsun_is_found(tmp_path: Path) -> None:
    simsun = put(tmp_path / "Windows" / "Fonts" / "simsun.ttc", WQY)
    roots = only_under(tmp_path, {"WINDIR": str(tmp_path / "Windows")})
    assert find_cjk_font(roots=roots) == ("SimSun", str(simsun), 0)
    # with the machine's own directories too the Windows one comes first
    assert find_cjk_font(roots=font_dirs({"WINDIR": str(tmp_path / "Windows")})) == ("SimSun", str(simsun), 0)


def test_a_file_reportlab_cannot_embed_is_skipped_for_the_next_candidate(tmp_path: Path) -> None:
    folder = tmp_path / "Windows" / "Fonts"
    put(folder / "SIMSUN.TTC", DEJAVU if DEJAVU.is_file() else bytes(100))  # TrueType, not Chinese; capitals
    put(folder / "msyh.ttc", "这不是字体文件\n".encode() * 50)
    kaiti = put(folder / "simkai.ttf", WQY)
    roots = only_under(tmp_path, {"WINDIR": str(tmp_path / "Windows")})
    assert find_cjk_font(roots=roots) == ("KaiTi", str(kaiti), 0)
    kaiti.unlink()  # a font found before and gone since: searched again
    fangsong = put(folder / "simfang.ttf", WQY)
    assert find_cjk_font(roots=roots) == ("FangSong", str(fangsong), 0)


def test_macos_cff_fonts_are_skipped(tmp_path: Path) -> None:
    cff = b"OTTO" + struct.pack(">HHHH", 1, 16, 0, 0) + bytes(64)  # an OpenType font with PostScript outlines
    home = tmp_path / "home"
    put(home / "Library" / "Fonts" / "PingFang.ttc", cff)
    unicode = put(home / "Library" / "Fonts" / "Arial Unicode.ttf", WQY)
    assert find_cjk_font(roots=only_under(tmp_path, {"HOME": str(home)})) == ("ArialUnicode", str(unicode), 0)
    songti = put(home / "Library" / "Fonts" / "Supplemental" / "Songti.ttc", WQY)
    fonts._FOUND.clear()  # what a restart does: the preferred font installed since is taken
    assert find_cjk_font(roots=only_under(tmp_path, {"HOME": str(home)})) == ("Songti", str(songti), 0)


def test_linux_fonts_elsewhere_and_copied_windows_fonts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    microhei = put(home / ".local" / "share" / "fonts" / "wenquanyi" / "wqy-microhei.ttc", WQY)
    assert find_cjk_font(roots=only_under(tmp_path, {"HOME": str(home)})) == ("WenQuanYiMicroHei", str(microhei), 0)
    simhei = put(home / ".fonts" / "win" / "simhei.ttf", WQY)  # ~/.fonts is searched before ~/.local/share/fonts
    fonts._FOUND.clear()
    assert find_cjk_font(roots=only_under(tmp_path, {"HOME": str(home)})) == ("SimHei", str(simhei), 0)


def test_the_debian_paths_stay_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.undo()
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    put(tmp_path / "Windows" / "Fonts" / "simsun.ttc", WQY)
    roots = only_under(tmp_path, {"WINDIR": str(tmp_path / "Windows")})
    assert find_cjk_font(roots=roots) == ("WenQuanYiZenHei", str(WQY), 0)
    assert find_cjk_font(str(WQY), roots=roots) == ("Custom-wqy-zenhei", str(WQY), 0)


def test_no_font_says_what_to_install_or_set_in_both_languages() -> None:
    with pytest.raises(FontNotFound) as caught:
        find_cjk_font(roots=())
    assert "fonts-wqy-zenhei" in caught.value.zh and "安装" in caught.value.zh
    assert fonts.FONT_ENV in caught.value.zh and "simsun.ttc" in caught.value.zh
    assert "install fonts-wqy-zenhei" in caught.value.en and fonts.FONT_ENV in caught.value.en
    assert str(caught.value) == f"{caught.value.zh} / {caught.value.en}"


def test_a_configured_font_reportlab_cannot_embed_is_refused_clearly(tmp_path: Path) -> None:
    text = put(tmp_path / "fangzheng.ttf", b"not a font\n" * 20)
    with pytest.raises(FontNotFound, match="cannot embed") as caught:
        find_cjk_font(str(text))
    assert "无法嵌入" in caught.value.zh
    result = CliRunner().invoke(main, ["certificates", "build", "--event", str(EXAMPLES / "event.json"),
                                       "--results", str(EXAMPLES / "results.csv"), "--out", str(tmp_path / "c.pdf"),
                                       "--font", str(text)])
    assert result.exit_code == 2
    assert "错误：字体" in result.output and "无法嵌入" in result.output
    assert "error: CONTESTDAY_FONT_PATH" in result.output


def test_font_report(tmp_path: Path) -> None:
    missing = font_report(roots=())
    assert not missing.found and "fonts-wqy-zenhei" in missing.problem_zh and fonts.FONT_ENV in missing.problem_en
    simsun = put(tmp_path / "Windows" / "Fonts" / "simsun.ttc", WQY)
    found = font_report(roots=only_under(tmp_path, {"WINDIR": str(tmp_path / "Windows")}))
    assert (found.found, found.name, found.path, found.index) == (True, "SimSun", str(simsun), 0)
    assert found.rare_glyphs is False and not found.problem_zh  # WenQuanYi has no 𠮷
    if HANAMIN_B.is_file():
        rare = font_report(str(HANAMIN_B))
        assert rare.found and rare.name == "Custom-HanaMinB" and rare.rare_glyphs is True
