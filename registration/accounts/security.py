"""Passwords (argon2), random tokens and their hashes, constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["ROLES", "hash_password", "hash_token", "new_token", "same", "sign", "unsign", "verify_password"]

# Roles of contestday; later issues give each its routes. Organiser manages events and accounts.
ROLES: dict[str, tuple[str, str]] = {
    "organiser": ("组委会/主办方", "organiser"),
    "chief_judge": ("裁判长", "chief judge"),
    "judge": ("裁判", "judge"),
    "encryption_judge": ("加密裁判", "encryption judge"),
    "checkin": ("检录人员", "check-in staff"),
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def sign(secret_key: str, payload: str) -> str:
    """`payload.signature`: an HMAC-SHA256 over the payload, URL-safe."""
    mac = hmac.new(secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{mac}"


def unsign(secret_key: str, token: str) -> str | None:
    """The payload of a token made by `sign`, or None when the signature is wrong."""
    payload = token.rpartition(".")[0]
    return payload if payload and same(sign(secret_key, payload), token) else None
