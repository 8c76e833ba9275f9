"""The folder `DATA_DIR/backups/`: a backup every `CONTESTDAY_BACKUP_MINUTES` while the server runs (the newest
`CONTESTDAY_BACKUP_KEEP` kept) and one before every schema upgrade.

Several server processes on one data directory (`serve --workers N`, or machines sharing it) take the periodic
backups once: the process holding an exclusive lock on `backups/.lock` does it, the others try again each
period (the lock goes with its holder's exit). The backup runs in a thread, off the event loop; a failure is
logged and the next period tries again; the server never stops for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from pathlib import Path
from typing import IO, Any

from contestday.backup import BACKUP_DIR, Progress, backup, new_backup_path
from contestday.db.migrate import head_revision, known_revision
from contestday.db.snapshot import inspect_database
from contestday.settings import Settings

__all__ = ["MINUTE", "PeriodicBackups", "backup_before_upgrade", "prune"]

log = logging.getLogger("contestday.backup")

MINUTE = 60.0  # seconds; tests shorten it
# contestday-YYYYmmdd-HHMMSS[-n].zip; pre-upgrade-… and pre-restore-… are never pruned
PERIODIC = re.compile(r"contestday-(\d{8}-\d{6})(?:-(\d+))?\.zip")


def backups_dir(settings: Settings) -> Path:
    return settings.data_dir / BACKUP_DIR


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` periodic backups (by the time in their names); returns the removed."""
    found = [(m.group(1), int(m.group(2) or 0), p) for p in folder.iterdir() if (m := PERIODIC.fullmatch(p.name))]
    periodic = [p for *_, p in sorted(found)]
    removed = periodic[:-keep] if keep > 0 else periodic
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def backup_before_upgrade(settings: Settings, progress: Progress | None = None) -> Path | None:
    """Before the schema of a database holding a schema revision behind this software's is upgraded: a backup
    into `DATA_DIR/backups/pre-upgrade-<revision>-<time>.zip`. None (nothing taken) for a database without
    a schema yet or one that is current (or from newer software: the upgrade refuses it anyway)."""
    found = inspect_database(settings.database_url, counts=False)
    revision = found[0] if found else None
    if revision is None or revision == head_revision() or not known_revision(revision):
        return None
    path = new_backup_path(backups_dir(settings), f"pre-upgrade-{revision}")
    backup(settings, path, progress)
    return path


def _try_lock(path: Path) -> IO[Any] | None:
    """An exclusive, non-blocking lock on `path`, held while the returned file stays open."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


class PeriodicBackups:
    """The server's periodic backups (`start`/`stop` from the app's lifespan)."""

    def __init__(self, settings: Settings, interval: float | None = None):
        self.settings = settings
        self.interval = interval if interval is not None else settings.backup_minutes * MINUTE
        self._task: asyncio.Task[None] | None = None
        self._lock: IO[Any] | None = None
        self.taken = 0  # backups this process took

    async def start(self, *_: Any) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="periodic-backups")

    async def stop(self, *_: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.once()

    async def once(self) -> Path | None:
        """One period's backup, if this process holds the lock; never raises."""
        try:
            return await asyncio.to_thread(self._take)
        except Exception:
            log.exception("periodic backup failed", extra={"folder": str(backups_dir(self.settings))})
            return None

    def _take(self) -> Path | None:
        folder = backups_dir(self.settings)
        if self._lock is None:
            self._lock = _try_lock(folder / ".lock")
            if self._lock is None:
                return None  # another process takes them
        path = new_backup_path(folder, "contestday")
        manifest = backup(self.settings, path)
        removed = prune(folder, self.settings.backup_keep)
        self.taken += 1
        log.info("periodic backup", extra={"path": str(path), "bytes": path.stat().st_size, "rows": manifest.rows(),
                                           "schema": manifest.schema_revision, "pruned": len(removed)})
        return path

