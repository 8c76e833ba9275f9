"""Settings from the environment (contracts §1); a `.env` file in the working directory may set them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

__all__ = ["Settings", "load_settings"]

_PREFIX = "CONTESTDAY_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    admin_token: str | None
    secret_key: str
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8000"
    appeal_hours: int = 2  # contestants appeal until this many hours after the item ends (its scores locked)
    # the heaviest read-only pages answered by a second, lower-priority process (contestday/web/page_process.py)
    page_process: bool = False
    # the audit chain's HMAC key: never in the database, so whoever can write the database cannot re-sign it
    audit_key: bytes | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def describe(self) -> dict[str, str]:
        """What the settings are, safe to log: secrets never appear."""
        url = self.database_url
        if "@" in url:  # hide the password of a server URL
            scheme, rest = url.split("://", 1)
            url = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        return {
            "data_dir": str(self.data_dir),
            "database_url": url,
            "redis_url": "set" if self.redis_url else "unset (in-process)",
            "admin_token": "set" if self.admin_token else "unset",
            "audit_key": "set" if self.audit_key else "missing",
        }


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """The configured key, else one generated once and kept in the data dir (sessions survive restarts)."""
    if env.get(f"{_PREFIX}SECRET_KEY"):
        return env[f"{_PREFIX}SECRET_KEY"]
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


AUDIT_KEY_FILE = "audit_key"
_MIN_AUDIT_KEY = 32


def _audit_key(env: Mapping[str, str], data_dir: Path, create: bool) -> bytes | None:
    """`CONTESTDAY_AUDIT_KEY`, else `data_dir/audit_key`, made once (0600) on the first start when `create`.
    Several instances on one PostgreSQL database must all be given the same key."""
    given = env.get(f"{_PREFIX}AUDIT_KEY")
    if given:
        if len(given.strip()) < _MIN_AUDIT_KEY:
            raise ValueError(f"{_PREFIX}AUDIT_KEY 太短：至少 {_MIN_AUDIT_KEY} 个字符 / "
                             f"{_PREFIX}AUDIT_KEY is too short: at least {_MIN_AUDIT_KEY} characters")
        return given.strip().encode()
    path = data_dir / AUDIT_KEY_FILE
    if not path.exists():
        if not create:
            return None
        data_dir.mkdir(parents=True, exist_ok=True)
        # written whole under another name, then linked into place: several workers starting at once all
        # end up reading the one key that won, never a half-written file
        tmp = data_dir / f".{AUDIT_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if len(key) < _MIN_AUDIT_KEY:
        raise ValueError(f"{path} 中的审计密钥太短或为空 / the audit key in {path} is empty or too short")
    return key.encode()


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{_PREFIX}PAGE_PROCESS 应为 1 或 0 / {_PREFIX}PAGE_PROCESS must be 1 or 0, not {value!r}")


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True,
                  create_audit_key: bool = True, page_process: bool = False) -> Settings:
    """Read settings from `environ` (default os.environ) over a `.env` file in the working directory. The composition
    root hands the audit key to `judging.audit.use_key` (one instance per process); `create_audit_key`
    False (for `audit verify`) leaves a missing key missing instead of making a new one. `page_process` is
    the default of `CONTESTDAY_PAGE_PROCESS` (the server's entry point turns it on; tests build the app in
    one process)."""
    env: dict[str, str] = {}
    if dotenv and Path(".env").exists():
        env.update({k: v for k, v in dotenv_values(".env").items() if v is not None})
    env.update(os.environ if environ is None else environ)
    data_dir = Path(env.get(f"{_PREFIX}DATA_DIR") or "./var").resolve()
    database_url = env.get(f"{_PREFIX}DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
    if database_url.startswith("sqlite:///"):
        database_url = "sqlite+aiosqlite:///" + database_url.removeprefix("sqlite:///")
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get(f"{_PREFIX}REDIS_URL") or None,
        admin_token=env.get(f"{_PREFIX}ADMIN_TOKEN") or None,
        secret_key=_secret_key(env, data_dir),
        log_level=(env.get(f"{_PREFIX}LOG_LEVEL") or "INFO").upper(),
        public_url=(env.get(f"{_PREFIX}PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        appeal_hours=int(env.get(f"{_PREFIX}APPEAL_HOURS") or 2),
        audit_key=_audit_key(env, data_dir, create_audit_key),
        page_process=_flag(env.get(f"{_PREFIX}PAGE_PROCESS"), page_process),
    )
    return settings
