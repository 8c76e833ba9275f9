"""Passwords (argon2), random tokens and their hashes, constant-time comparison, signed tokens.

argon2 costs ~150 ms of CPU by design: `check_password` runs it on its own `ARGON2_THREADS` worker
threads, at a lower CPU priority (nice +10, inherited by argon2's lane threads), so a flood of sign-ins
queues there instead of freezing the event loop (and every tablet on it), taking the shared worker threads
or starving the loop of CPU. An unknown or disabled name is checked against a dummy hash made at import, so
it costs the same as a known one and names cannot be found by timing.

Signed tokens name their purpose (`sign(key, "login-link", payload)`): the MAC covers purpose and
payload, so a token made for one use is refused for every other."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["ARGON2_THREADS", "ROLES", "check_password", "hash_password", "hash_token", "new_token", "same", "sign",
           "unsign", "unsign_unscoped", "verify_password"]

# Roles of contestday; later issues give each its routes. Organiser manages events and accounts.
ROLES: dict[str, tuple[str, str]] = {
    "organiser": ("组委会/主办方", "organiser"),
    "chief_judge": ("裁判长", "chief judge"),
    "judge": ("裁判", "judge"),
    "encryption_judge": ("加密裁判", "encryption judge"),
    "checkin": ("检录人员", "check-in staff"),
}

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))  # same parameters as real hashes, so the same cost
# Two cores here: two argon2 threads keep sign-ins moving and leave the event loop a core.
ARGON2_THREADS = 2


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # Linux: PRIO_PROCESS with a thread id sets its nice
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


_POOL = ThreadPoolExecutor(ARGON2_THREADS, thread_name_prefix="argon2", initializer=_lower_priority)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Blocking: on the event loop use `check_password`. No hash (unknown or disabled account) still pays
    for one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def check_password(password_hash: str | None, password: str) -> bool:
    """`verify_password` on the argon2 threads, at most ARGON2_THREADS at once; the rest wait in line."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_password, password_hash, password)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


_PURPOSE = re.compile(r"[a-z][a-z0-9-]*")


def sign(secret_key: str, purpose: str, payload: str) -> str:
    """`payload.signature`: an HMAC-SHA256 over purpose and payload, URL-safe. The purpose has no newline
    (checked), so purpose + payload splits one way only."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"bad token purpose {purpose!r}")
    mac = _mac(secret_key, f"{purpose}\n{payload}")
    return f"{payload}.{mac}"


def _mac(secret_key: str, message: str) -> str:
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def unsign(secret_key: str, purpose: str, token: str) -> str | None:
    """The payload of a token made by `sign` for this purpose, or None when the signature is wrong."""
    payload = token.rpartition(".")[0]
    return payload if payload and same(sign(secret_key, purpose, payload), token) else None


def unsign_unscoped(secret_key: str, token: str, payload_pattern: str) -> str | None:
    """The payload of a token signed before tokens named their purpose (an HMAC over the payload alone), or
    None. Only for payloads of one fixed form (`payload_pattern`) that no other token ever had, so that what
    was printed then keeps working without letting one use's token stand for another's."""
    payload = token.rpartition(".")[0]
    if not re.fullmatch(payload_pattern, payload):
        return None
    return payload if same(f"{payload}.{_mac(secret_key, payload)}", token) else None
