"""`contestday certificates build`: honour certificates from an event file and a RESULTS table (contracts §4).

One A4 page per person holding an award, in RESULTS order; serials `ITEM-0001` numbered per item in that
order (unique within the event); the QR encodes `{verify-base}/verify/{serial}`. Exit 2 with a clear message
on bad input, when a name holds characters the font cannot draw (listed, with --fallback-font to fix
it), and when --verify-base is missing or one no phone reaches (127.0.0.1, localhost: `--allow-loopback` for
tests): nothing is written then."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from certificates.render import (
    DEFAULT_TEMPLATE,
    Certificate,
    Template,
    calibration_page,
    coverage,
    render,
    template_from_document,
)
from contestday.pdf.fonts import FontNotFound, cjk_font
from contestday.web.addresses import parse_public_url
from contestday.web.errors import Refusal
from results.inputs import BadInput, load_event
from results.tables import TableError, read_table

__all__ = ["build_command", "certificates_from_results"]

RESULTS_NEEDS = ("item", "group", "name", "unit", "award")


def _fail(zh: str, en: str) -> int:
    print(f"错误：{zh}\nerror: {en}", file=sys.stderr)
    return 2


def certificates_from_results(event: Any, rows: list[dict[str, str]], verify_base: str, issued_on: date
                              ) -> list[Certificate]:
    items = {i.code: i for i in event.items}
    counters: dict[str, int] = {}
    issuer = event.organiser or f"{event.name}组委会"
    made = []
    for row in rows:
        if not row.get("award"):
            continue
        item = items.get(row["item"])
        if item is None:
            raise ValueError(f"unknown item {row['item']!r}")
        counters[item.code] = counters.get(item.code, 0) + 1
        serial = f"{item.code}-{counters[item.code]:04d}"
        made.append(Certificate(serial, row["name"], row["unit"], event.name, item.name, row["group"], row["award"],
                                issuer, issued_on, f"{verify_base.rstrip('/')}/verify/{serial}"))
    return made


def _template(path: Path | None, background: Path | None, overprint: bool, dx: float, dy: float) -> Template:
    template = DEFAULT_TEMPLATE
    if path is not None:
        template = template_from_document(json.loads(path.read_text(encoding="utf-8")))
    if background is not None:
        template = template.with_background(background.read_bytes())
    if overprint:
        template = template.as_overprint()
    return template.calibrated(template.offset_x_mm + dx, template.offset_y_mm + dy)


def _verify_base(given: str | None, allow_loopback: bool) -> str | tuple[str, str]:
    """The checked address, or (zh, en) saying what is wrong with it."""
    if not given or not given.strip():
        return ("请用 --verify-base 指定证书二维码打开的核验地址（如 https://contest.example.cn），"
                "或设置 CONTESTDAY_PUBLIC_URL",
                "--verify-base is required: the address the certificates' QR codes open "
                "(e.g. https://contest.example.cn), or set CONTESTDAY_PUBLIC_URL")
    try:
        return parse_public_url(given, allow_loopback=allow_loopback)
    except Refusal as exc:
        if exc.code == "public_url_loopback":
            return (f"--verify-base {given.strip()} 是本机地址，手机扫证书二维码打不开：请给出证书核验页的公开地址"
                    "（测试时可加 --allow-loopback）",
                    f"--verify-base {given.strip()} is this machine's own address, which no phone scanning a "
                    "certificate reaches: give the verify page's public address (--allow-loopback for tests)")
        return (f"--verify-base：{exc.message}", f"--verify-base: {exc.message_en}")


def build_command(event_path: Path, results_path: Path, out_path: Path, verify_base: str | None, *,
                  allow_loopback: bool = False, issued_on: date | None = None, font: str | None = None,
                  fallback_font: str | None = None,
                  template_path: Path | None = None, background: Path | None = None, overprint: bool = False,
                  offset_x: float = 0, offset_y: float = 0, calibration: bool = False) -> int:
    """Exit status: 0 done, 2 bad input (nothing written)."""
    if out_path.suffix.lower() != ".pdf":
        return _fail(f"输出文件 {out_path.name} 应为 .pdf", f"output {out_path.name} must be .pdf")
    if not out_path.parent.resolve().is_dir():
        return _fail(f"输出目录 {out_path.parent} 不存在", f"output directory {out_path.parent} does not exist")
    try:
        template = _template(template_path, background, overprint, offset_x, offset_y)
        font_name = cjk_font(font)
        fallback_name = cjk_font(fallback_font) if fallback_font else None
    except FontNotFound as exc:
        return _fail(exc.zh, exc.en)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _fail(f"模板或背景图无法读取：{exc}", f"cannot read the template or background: {exc}")
    if calibration:  # no QR on it: no address needed
        out_path.write_bytes(calibration_page(template, font))
        print(f"已写出套打校准页 {out_path} / wrote a calibration page", file=sys.stderr)
        return 0
    base = _verify_base(verify_base, allow_loopback)
    if isinstance(base, tuple):
        return _fail(*base)
    try:
        event = load_event(event_path)
        table = read_table(results_path, RESULTS_NEEDS)
    except BadInput as exc:
        for error in exc.errors[:20]:
            print(error.render(), file=sys.stderr)
        return 2
    except TableError as exc:
        where = f"第 {exc.row} 行" if exc.row else ""
        return _fail(f"{results_path.name} {where}{exc.zh}", f"{results_path.name}: {exc.en}")
    try:
        certs = certificates_from_results(event, [cells for _row, cells in table.rows], base,
                                          issued_on or date.today())
    except ValueError as exc:
        return _fail(f"{results_path.name} 中有赛事文件里没有的赛项：{exc}", f"{results_path.name}: {exc}")
    if not certs:
        return _fail(f"{results_path.name} 中没有获奖者", f"no award winners in {results_path.name}")
    lacking = coverage(certs, font_name, fallback_name)
    if lacking:
        print("以下证书含字体缺少的字，打印会出现空白，未写出任何文件 / characters the font lacks, nothing written:",
              file=sys.stderr)
        for serial, name, chars in lacking:
            print(f"  {serial} {name}：{''.join(chars)}", file=sys.stderr)
        print("请用 --fallback-font 指定含这些字的字体（如 HanaMinB.ttf，Debian 包 fonts-hanazono） / "
              "pass --fallback-font with a font that has them", file=sys.stderr)
        return 2
    def progress(done: int, total: int) -> None:
        if total >= 200 and (done % 200 == 0 or done == total):
            print(f"已生成 {done}/{total} / {done} of {total}", file=sys.stderr)

    data = render(certs, template, font_path=font, fallback_path=fallback_font, title=f"{event.name} 荣誉证书",
                  progress=progress)
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out_path)
    print(f"已写出 {len(certs)} 张证书到 {out_path} / wrote {len(certs)} certificates", file=sys.stderr)
    return 0
