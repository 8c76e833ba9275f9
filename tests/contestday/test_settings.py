import errno
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from contestday import settings as settings_module
from contestday.settings import VARIABLES, Settings, SettingsError, check_data_dir, data_dir_state, load_settings


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


# --- bad settings are clear errors (issue #15, point 6) ----------------------------------------------------

def test_a_bad_value_names_the_variable_the_value_and_what_it_accepts(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), "CONTESTDAY_APPEAL_HOURS": "2h"}, dotenv=False)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == ("CONTESTDAY_APPEAL_HOURS=2h 无效：应为 0 到 720 之间的整数（小时） / "
                                 "CONTESTDAY_APPEAL_HOURS=2h is invalid: a whole number of hours from 0 to 720")


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    bad = {"CONTESTDAY_LOG_LEVEL": "verbose", "CONTESTDAY_APPEAL_HOURS": "721", "CONTESTDAY_PUBLIC_URL": "example.cn",
           "CONTESTDAY_PAGE_PROCESS": "maybe", "CONTESTDAY_BACKUP_MINUTES": "-5", "CONTESTDAY_BACKUP_KEEP": "0",
           "CONTESTDAY_FONT_PATH": str(tmp_path / "nowhere.ttf"), "CONTESTDAY_DATABASE_URL": "mysql://db/x",
           "CONTESTDAY_REDIS_URL": "localhost:6379", "CONTESTDAY_SQLITE_SYNCHRONOUS": "OFF",
           "CONTESTDAY_TRUSTED_PROXIES": "caddy"}
    with pytest.raises(SettingsError) as caught:
        load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), **bad}, dotenv=False)
    message = str(caught.value)
    assert message.startswith(f"{len(bad)} 项设置无效 / {len(bad)} settings are invalid:")
    assert len(caught.value.problems) == len(bad)
    for name, value in bad.items():
        line = next(line for line in message.splitlines() if line.startswith(f"{name}={value} 无效：应为"))
        assert f" / {name}={value} is invalid: " in line
    assert not (tmp_path / "secret_key").exists()  # nothing written before the values are good


def test_a_secret_is_not_repeated_in_the_message(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="至少 32 个字符") as caught:
        load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), "CONTESTDAY_AUDIT_KEY": "hunter2-hunter2"}, dotenv=False)
    assert "hunter2" not in str(caught.value) and "<15 characters>" in str(caught.value)


def test_good_values_are_normalised(tmp_path: Path) -> None:
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    s = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), "CONTESTDAY_LOG_LEVEL": " warning ",
                       "CONTESTDAY_PUBLIC_URL": "https://contest.example.cn/", "CONTESTDAY_APPEAL_HOURS": "720",
                       "CONTESTDAY_PAGE_PROCESS": "off", "CONTESTDAY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                       "CONTESTDAY_BACKUP_MINUTES": "15", "CONTESTDAY_BACKUP_KEEP": "1",
                       "CONTESTDAY_FONT_PATH": f"{font}#1", "CONTESTDAY_SQLITE_SYNCHRONOUS": "normal",
                       "CONTESTDAY_REDIS_URL": "rediss://cache:6380/1", "CONTESTDAY_LOG_LEVEL_UNRELATED": "x",
                       "CONTESTDAY_TRUSTED_PROXIES": " 172.28.0.0/16, 10.0.0.5 "},
                      dotenv=False, page_process=True)
    assert (s.log_level, s.public_url, s.appeal_hours, s.page_process) == ("WARNING", "https://contest.example.cn",
                                                                            720, False)
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/x.db" and s.redis_url == "rediss://cache:6380/1"
    assert (s.backup_minutes, s.backup_keep) == (15, 1)
    assert s.trusted_proxies == "172.28.0.0/16,10.0.0.5"  # as uvicorn's forwarded_allow_ips takes them
    d = load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path), "CONTESTDAY_APPEAL_HOURS": " ",
                       "CONTESTDAY_LOG_LEVEL": ""}, dotenv=False)  # blank is unset, as before
    assert (d.appeal_hours, d.log_level, d.public_url, d.backup_minutes, d.backup_keep, d.trusted_proxies) == (
        2, "INFO", None, 0, 24, "127.0.0.1")  # unset: the event page's address, else the loopback default


def test_the_table_fills_every_settings_field_and_says_everything_twice() -> None:
    filled = [v.field for v in VARIABLES if v.field is not None]
    assert sorted(filled) == sorted(f.name for f in fields(Settings))
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)
    for v in VARIABLES:
        assert v.name.startswith("CONTESTDAY_") and not v.name.startswith("CONTESTDAY_TEST_")
        assert all((v.default, v.accepts_zh, v.accepts_en, v.zh, v.en)), v.name
        assert re.search(r"[\u4e00-\u9fff]", v.zh + v.accepts_zh) and v.en.isascii(), v.name


REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("contestday", "scoring", "registration", "judging", "results", "kiosk", "certificates")


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    read = {name for package in PACKAGES for path in (REPO / package).rglob("*.py")
            for name in re.findall(r"CONTESTDAY_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))}
    assert "CONTESTDAY_FONT_PATH" in read and "CONTESTDAY_SQLITE_SYNCHRONOUS" in read  # the search works
    assert {name for name in read if not name.startswith("CONTESTDAY_TEST_")} <= {v.name for v in VARIABLES}


def test_the_readme_table_lists_exactly_the_models_variables_and_the_test_ones() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(CONTESTDAY_[A-Z_]+)` \|", section, flags=re.MULTILINE)
    assert len(listed) == len(set(listed)), "a variable listed twice"
    test_only = {name for name in listed if name.startswith("CONTESTDAY_TEST_")}
    assert test_only, "the table lost its test-only rows"
    assert set(listed) == {v.name for v in VARIABLES} | test_only
    used_in_tests = {name for path in (REPO / "tests").rglob("*.py")
                     for name in re.findall(r"CONTESTDAY_TEST_[A-Z_]+", path.read_text(encoding="utf-8"))}
    assert test_only <= used_in_tests  # no stale test-only row


# --- the data directory ------------------------------------------------------------------------------------

def test_a_data_dir_that_cannot_be_created_is_said_in_plain_words(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    where = tmp_path / "file" / "data"
    state = data_dir_state(where)
    assert state.state == "read_only" and "NotADirectoryError" in state.detail
    with pytest.raises(SettingsError) as caught:
        check_data_dir(where)
    assert str(caught.value).startswith(f"数据目录 {where} 不可写：NotADirectoryError")
    assert f" / the data directory {where} is not writable: NotADirectoryError" in str(caught.value)
    with pytest.raises(SettingsError, match="不可写"):  # the generated keys: no traceback either
        load_settings({"CONTESTDAY_DATA_DIR": str(where)}, dotenv=False)


def test_a_read_only_data_dir_is_said_in_plain_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = tmp_path / "ro"
    where.mkdir()
    assert data_dir_state(where).state == "ok"
    where.chmod(0o555)
    try:
        (where / "x").write_text("x")
    except PermissionError:
        pass  # an ordinary user: the mode bits refuse the probe itself
    else:  # root writes through 0o555: the probe's write fails as it would on a read-only mount
        (where / "x").unlink()

        def refuse(path: Any, *args: Any, **kwargs: Any) -> Any:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

        monkeypatch.setattr(settings_module, "open", refuse, raising=False)
    try:
        state = data_dir_state(where)
        assert state.state == "read_only" and state.free_mib is not None and state.free_mib > 0
        with pytest.raises(SettingsError, match=f"数据目录 {where} 不可写") as caught:
            check_data_dir(where)
        assert "is not writable" in str(caught.value)
        assert list(where.iterdir()) == []  # no probe left behind
    finally:
        where.chmod(0o755)


def test_a_full_data_dir_is_said_in_plain_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_data_dir(tmp_path) >= settings_module.MIN_FREE_MIB
    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 2**40)
    state = data_dir_state(tmp_path)
    assert state.state == "full" and state.free_mib is not None
    with pytest.raises(SettingsError) as caught:
        check_data_dir(tmp_path)
    assert str(caught.value).startswith(f"数据目录 {tmp_path} 所在磁盘仅剩 {state.free_mib} MiB")
    assert f"only {state.free_mib} MiB free" in str(caught.value)
    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 1)

    def no_space(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(settings_module, "open", no_space, raising=False)
    assert data_dir_state(tmp_path).state == "full"  # the disk said so even though statvfs did not


def test_the_app_factory_refuses_a_full_data_dir(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from contestday.app import create_app

    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 2**40)
    with pytest.raises(SettingsError, match="仅剩"):
        create_app(settings)


def test_the_server_entry_point_prints_the_message_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from contestday import asgi

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTESTDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONTESTDAY_APPEAL_HOURS", "2h")
    with pytest.raises(SystemExit) as caught:
        asgi.create()
    assert caught.value.code == 2
    assert "CONTESTDAY_APPEAL_HOURS=2h 无效" in capsys.readouterr().err


def test_demo_refuses_a_full_data_dir_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from contestday.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTESTDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(settings_module, "MIN_FREE_MIB", 2**40)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 2 and "仅剩" in result.output and "MiB free" in result.output
    assert not (tmp_path / "data" / "contestday.sqlite3").exists()  # stopped before the database
