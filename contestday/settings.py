"""Settings from the environment (contracts §1); a `.env` file in the working directory may set them.

`VARIABLES` is the one table of every `CONTESTDAY_` variable: its name, type, default, what it accepts and
what it does, in Chinese and English. `load_settings` parses and checks each against it; every bad value is
reported at once in one `SettingsError` naming the variable, the value and what it accepts. A few variables
(`CONTESTDAY_FONT_PATH`, `CONTESTDAY_SQLITE_SYNCHRONOUS`, `CONTESTDAY_NEW_PASSWORD`) are read where they are
used; the table lists and checks them all the same, so a bad one stops the start, not the first PDF."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

__all__ = ["AUDIT_KEY_FILE", "DEFAULT_PUBLIC_URL", "MIN_FREE_MIB", "SECRET_KEY_FILE", "VARIABLES", "DataDirState",
           "Settings", "SettingsError", "Variable", "check_data_dir", "data_dir_state", "load_settings",
           "parse_environment"]

_PREFIX = "CONTESTDAY_"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    admin_token: str | None
    secret_key: str
    log_level: str = "INFO"
    # CONTESTDAY_PUBLIC_URL (environment or .env): fixes the address QR codes carry, the event page cannot change
    # it; None: the address set on the event page, else DEFAULT_PUBLIC_URL (contestday/web/public_address.py)
    public_url: str | None = None
    allow_loopback_qr: bool = False  # print QR codes of a loopback address all the same (tests, a one-machine demo)
    appeal_hours: int = 2  # contestants appeal until this many hours after the item ends (its scores locked)
    # the heaviest read-only pages answered by a second, lower-priority process (contestday/web/page_process.py)
    page_process: bool = False
    # the audit chain's HMAC key: never in the database, so whoever can write the database cannot re-sign it
    audit_key: bytes | None = field(default=None, repr=False)
    backup_minutes: int = 0  # a backup of the database every this many minutes; 0: none
    backup_keep: int = 24  # how many periodic backups are kept
    # the reverse proxies whose X-Forwarded-For names the client (sign-in limits count per client address)
    trusted_proxies: str = "127.0.0.1"
    export_keep_hours: int = 24  # a finished background job's file (lists ZIP, certificates PDF) is kept this long

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


class SettingsError(ValueError):
    """One or more bad settings: each problem `(zh, en)`; the message has one line per problem, Chinese first."""

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        lines = [f"{zh} / {en}" for zh, en in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{len(lines)} 项设置无效 / {len(lines)} settings are invalid:")
        super().__init__("\n".join(lines))


# --- what each variable accepts: a parser raises ValueError for a bad value ---------------------------------

def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]+", value.strip()):
            raise ValueError(value)
        number = int(value.strip())
        if number < low or (high is not None and number > high):
            raise ValueError(value)
        return number
    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip().upper() not in choices:
            raise ValueError(value)
        return value.strip().upper()
    return parse


def _flag(value: str) -> bool:
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - a bad port raises here
        except ValueError:
            raise ValueError(value) from None
        if parts.scheme.lower() not in schemes or not parts.hostname:
            raise ValueError(value)
        return value.strip()
    return parse


def _public_url(value: str) -> str:
    return _url(("http", "https"))(value).rstrip("/")


def _database_url(value: str) -> str:
    url = value.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if scheme == "sqlite":
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    if scheme in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        return url
    raise ValueError(value)


def _redis_url(value: str) -> str:
    if value.strip().lower().startswith("unix://"):
        return value.strip()
    return _url(("redis", "rediss"))(value)


def _proxies(value: str) -> str:
    """A comma-separated list of addresses or networks (192.168.1.10, 172.28.0.0/16), or * for any."""
    import ipaddress

    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise ValueError(value)
    for part in parts:
        if part != "*":
            ipaddress.ip_network(part, strict=False)  # ValueError on anything else
    return ",".join(parts)


_MIN_AUDIT_KEY = 32


def _audit_key_text(value: str) -> bytes:
    if len(value.strip()) < _MIN_AUDIT_KEY:
        raise ValueError("too short")
    return value.strip().encode()


def _font_path(value: str) -> str:
    path, _, sub = value.strip().partition("#")
    if not Path(path).is_file() or (sub and not sub.isdigit()):
        raise ValueError(value)
    return value.strip()


def _text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Variable:
    """One environment variable: `field` is the Settings field it fills (None: read where it is used)."""

    name: str
    type: type
    default: str
    accepts_zh: str
    accepts_en: str
    zh: str
    en: str
    parse: Callable[[str], Any] = _text
    field: str | None = None
    secret: bool = False  # a bad value is not repeated in the message

    def problem(self, value: str) -> tuple[str, str]:
        shown = f"<{len(value)} 个字符>" if self.secret else value
        shown_en = f"<{len(value)} characters>" if self.secret else value
        space = " " if self.accepts_zh[:1].isascii() else ""  # 应为 0 到 720…, 应为目录路径
        return (f"{self.name}={shown} 无效：应为{space}{self.accepts_zh}",
                f"{self.name}={shown_en} is invalid: {self.accepts_en}")


VARIABLES: tuple[Variable, ...] = (
    Variable(f"{_PREFIX}DATA_DIR", Path, "./var", "目录路径", "a directory path",
             "SQLite 文件、生成的密钥和上传文件所在的目录",
             "where the SQLite file, the generated keys and uploads live",
             lambda v: Path(v).resolve(), "data_dir"),
    Variable(f"{_PREFIX}DATABASE_URL", str, "sqlite+aiosqlite:///$DATA_DIR/contestday.sqlite3",
             "sqlite:///路径 或 postgresql://用户:密码@主机/库", "sqlite:///PATH or postgresql://user:pw@host/db",
             "数据库地址（postgresql:// 转为 postgresql+asyncpg://）",
             "the database (postgresql:// is made postgresql+asyncpg://)", _database_url, "database_url"),
    Variable(f"{_PREFIX}REDIS_URL", str, "unset: in-process fan-out", "redis://主机:端口/库",
             "redis://host:port/db (or rediss://, unix://)",
             "多个实例之间转发实时消息（serve --workers N>1 时必需）",
             "live updates across instances (required for serve --workers N>1)", _redis_url, "redis_url"),
    Variable(f"{_PREFIX}ADMIN_TOKEN", str, "unset", "任意文本", "any text",
             "组织者角色的 Bearer 令牌，供脚本使用", "a bearer token with the organiser role, for scripts",
             field="admin_token", secret=True),
    Variable(f"{_PREFIX}SECRET_KEY", str, "generated once into $DATA_DIR/secret_key", "任意文本", "any text",
             "签署参赛凭证、裁判链接、登录链接和证书编号",
             "signs tickets, judge links, sign-in links and certificate codes",
             field="secret_key", secret=True),
    Variable(f"{_PREFIX}AUDIT_KEY", bytes, "generated once into $DATA_DIR/audit_key (0600)",
             f"至少 {_MIN_AUDIT_KEY} 个字符（太短的密钥不能保护审计链）",
             f"at least {_MIN_AUDIT_KEY} characters (too short a key does not protect the audit chain)",
             "审计链 HMAC 的密钥；多个实例必须相同", "keys the audit chain's HMAC; several instances must share it",
             _audit_key_text, "audit_key", secret=True),
    Variable(f"{_PREFIX}PAGE_PROCESS", bool, "1 for contestday serve / demo",
             "1 或 0（也可写 true/false、yes/no、on/off）", "1 or 0 (or true/false, yes/no, on/off)",
             "0：所有页面都由服务进程本身回答（不启动页面进程）",
             "0: answer every page in the server process itself (no page process)", _flag, "page_process"),
    Variable(f"{_PREFIX}LOG_LEVEL", str, "INFO", "DEBUG、INFO、WARNING、ERROR 或 CRITICAL（不分大小写）",
             "DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)",
             "标准错误输出上 JSON 日志的级别；日志中从不出现个人信息",
             "the level of the JSON log lines on stderr; never personal data",
             _one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "log_level"),
    Variable(f"{_PREFIX}PUBLIC_URL", str, "unset: set on the event page, else http://127.0.0.1:8000",
             "带主机名的 http:// 或 https:// 地址", "an http:// or https:// URL with a host",
             "服务的公开地址：登录链接和二维码以它开头（去掉末尾的 /）；设置后赛事页面不能再修改",
             "the server's public address: sign-in links and QR codes start with it (trailing / removed); "
             "when set, the event page cannot change it", _public_url, "public_url"),
    Variable(f"{_PREFIX}ALLOW_LOOPBACK_QR", bool, "0", "1 或 0（也可写 true/false、yes/no、on/off）",
             "1 or 0 (or true/false, yes/no, on/off)",
             "1：公开地址是本机回环地址（127.0.0.1、localhost）时也照样打印海报、凭证和证书（仅供测试和单机演示）",
             "1: print posters, tickets and certificates even while the public address is loopback "
             "(127.0.0.1, localhost): for tests and a one-machine demo only", _flag, "allow_loopback_qr"),
    Variable(f"{_PREFIX}APPEAL_HOURS", int, "2", "0 到 720 之间的整数（小时）", "a whole number of hours from 0 to 720",
             "赛项结束（成绩锁定）后可提出申诉的小时数",
             "hours after an item ends (its scores locked) during which contestants may appeal",
             _whole(0, 720), "appeal_hours"),
    Variable(f"{_PREFIX}BACKUP_MINUTES", int, "0", "不小于 0 的整数（分钟）", "a whole number of minutes, 0 or more",
             "每隔多少分钟自动备份数据库；0 表示不定期备份",
             "back the database up every this many minutes; 0: no periodic backups", _whole(0), "backup_minutes"),
    Variable(f"{_PREFIX}BACKUP_KEEP", int, "24", "不小于 1 的整数", "a whole number, 1 or more",
             "保留的定期备份份数", "how many periodic backups are kept", _whole(1), "backup_keep"),
    Variable(f"{_PREFIX}TRUSTED_PROXIES", str, "127.0.0.1", "IP 地址或网段，用逗号分隔（如 172.28.0.0/16），或 *",
             "IP addresses or networks, comma-separated (e.g. 172.28.0.0/16), or *",
             "反向代理的地址：来自这些地址的连接，以 X-Forwarded-For 中的地址作为客户端地址（登录次数限制按它计数）",
             "the reverse proxies: for connections from them the client address (which sign-in limits count) "
             "is the one in X-Forwarded-For", _proxies, "trusted_proxies"),
    Variable(f"{_PREFIX}EXPORT_KEEP_HOURS", int, "24", "1 到 720 之间的整数（小时）",
             "a whole number of hours from 1 to 720",
             "后台生成的文件（全部名单 ZIP、荣誉证书 PDF）完成后保留的小时数，之后删除，需重新生成",
             "hours a file made in the background (every list as a ZIP, a batch of certificates) is kept once "
             "finished; then it is deleted and has to be made again", _whole(1, 720), "export_keep_hours"),
    Variable(f"{_PREFIX}FONT_PATH", str, "unset: WenQuanYi Zen Hei or AR PL UMing",
             "存在的 TrueType 字体文件（.ttf/.ttc，可加 #n 选子字体）",
             "an existing TrueType font file (.ttf/.ttc, #n picks sub-font n)",
             "所有 PDF 使用的中文字体（由 contestday/pdf/fonts.py 从环境变量读取）",
             "the CJK font of every PDF (read from the environment by contestday/pdf/fonts.py)", _font_path),
    Variable(f"{_PREFIX}SQLITE_SYNCHRONOUS", str, "FULL", "FULL、NORMAL 或 EXTRA", "FULL, NORMAL or EXTRA",
             "SQLite 的 PRAGMA synchronous；NORMAL 仅供基准测试（断电会丢失已确认的写入）；"
             "由 contestday/db/engine.py 从环境变量读取",
             "SQLite's PRAGMA synchronous; NORMAL is for the benchmark only (a power cut loses acknowledged "
             "writes); read from the environment by contestday/db/engine.py", _one_of("FULL", "NORMAL", "EXTRA")),
    Variable(f"{_PREFIX}NEW_PASSWORD", str, "unset: asked", "任意文本（user add 要求至少 8 个字符）",
             "any text (user add requires at least 8 characters)",
             "contestday user add 的密码（不提示输入）", "the password for contestday user add (instead of the prompt)",
             secret=True),
)


# --- the data directory -----------------------------------------------------------------------------------

MIN_FREE_MIB = 100  # below this the data directory counts as full (tests lower or raise it)
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


@dataclass(frozen=True)
class DataDirState:
    state: Literal["ok", "read_only", "full"]
    free_mib: int | None
    detail: str = ""

    def problem(self, data_dir: Path) -> tuple[str, str] | None:
        if self.state == "read_only":
            return _not_writable(data_dir, self.detail)
        if self.state == "full":
            zh, en = (f"：{self.detail}", f": {self.detail}") if self.detail else ("", "")
            return (f"数据目录 {data_dir} 所在磁盘仅剩 {self.free_mib} MiB（至少需要 {MIN_FREE_MIB} MiB）{zh}",
                    f"only {self.free_mib} MiB free on the disk of the data directory {data_dir} "
                    f"(at least {MIN_FREE_MIB} MiB needed){en}")
        return None


def _not_writable(data_dir: Path, detail: str) -> tuple[str, str]:
    return (f"数据目录 {data_dir} 不可写：{detail}", f"the data directory {data_dir} is not writable: {detail}")


def _write_probe(data_dir: Path) -> None:
    probe = data_dir / f".probe.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        with open(probe, "wb") as out:
            out.write(b"contestday write probe\n")
    finally:
        probe.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def data_dir_state(data_dir: Path) -> DataDirState:
    """Whether the data directory can be created and written (a small probe file written and removed) and has
    at least `MIN_FREE_MIB` free."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(data_dir).free // 2**20
    except OSError as exc:
        return DataDirState("read_only", None, _reason(exc))
    try:
        _write_probe(data_dir)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            return DataDirState("full", free, _reason(exc))
        return DataDirState("read_only", free, _reason(exc))
    return DataDirState("full", free) if free < MIN_FREE_MIB else DataDirState("ok", free)


