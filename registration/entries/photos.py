"""Contestant photos: what a phone uploads is untrusted bytes. The type is sniffed from the bytes (never
the file name or the declared content type), decoded by Pillow under a pixel limit (decompression
bombs), turned upright by its EXIF orientation and re-encoded as a plain JPEG without metadata (no GPS
position of the contestant's home leaks into exports)."""

from __future__ import annotations

import base64
import binascii
import io
import os
import warnings
from pathlib import Path

from PIL import Image, ImageOps

__all__ = ["MAX_BYTES", "MAX_SIDE", "PhotoError", "decode_base64", "photo_path", "prepare_photo", "sniff",
           "store_photo"]

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 6000  # of the upload
OUT_SIDE = 1200  # long side stored
QUALITY = 85
# Pillow refuses (DecompressionBombError) above twice this and warns above it: we turn the warning into
# a refusal too, so nothing beyond 6000 × 6000 is ever decoded.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE


class PhotoError(ValueError):
    def __init__(self, reason: str, zh: str, en: str):
        super().__init__(en)
        self.reason, self.zh, self.en = reason, zh, en


def sniff(data: bytes) -> str | None:
    """'jpeg' or 'png' by the magic bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def prepare_photo(data: bytes) -> bytes:
    """The JPEG to store, or PhotoError saying (in Chinese) what is wrong with the upload."""
    if len(data) > MAX_BYTES:
        raise PhotoError("too_large", "照片文件不能超过 5 MB", "the photo must be at most 5 MB")
    kind = sniff(data)
    if kind is None:
        raise PhotoError("not_an_image", "照片只能是 JPEG 或 PNG 图片", "the photo must be a JPEG or PNG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind.upper()]) as img:
                if img.width > MAX_SIDE or img.height > MAX_SIDE:
                    raise PhotoError("too_many_pixels", f"照片尺寸不能超过 {MAX_SIDE}×{MAX_SIDE} 像素",
                                     f"the photo must be at most {MAX_SIDE}×{MAX_SIDE} pixels")
                img.load()
                upright = ImageOps.exif_transpose(img)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError("too_many_pixels", f"照片尺寸不能超过 {MAX_SIDE}×{MAX_SIDE} 像素",
                         f"the photo must be at most {MAX_SIDE}×{MAX_SIDE} pixels") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt image data
        raise PhotoError("unreadable", "照片文件已损坏或无法识别，请重新拍摄或选择",
                         "the photo cannot be read") from exc
    if upright.mode in ("RGBA", "LA", "P", "PA"):  # flatten transparency on white, not black
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    upright.thumbnail((OUT_SIDE, OUT_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=QUALITY, optimize=True)  # no exif= / icc_profile=: no metadata
    return out.getvalue()


def decode_base64(text: str) -> bytes:
    """The bytes of the API's `photo`: base64, optionally as a data URL ("data:image/jpeg;base64,…")."""
    if len(text) > MAX_BYTES * 4 // 3 + 200:
        raise PhotoError("too_large", "照片文件不能超过 5 MB", "the photo must be at most 5 MB")
    _, comma, rest = text.partition(",")
    try:
        return base64.b64decode(rest if comma and text.startswith("data:") else text, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoError("not_base64", "照片应为 base64 编码的 JPEG 或 PNG", "the photo must be base64") from None


def photo_path(data_dir: Path, filename: str) -> Path:
    return data_dir / "photos" / filename


def store_photo(data_dir: Path, entry_id: int, position: int, jpeg: bytes) -> str:
    """Write `{entry_id}-{position}.jpg` atomically (temp file, then rename); return the file name."""
    folder = data_dir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{entry_id}-{position}.jpg"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(jpeg)
    os.replace(tmp, folder / name)
    return name
