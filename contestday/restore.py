"""`contestday restore`: an archive of contestday/backup.py put back into this data directory and database.

Every checksum is checked before anything is touched. A target that holds data (any row beyond the schema
revision, or any upload) is refused unless `force`, and with `force` backed up first into `DATA_DIR/backups/`.
Then the database (its row counts compared with the manifest's), the uploads (swapped in whole) and the keys go
in place, and the schema is upgraded to this software's (an archive from an older version is upgraded; one from
a newer version is refused before anything changes)."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from contestday.backup import (
    BACKUP_DIR,
    KEYS,
    UPLOADS,
    BackupError,
    Manifest,
    Progress,
    backup,
    key_source,
    key_text,
    new_backup_path,
    verify_archive,
)
from contestday.db.migrate import known_revision, upgrade
from contestday.db.snapshot import database_kind, inspect_database, load_database
from contestday.settings import Settings

__all__ = ["Holdings", "Restored", "holdings", "restore"]

_CHUNK = 1 << 20
# what a key that differs from the backup's breaks
_BREAKS = {"CONTESTDAY_SECRET_KEY": ("身份证号无法解密，证书扫码显示“二维码签名不符”，已发出的裁判链接和凭证失效",
                                     "ID numbers cannot be decrypted, every certificate reads \"not genuine\", "
                                     "judge links and tickets stop working"),
           "CONTESTDAY_AUDIT_KEY": ("contestday audit verify 报告“密钥不符”",
                                    "contestday audit verify reports the wrong key")}


@dataclass(frozen=True)
class Holdings:
    """What the target holds now: rows beyond the schema revision, events among them, upload files."""

    rows: int = 0
    events: int = 0
    uploads: int = 0

    @property
    def empty(self) -> bool:
        return self.rows == 0 and self.uploads == 0


@dataclass
class Restored:
    manifest: Manifest
    revision: str | None = None  # the schema after the upgrade
    previous_backup: Path | None = None  # with force: what the target held, backed up first
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _quiet(_message: str) -> None:
    pass


def holdings(settings: Settings) -> Holdings:
    found = inspect_database(settings.database_url)
    counts = found[1] if found else {}
    uploads = sum(1 for folder in UPLOADS if (settings.data_dir / folder).is_dir()
                  for path in (settings.data_dir / folder).rglob("*") if path.is_file())
    return Holdings(sum(n for table, n in counts.items() if table != "alembic_version"), counts.get("event", 0),
                    uploads)


def _check_fits(settings: Settings, archive: Path, manifest: Manifest) -> None:
    kind = database_kind(settings.database_url)
    if manifest.database != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError("restore_kind_mismatch",
                          f"{archive} 是 {names[manifest.database]} 数据库的备份，而 CONTESTDAY_DATABASE_URL 指向 "
                          f"{names[kind]}：只能恢复到同一种数据库",
                          f"{archive} is a backup of a {names[manifest.database]} database but CONTESTDAY_DATABASE_URL "
                          f"is {names[kind]}: a backup restores into the same kind of database only")
    if manifest.schema_revision is not None and not known_revision(manifest.schema_revision):
        raise BackupError("backup_too_new",
                          f"{archive} 的数据库结构版本 {manifest.schema_revision} 比本软件新：请先安装 "
                          f"contestday {manifest.contestday_version} 或更新的版本",
                          f"{archive} holds schema revision {manifest.schema_revision}, newer than this software's: "
                          f"install contestday {manifest.contestday_version} or later first")


def _extract(archive: Path, manifest: Manifest, staging: Path) -> None:
    """Every member under `staging`, its checksum checked again as it is written (the file may have changed
    since it was verified)."""
    with zipfile.ZipFile(archive) as zipped:
        for name, expected in manifest.files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with zipped.open(name) as member, target.open("wb") as out:
                for chunk in iter(lambda: member.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected.get("sha256"):
                raise BackupError("backup_corrupt", f"{name} 的校验和不符（备份文件在恢复过程中被改动？）",
                                  f"{name} does not match its checksum (was the backup changed meanwhile?)")


def _write_key(path: Path, value: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    os.replace(tmp, path)


def _restore_keys(settings: Settings, staging: Path, result: Restored) -> None:
    for (name, variable), current in zip(KEYS, (settings.secret_key, settings.audit_key), strict=True):
        archived_path = staging / "keys" / name
        path = settings.data_dir / name
        if not archived_path.is_file():
            result.notes.append((f"备份中没有 {name}，{path} 保持原样",
                                 f"the backup holds no {name}: {path} left as it is"))
            continue
        archived = archived_path.read_text().strip()
        given = key_text(current)
        from_environment = key_source(given, path) == "environment"
        _write_key(path, archived)
        if not from_environment:
            result.notes.append((f"{name} 已恢复到 {path}", f"{name} restored to {path}"))
        elif given == archived:
            result.notes.append((f"{variable} 已设置且与备份中的密钥相同；备份中的密钥也已写入 {path}",
                                 f"{variable} is set and equals the backup's key; the key was also written to {path}"))
        else:
            zh, en = _BREAKS[variable]
            result.warnings.append((
                f"{variable} 与备份中的密钥不同！只要这个环境变量还设置着，服务就不使用恢复的密钥：{zh}。"
                f"备份中的密钥已写入 {path}：删除 {variable}（服务就使用这个文件），或把 {variable} 改成文件中的值",
                f"{variable} differs from the backup's key! While it is set the server does not use the restored key: "
                f"{en}. The backup's key was written to {path}: unset {variable} (the server then reads that file) "
                f"or set {variable} to the value in it"))


def _swap_uploads(data_dir: Path, staging: Path) -> None:
    for folder in UPLOADS:
        current, restored = data_dir / folder, staging / folder
        if current.exists():
            current.rename(staging / f".previous-{folder}")  # removed with the staging folder
        if restored.is_dir():
            restored.rename(current)


def restore(settings: Settings, archive: Path, *, force: bool = False, progress: Progress | None = None) -> Restored:
    """Blocking. Raises BackupError (nothing changed) for a bad archive, a target of the other database kind or
    one that holds data without `force`."""
    say = progress or _quiet
    manifest = verify_archive(archive, say)
    _check_fits(settings, archive, manifest)
    result = Restored(manifest)
    found = holdings(settings)
    if not found.empty:
        if not force:
            raise BackupError("restore_not_empty",
                              f"目标已有数据（{found.events} 个赛事，共 {found.rows} 行记录，"
                              f"{found.uploads} 个上传文件）：要覆盖请先停止服务，再加 --force"
                              "（会先把现有数据备份到 数据目录/backups/）",
                              f"the target holds data ({found.events} events, {found.rows} rows, {found.uploads} "
                              "uploads): stop the server and add --force to overwrite it (what is there is backed "
                              "up into DATA_DIR/backups/ first)")
        result.previous_backup = new_backup_path(settings.data_dir / BACKUP_DIR, "pre-restore")
        say(f"先备份现有数据 / backing up what is there first: {result.previous_backup}")
        backup(settings, result.previous_backup, say)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.data_dir) as work:
        staging = Path(work)
        _extract(archive, manifest, staging)
        say(f"数据库 / database ← {manifest.database_file} ({manifest.rows()} 行 / rows)")
        load_database(settings.database_url, staging / manifest.database_file)
        found_after = inspect_database(settings.database_url)
        if found_after is None or found_after[1] != manifest.counts:
            raise BackupError("restore_mismatch", "恢复后的记录数与备份清单不符", "the restored row counts differ from "
                              "the manifest's")
        _swap_uploads(settings.data_dir, staging)
        _restore_keys(settings, staging, result)
    upgrade(settings.database_url)
    after = inspect_database(settings.database_url)
    result.revision = after[0] if after else None
    say(f"数据库结构 / schema: {manifest.schema_revision} → {result.revision}")
    return result