def check_data_dir(data_dir: Path) -> int:
    """At start-up: the free MiB of the data directory, or a SettingsError saying in plain words that it
    cannot be written or its disk is full."""
    found = data_dir_state(data_dir)
    problem = found.problem(data_dir)
    if problem is not None:
        raise SettingsError([problem])
    assert found.free_mib is not None
    return found.free_mib


# --- the keys kept in the data directory ------------------------------------------------------------------

def _unwritable(data_dir: Path, exc: OSError) -> SettingsError:
    return SettingsError([_not_writable(data_dir, _reason(exc))])


SECRET_KEY_FILE = "secret_key"


def _secret_key(given: str | None, data_dir: Path) -> str:
    """The configured key, else one generated once and kept in the data dir (sessions survive restarts)."""
    if given:
        return given
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
    except OSError as exc:
        raise _unwritable(data_dir, exc) from exc
    return key


AUDIT_KEY_FILE = "audit_key"


def _audit_key(given: bytes | None, data_dir: Path, create: bool) -> bytes | None:
    """`CONTESTDAY_AUDIT_KEY`, else `data_dir/audit_key`, made once (0600) on the first start when `create`.
    Several instances on one PostgreSQL database must all be given the same key."""
    if given:
        return given
    path = data_dir / AUDIT_KEY_FILE
    if not path.exists():
        if not create:
            return None
        try:
            _make_audit_key(data_dir, path)
        except OSError as exc:
            raise _unwritable(data_dir, exc) from exc
    key = path.read_text().strip()
    if len(key) < _MIN_AUDIT_KEY:
        raise SettingsError([(f"{path} 中的审计密钥太短或为空", f"the audit key in {path} is empty or too short")])
    return key.encode()


