"""The `contestday` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["main"]


@click.group(help="contestday — 职业技能竞赛赛事日系统 / contest-day system for skills competitions")
def main() -> None:
    pass


@main.group(help="离线成绩计算 / offline results")
def results() -> None:
    pass


@results.command("compute", help="从评分表计算成绩、排名、奖项与晋升 / compute results (contracts §3)")
@click.option("--event", "event_path", required=True, type=click.Path(path_type=Path))
@click.option("--entries", "entries_path", required=True, type=click.Path(path_type=Path))
@click.option("--scores", "scores_path", required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path))
@click.option("--explain", "explain_entry", default=None, help="逐步说明一个参赛者的计算 / explain one entry")
def results_compute(event_path: Path, entries_path: Path, scores_path: Path, out_path: Path | None,
                    explain_entry: str | None) -> None:
    from results.offline import compute_command

    sys.exit(compute_command(event_path, entries_path, scores_path, out_path, explain_entry))


if __name__ == "__main__":  # pragma: no cover
    main()
