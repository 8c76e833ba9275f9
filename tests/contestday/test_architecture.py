"""Architecture holds: the import direction of engineering.md, and migrations that match the models."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import contestday.models  # noqa: F401
from contestday.db.engine import create_engine
from contestday.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_import_direction_holds() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


async def test_migrations_match_the_models(settings: Settings) -> None:
    engine = create_engine(settings.database_url)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, SQLModel.metadata)  # type: ignore[no-any-return]

    async with engine.connect() as connection:
        changes = await connection.run_sync(diff)
    await engine.dispose()
    assert changes == [], f"models and migrations differ: write a migration ({changes})"
