"""`contestday backup` / `contestday restore`: one .zip holding everything a contest needs to go on elsewhere.

The archive: `database/contestday.sqlite3` (SQLite's online backup: one moment's database while the server
writes) or `database/contestday.pgdump` (pg_dump, custom format), `keys/secret_key` and `keys/audit_key` (the
keys in effect, from the data directory or the environment: without the secret key every ID number is
unreadable and every certificate reads "not genuine"), the uploads (`photos/`, `certificates/`) and
`manifest.json` (contestday version, schema revision, when, database kind, rows per table, sha256 and size of
every member). Written under a temporary name and renamed when complete.

`restore` checks every checksum before it touches anything, refuses a target that holds data unless `force`
(and then first backs up what is there), puts the database, uploads and keys in place and upgrades the schema.
A SQLite archive goes into a SQLite database and a PostgreSQL one into PostgreSQL only."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath

from contestday.db.snapshot import (
    DUMP_NAMES,
    BackupError,
    Dump,
    Kind,
    dump_database,
)
from contestday.settings import AUDIT_KEY_FILE, SECRET_KEY_FILE, Settings

__all__ = ["BACKUP_DIR", "KEYS", "MANIFEST", "UPLOADS", "BackupError", "Manifest", "Progress", "backup", "key_source",
           "key_text", "new_backup_path", "stamp", "verify_archive"]

Progress = Callable[[str], None]
MANIFEST = "manifest.json"
FORMAT, FORMAT_VERSION = "contestday-backup", 1
UPLOADS = ("photos", "certificates")  # exports/ are job outputs made again on demand; backups/ are these archives
BACKUP_DIR = "backups"
KEYS = ((SECRET_KEY_FILE, "CONTESTDAY_SECRET_KEY"), (AUDIT_KEY_FILE, "CONTESTDAY_AUDIT_KEY"))
_STORED = {".jpg", ".jpeg", ".png", ".pgdump"}  # compressed already
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    contestday_version: str
    schema_revision: str | None
    created_at: str
    database: Kind
    database_file: str
    counts: dict[str, int]
    keys: dict[str, str]  # key file -> "file" | "environment" | "missing": where the backed-up key came from
    files: dict[str, dict[str, str | int]]  # member -> {"sha256", "size"}
    database_version: str | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def rows(self) -> int:
        return sum(n for table, n in self.counts.items() if table != "alembic_version")


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def new_backup_path(folder: Path, prefix: str) -> Path:
    """`folder/<prefix>-YYYYmmdd-HHMMSS.zip`, with `-1`, `-2`… when that second already has one: one past the
    highest there, so a name sorts after every earlier one of that second even when older ones were pruned (a
    name freed by pruning and taken again would sort first and be pruned at once)."""
    base = f"{prefix}-{stamp()}"
    taken = re.compile(re.escape(base) + r"(?:-(\d+))?\.zip")
    found = [int(m.group(1) or 0) for p in folder.glob(f"{base}*.zip") if (m := taken.fullmatch(p.name))]
    return folder / (f"{base}-{max(found) + 1}.zip" if found else f"{base}.zip")


def _quiet(_message: str) -> None:
    pass


def _version() -> str:
    try:
        return metadata.version("contestday")
    except metadata.PackageNotFoundError:
        return "unknown"


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def key_text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def key_source(value: str | None, path: Path) -> str:
    if value is None:
        return "missing"
    on_disk = path.read_text().strip() if path.is_file() else None
    return "file" if on_disk == value else "environment"


def _uploads(data_dir: Path) -> Iterator[tuple[Path, str]]:
    """(file, member name) of every upload; hidden files (half-written temporaries) left out."""
    for folder in UPLOADS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(data_dir)
            if path.is_file() and not path.is_symlink() and not any(p.startswith(".") for p in relative.parts):
                yield path, relative.as_posix()


class _Writer:
    """Members added one by one, each hashed as it is written."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive, self.files = archive, dict[str, dict[str, str | int]]()

    def add_file(self, path: Path, name: str) -> bool:
        try:
            source = path.open("rb")
        except FileNotFoundError:  # an upload removed since the folder was listed
            return False
        with source:
            self._add(name, iter(lambda: source.read(_CHUNK), b""))
        return True

    def add_bytes(self, data: bytes, name: str) -> None:
        self._add(name, iter([data]))

    def _add(self, name: str, chunks: Iterator[bytes]) -> None:
        info = zipfile.ZipInfo(name, datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED if PurePosixPath(name).suffix.lower() in _STORED \
            else zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        digest, size = hashlib.sha256(), 0
        with self.archive.open(info, "w", force_zip64=True) as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.files[name] = {"sha256": digest.hexdigest(), "size": size}


def _write_archive(part: Path, settings: Settings, dump: Dump, taken: datetime, say: Progress) -> Manifest:
    part.touch(0o600)  # the archive holds the keys and every contestant's personal data
    with zipfile.ZipFile(part, "w", allowZip64=True) as archive:
        members = _Writer(archive)
        database_file = f"database/{DUMP_NAMES[dump.kind]}"
        members.add_file(dump.path, database_file)
        keys: dict[str, str] = {}
        for name, value in ((SECRET_KEY_FILE, settings.secret_key), (AUDIT_KEY_FILE, settings.audit_key)):
            text = key_text(value)
            keys[name] = key_source(text, settings.data_dir / name)
            if text is not None:
                members.add_bytes(text.encode() + b"\n", f"keys/{name}")
        say("密钥 / keys: " + ", ".join(f"{k} ({v})" for k, v in keys.items()))
        uploads = sum(members.add_file(path, name) for path, name in _uploads(settings.data_dir))
        say(f"上传的文件 / uploads: {uploads}")
        manifest = Manifest(_version(), dump.revision, taken.isoformat(timespec="seconds"), dump.kind, database_file,
                            dump.counts, keys, members.files, dump.server_version)
        archive.writestr(MANIFEST, json.dumps(asdict(manifest), ensure_ascii=False, indent=1))
    with part.open("rb") as written:
        os.fsync(written.fileno())
    return manifest


def backup(settings: Settings, out_path: Path, progress: Progress | None = None, *, force: bool = False) -> Manifest:
    """Write the archive to `out_path` (refused when it exists, unless `force`); blocking, safe while the
    server runs and writes."""
    say = progress or _quiet
    out = Path(out_path)
    if out.exists() and not force:
        raise BackupError("backup_exists", f"{out} 已存在（要覆盖请加 --force）",
                          f"{out} exists (--force overwrites it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=settings.data_dir) as work:
            say("数据库 / database …")
            taken = datetime.now(UTC)
            dump = dump_database(settings.database_url, Path(work))
            rows = sum(n for t, n in dump.counts.items() if t != "alembic_version")
            say(f"数据库 / database: {_mib(dump.path.stat().st_size)}, {len(dump.counts)} 张表 / tables, "
                f"{rows} 行 / rows, 结构版本 / schema {dump.revision}")
            manifest = _write_archive(part, settings, dump, taken, say)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    say(f"完成 / done: {out} ({_mib(out.stat().st_size)})")
    return manifest


# --- reading an archive ---------------------------------------------------------------------------------------

def _corrupt(archive: Path, zh: str, en: str) -> BackupError:
    return BackupError("backup_corrupt", f"备份文件 {archive} 已损坏：{zh}", f"the backup {archive} is corrupt: {en}")


def _foreign(archive: Path, zh: str, en: str) -> BackupError:
    return BackupError("backup_foreign", f"{archive} 不是 contestday 的备份文件（{zh}）",
                       f"{archive} is not a contestday backup ({en})")


def _manifest(archive: Path, zipped: zipfile.ZipFile) -> Manifest:
    try:
        document = json.loads(zipped.read(MANIFEST))
    except KeyError:
        raise _foreign(archive, f"没有 {MANIFEST}", f"no {MANIFEST}") from None
    except zipfile.BadZipFile as exc:
        raise _corrupt(archive, f"{MANIFEST} 无法读取", f"{MANIFEST} unreadable: {exc}") from None
    except ValueError as exc:
        raise _foreign(archive, f"{MANIFEST} 不是 JSON", f"{MANIFEST} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _foreign(archive, f"{MANIFEST} 不是 contestday 的格式", f"{MANIFEST} is not contestday's")
    if not isinstance(document.get("format_version"), int) or document["format_version"] > FORMAT_VERSION:
        raise BackupError("backup_too_new", f"{archive} 由更新版本的 contestday 写出，请先升级软件",
                          f"{archive} was written by a newer contestday: upgrade the software first")
    known = {f.name for f in fields(Manifest)}  # a later minor version may add fields: they are left aside
    try:
        manifest = Manifest(**{k: v for k, v in document.items() if k in known})
    except TypeError as exc:
        raise _foreign(archive, f"{MANIFEST} 缺少字段", f"{MANIFEST} is incomplete: {exc}") from None
    if not (isinstance(manifest.files, dict) and all(isinstance(v, dict) for v in manifest.files.values())
            and isinstance(manifest.counts, dict) and manifest.database in DUMP_NAMES):
        raise _foreign(archive, f"{MANIFEST} 的内容不对", f"{MANIFEST} is malformed")
    return manifest


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name and path.parts[:1] != ("",)


def verify_archive(archive: Path, progress: Progress | None = None) -> Manifest:
    """The archive's manifest once every member is present, expected and of the checksum it lists."""
    say = progress or _quiet
    if not archive.is_file():
        raise BackupError("backup_not_found", f"备份文件 {archive} 不存在", f"the backup {archive} does not exist")
    if not zipfile.is_zipfile(archive):
        with archive.open("rb") as start:
            if start.read(4) == b"PK\x03\x04":  # a zip's first member, but no end: cut short
                raise _corrupt(archive, "文件不完整（被截断）", "it is cut short")
        raise _foreign(archive, "不是 zip 文件", "not a zip file")
    with zipfile.ZipFile(archive) as zipped:
        manifest = _manifest(archive, zipped)
        names = set(zipped.namelist()) - {MANIFEST}
        if manifest.database_file not in manifest.files:
            raise _corrupt(archive, "清单里没有数据库", "the manifest lists no database")
        unexpected = sorted(names - set(manifest.files))
        if unexpected:
            raise _corrupt(archive, f"清单之外的文件 {unexpected[0]}",
                           f"a file the manifest does not list: {unexpected[0]}")
        for name, expected in sorted(manifest.files.items()):
            if not _safe(name):
                raise _foreign(archive, f"不安全的路径 {name}", f"unsafe path {name}")
            if name not in names:
                raise _corrupt(archive, f"缺少 {name}", f"{name} is missing")
            digest = hashlib.sha256()
            try:
                with zipped.open(name) as member:
                    for chunk in iter(lambda: member.read(_CHUNK), b""):
                        digest.update(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise _corrupt(archive, f"{name} 无法读取（{exc}）", f"{name} unreadable ({exc})") from None
            if digest.hexdigest() != expected.get("sha256"):
                raise _corrupt(archive, f"{name} 的校验和不符", f"{name} does not match its checksum")
    say(f"校验和 / checksums: {len(manifest.files)} 个文件完好 / files intact "
        f"(contestday {manifest.contestday_version}, {manifest.created_at}, "
        f"结构版本 / schema {manifest.schema_revision})")
    return manifest

