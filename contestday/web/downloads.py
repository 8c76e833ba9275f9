"""Files for the browser: one way to name a download (Chinese names, an ASCII fallback)."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response

__all__ = ["download"]


def download(data: bytes, filename: str, media_type: str, *, inline: bool = False, ascii_stem: str = "download",
             no_store: bool = False) -> Response[bytes]:
    """A file for the browser. RFC 6266: an ASCII fallback name (`ascii_stem` + the extension) plus the UTF-8
    Chinese one; `inline` opens it in the browser (PDFs), `no_store` keeps personal data out of caches."""
    kind = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f"{kind}; filename=\"{ascii_stem}.{filename.rsplit('.', 1)[-1]}\"; "
                                      f"filename*=UTF-8''{quote(filename)}"}
    if no_store:
        headers["Cache-Control"] = "no-store"
    return Response(data, media_type=media_type, headers=headers)
