"""Settings from the environment (contracts §1); a `.env` file in the working directory may set them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
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


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read settings from `environ` (default os.environ) over a `.env` file in the working directory."""
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
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get(f"{_PREFIX}REDIS_URL") or None,
        admin_token=env.get(f"{_PREFIX}ADMIN_TOKEN") or None,
        secret_key=_secret_key(env, data_dir),
        log_level=(env.get(f"{_PREFIX}LOG_LEVEL") or "INFO").upper(),
        public_url=(env.get(f"{_PREFIX}PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        appeal_hours=int(env.get(f"{_PREFIX}APPEAL_HOURS") or 2),
    )
