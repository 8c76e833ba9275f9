from pathlib import Path

import pytest

from contestday.settings import load_settings


def test_defaults_put_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    s = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path)}, dotenv=False)
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'contestday.sqlite3'}"
    assert s.is_sqlite and s.redis_url is None and s.admin_token is None


def test_generated_secret_key_is_kept_between_starts(tmp_path: Path) -> None:
    first = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path)}, dotenv=False).secret_key
    second = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path)}, dotenv=False).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_and_postgres_url_is_made_async(tmp_path: Path) -> None:
    s = load_settings({
        "CONTESTDAY_DATA_DIR": str(tmp_path),
        "CONTESTDAY_DATABASE_URL": "postgresql://u:secretpw@db:5432/contest",
        "CONTESTDAY_REDIS_URL": "redis://r:6379/0",
        "CONTESTDAY_ADMIN_TOKEN": "t0k",
        "CONTESTDAY_SECRET_KEY": "k" * 40,
    }, dotenv=False)
    assert s.database_url == "postgresql+asyncpg://u:secretpw@db:5432/contest"
    assert (s.redis_url, s.admin_token, s.secret_key) == ("redis://r:6379/0", "t0k", "k" * 40)
    described = s.describe()
    assert "secretpw" not in str(described) and "t0k" not in str(described)


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CONTESTDAY_ADMIN_TOKEN=from-file\nCONTESTDAY_REDIS_URL=redis://file\n")
    s = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), "CONTESTDAY_REDIS_URL": "redis://env"})
    assert s.admin_token == "from-file" and s.redis_url == "redis://env"
