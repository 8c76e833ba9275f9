"""Certificates: 1,000 honour certificates into one PDF with a real design (a full-page background image, as
organisers supply their printed design) and a QR code on every page; ms per page and KiB per page. Last line
one JSON object.

    python bench/certificates.py [--count 1000] [--out certs.pdf]
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import print_figures  # noqa: E402
from certificates.render import DEFAULT_TEMPLATE, Certificate, render  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰"


def design(width: int = 1754, height: int = 1240) -> bytes:
    """A certificate design at 150 dpi: a cream ground, a guilloche-like border, corner ornaments and a faint
    seal, as a JPEG (what an organiser's designer would hand over)."""
    image = Image.new("RGB", (width, height), (251, 246, 232))
    draw = ImageDraw.Draw(image)
    for inset, colour, line in ((40, (160, 30, 30), 10), (62, (196, 150, 60), 4), (78, (160, 30, 30), 3)):
        draw.rectangle([inset, inset, width - inset, height - inset], outline=colour, width=line)
    for k in range(0, width - 200, 18):  # a wave along the top and bottom borders
        for y0 in (100, height - 100):
            x = 100 + k
            draw.arc([x, y0 - 12, x + 36, y0 + 12], 0 if y0 < 200 else 180, 180 if y0 < 200 else 360,
                     fill=(196, 150, 60), width=2)
    for cx, cy in ((140, 140), (width - 140, 140), (140, height - 140), (width - 140, height - 140)):
        for r in range(10, 60, 8):
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(196, 150, 60), width=2)
    cx, cy = width - 420, 330
    for a in range(0, 360, 6):  # a faint seal
        rad = math.radians(a)
        draw.line([cx, cy, cx + 150 * math.cos(rad), cy + 150 * math.sin(rad)], fill=(246, 228, 220), width=2)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    background = design()
    template = DEFAULT_TEMPLATE.with_background(background)
    awards = ("一等奖", "二等奖", "三等奖", "优胜奖")
    def name(n: int) -> str:
        return SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 3) % len(GIVEN)]

    certs = [Certificate(f"E1-SA{n % 33 + 1:02d}-{n:04d}", name(n),
                         f"重庆市第{n % 40 + 1}职业技术学校", "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛",
                         f"赛项{n % 33 + 1}", ("学生组", "职工组")[n % 2], awards[n % 4],
                         "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛组委会", date(2026, 12, 3),
                         f"http://127.0.0.1:8000/verify/E1-SA{n % 33 + 1:02d}-{n:04d}?s={n:016x}")
             for n in range(1, args.count + 1)]
    render(certs[:2], template)  # fonts registered and the code paths warm: measure the batch, not the start
    started = time.perf_counter()
    data = render(certs, template)
    elapsed = time.perf_counter() - started
    if args.out:
        args.out.write_bytes(data)
    print_figures({"certificates": args.count, "seconds": round(elapsed, 2),
                   "ms_per_page": round(elapsed * 1000 / args.count, 2),
                   "kib_per_page": round(len(data) / 1024 / args.count, 2), "pdf_kib": round(len(data) / 1024),
                   "background_kib": round(len(background) / 1024)})


if __name__ == "__main__":
    main()