def _make_audit_key(data_dir: Path, path: Path) -> None:
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


def parse_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """Every variable of `VARIABLES` set (not blank) in `env`, parsed, by name; a SettingsError listing every
    bad value."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for variable in VARIABLES:
        raw = env.get(variable.name)
        if raw is None or not raw.strip():
            continue
        try:
            values[variable.name] = variable.parse(raw)
        except ValueError:
            problems.append(variable.problem(raw))
    if problems:
        raise SettingsError(problems)
    return values


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True,
                  create_audit_key: bool = True, page_process: bool = False) -> Settings:
    """Read settings from `environ` (default os.environ) over a `.env` file in the working directory. The composition
    root hands the audit key to `judging.audit.use_key` (one instance per process); `create_audit_key`
    False (for `audit verify`) leaves a missing key missing instead of making a new one. `page_process` is
    the default of `CONTESTDAY_PAGE_PROCESS` (the server's entry point turns it on; tests build the app in
    one process). A bad value raises SettingsError."""
    env: dict[str, str] = {}
    if dotenv and Path(".env").exists():
        env.update({k: v for k, v in dotenv_values(".env").items() if v is not None})
    env.update(os.environ if environ is None else environ)
    values = parse_environment(env)
    fields = {v.field: values[v.name] for v in VARIABLES if v.field is not None and v.name in values}
    data_dir: Path = fields.pop("data_dir", None) or Path("./var").resolve()
    fields.setdefault("database_url", f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}")
    fields.setdefault("page_process", page_process)
    fields["secret_key"] = _secret_key(fields.get("secret_key"), data_dir)
    fields["audit_key"] = _audit_key(fields.get("audit_key"), data_dir, create_audit_key)
    return Settings(data_dir=data_dir, redis_url=fields.pop("redis_url", None),
                    admin_token=fields.pop("admin_token", None), **fields)
