"""Certificates offline (contracts §4): one page per award holder in RESULTS order, the text on the page, the
CJK font embedded as a subset, the QR decoding to the verify URL, rare characters reported, calibration
offsets moving the fields."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from contestday.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HANAMIN = Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} not found: .ci/run must install poppler-utils and zbar-tools")
        pytest.skip(f"{name} not installed (apt-get install poppler-utils zbar-tools)")
    return path


def build(tmp_path: Path, *extra: str, results: Path | None = None) -> tuple[int, str, Path]:
    out = tmp_path / "certs.pdf"
    result = CliRunner().invoke(main, ["certificates", "build", "--event", str(EXAMPLES / "event.json"),
                                       "--results", str(results or EXAMPLES / "results.csv"), "--out", str(out),
                                       "--verify-base", "https://cert.example.cn", "--date", "2026-12-03", *extra])
    return result.exit_code, result.output, out


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run([_tool("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_one_page_per_award_holder_with_the_text_the_font_and_the_qr(tmp_path: Path) -> None:
    code, output, pdf = build(tmp_path)
    assert code == 0, output
    rows = [r.split(",") for r in (EXAMPLES / "results.csv").read_text(encoding="utf-8").splitlines()]
    header = rows[0]
    winners = [dict(zip(header, r, strict=True)) for r in rows[1:] if dict(zip(header, r, strict=True))["award"]]
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True,
                                                             text=True).stdout).group(1))  # type: ignore[union-attr]
    assert pages == len(winners)
    first = winners[0]
    text = page_text(pdf, 1)
    for value in (first["name"], first["unit"], first["award"], f"{first['item']}-0001"):
        assert value in text.replace(" ", ""), value
    data = pdf.read_bytes()
    assert b"/FontFile2" in data and re.search(rb"/BaseFont /[A-Z]{6}\+", data)  # a TrueType subset, embedded
    image = tmp_path / "p1"
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "150", "-f", "1", "-singlefile", str(pdf), str(image)],
                   check=True)
    decoded = subprocess.run([_tool("zbarimg"), "--raw", "-q", str(image) + ".png"], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == f"https://cert.example.cn/verify/{first['item']}-0001"


def test_a_name_the_font_lacks_is_reported_and_a_fallback_font_fixes_it(tmp_path: Path) -> None:
    text = (EXAMPLES / "results.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines()
    cells = first.split(",")
    name_at = header.split(",").index("name")
    cells[name_at] = "𠮷田一郎"
    results = tmp_path / "results.csv"
    results.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
    code, output, pdf = build(tmp_path, results=results)
    assert code == 2 and "𠮷田一郎" in output and "--fallback-font" in output and not pdf.exists()
    if not HANAMIN.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{HANAMIN} not found: .ci/run must install fonts-hanazono")
        pytest.skip("fonts-hanazono not installed: the fallback half is not tried")
    code, output, pdf = build(tmp_path, "--fallback-font", str(HANAMIN), results=results)
    assert code == 0, output
    assert "田一郎" in page_text(pdf, 1).replace(" ", "")  # the rest of the name stays in the main font
    assert re.search(rb"/BaseFont /[A-Z]{6}\+HanaMinB", pdf.read_bytes())  # 𠮷 drawn from the fallback


def test_calibration_offsets_move_every_field(tmp_path: Path) -> None:
    def name_box(extra: tuple[str, ...]) -> tuple[float, float]:
        code, output, pdf = build(tmp_path, *extra)
        assert code == 0, output
        box = subprocess.run([_tool("pdftotext"), "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
                             capture_output=True, text=True, check=True).stdout
        word = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>荣誉证书</word>', box)
        assert word, box[:500]
        return float(word.group(1)), float(word.group(2))

    x0, y0 = name_box(())
    x1, y1 = name_box(("--offset-x", "10", "--offset-y", "-5"))
    assert abs((x1 - x0) - 10 / 25.4 * 72) < 0.5 and abs((y1 - y0) - 5 / 25.4 * 72) < 0.5  # y grows downwards
    code, _output, pdf = build(tmp_path, "--overprint")
    assert code == 0 and "荣誉证书" not in page_text(pdf, 1)  # 套打: the stock has the title already
    code, _output, pdf = build(tmp_path, "--calibration", "--offset-x", "1.5")
    assert code == 0 and "偏移 x +1.5 mm" in page_text(pdf, 1).replace("  ", " ")


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    code, output, pdf = build(tmp_path, results=tmp_path / "missing.csv")
    assert code == 2 and "不存在" in output and not pdf.exists()
    code, output, _ = build(tmp_path, "--date", "03/12/2026")
    assert code == 2 and "YYYY-MM-DD" in output


def _build_with(tmp_path: Path, *extra: str, env: dict[str, str | None]) -> tuple[int, str, Path]:
    out = tmp_path / "certs.pdf"
    result = CliRunner(env=env).invoke(main, ["certificates", "build", "--event", str(EXAMPLES / "event.json"),
                                              "--results", str(EXAMPLES / "results.csv"), "--out", str(out),
                                              *extra])
    return result.exit_code, result.output, out


def test_the_verify_address_is_required_and_never_loopback(tmp_path: Path) -> None:
    unset: dict[str, str | None] = {"CONTESTDAY_PUBLIC_URL": None}
    code, output, pdf = _build_with(tmp_path, env=unset)
    assert code == 2 and "--verify-base" in output and "CONTESTDAY_PUBLIC_URL" in output and not pdf.exists()
    for base in ("http://127.0.0.1:8000", "http://localhost", "http://0.0.0.0:8000"):
        code, output, pdf = _build_with(tmp_path, "--verify-base", base, env=unset)
        assert code == 2 and "本机地址" in output and "--allow-loopback" in output and not pdf.exists(), base
    code, output, pdf = _build_with(tmp_path, "--verify-base", "ftp://cert.example.cn", env=unset)
    assert code == 2 and "无效" in output and not pdf.exists()
    code, output, pdf = _build_with(tmp_path, "--verify-base", "http://127.0.0.1:8000", "--allow-loopback",
                                    env=unset)
    assert code == 0 and pdf.exists(), output
    pdf.unlink()
    code, output, pdf = _build_with(tmp_path, env={"CONTESTDAY_PUBLIC_URL": "https://cert.example.cn"})
    assert code == 0 and pdf.exists(), output  # the server's address is the default
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-singlefile", str(pdf), str(tmp_path / "p")],
                       check=True)
        qr = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "p.png")], capture_output=True, text=True)
        assert qr.stdout.strip().startswith("https://cert.example.cn/verify/")
    code, output, pdf = _build_with(tmp_path, "--calibration", env=unset)  # no QR on it: no address needed
    assert code == 0 and pdf.exists(), output


def test_names_are_masked_for_the_public() -> None:
    from certificates.store import mask_name

    assert [mask_name(n) for n in ("张三丰", "李华", "欧阳娜娜", "王")] == ["张*丰", "李*", "欧**娜", "王"]


def test_the_rendered_page_matches_the_reference_image_in_the_docs(tmp_path: Path) -> None:
    """A visual regression check: the first example certificate at 50 dpi against docs/screenshots/
    certificate.png (refresh it with UPDATE_SCREENSHOTS=1 after a deliberate change of the design)."""
    from PIL import Image, ImageChops, ImageStat

    code, output, pdf = build(tmp_path)
    assert code == 0, output
    png = tmp_path / "page"
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "50", "-f", "1", "-singlefile", str(pdf), str(png)], check=True)
    reference = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "certificate.png"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copy(f"{png}.png", reference)
    rendered, expected = Image.open(f"{png}.png").convert("L"), Image.open(reference).convert("L")
    assert rendered.size == expected.size
    difference = ImageStat.Stat(ImageChops.difference(rendered, expected)).mean[0]
    assert difference < 1.5, f"the page differs from {reference.name} by {difference:.2f} on average"
