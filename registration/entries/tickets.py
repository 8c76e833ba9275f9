"""Ticket codes: 26 characters from an alphabet without 0/O/1/I/L (31 symbols, 128.8 bits), drawn
from the operating system's CSPRNG. Typed codes are forgiving: case, spaces and dashes are ignored."""

from __future__ import annotations

import secrets

__all__ = ["ALPHABET", "CODE_LENGTH", "format_code", "new_ticket_code", "normalise_code"]

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 26  # 31**26 > 2**128


_SPACE = len(ALPHABET) ** CODE_LENGTH


def new_ticket_code() -> str:
    """One uniform draw below 31**26 written in base 31 (one call to the CSPRNG, not 26)."""
    n = secrets.randbelow(_SPACE)
    digits = []
    for _ in range(CODE_LENGTH):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    return "".join(digits)


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def format_code(code: str) -> str:
    """Groups of four, for reading aloud and typing: ABCD-EFGH-…"""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
