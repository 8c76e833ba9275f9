"""The `contestday` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.settings import Settings, load_settings

__all__ = ["main"]

T = TypeVar("T")


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one session on an up-to-date database, then close everything."""
    from contestday.db import create_engine, create_sessionmaker
    from contestday.migrate import upgrade

    upgrade(settings.database_url)

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


@click.group(help="contestday — 职业技能竞赛赛事日系统 / contest-day system for skills competitions")
def main() -> None:
    pass


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    if workers > 1 and not settings.redis_url:
        _fail("多个进程需要 Redis 转发实时消息：请设置 CONTESTDAY_REDIS_URL / "
              "several workers need CONTESTDAY_REDIS_URL (the in-process fan-out cannot cross processes)")
    if workers > 1 and settings.is_sqlite:
        click.echo("注意：多个进程共用 SQLite 文件，写入会排队 / note: several workers share one SQLite file",
                   err=True)
    uvicorn.run("contestday.asgi:create", factory=True, host=host, port=port, workers=workers,
                log_level="warning", ws="websockets-sansio")


@main.command(help="启动服务（先升级数据库结构）/ serve (brings the schema up to date first)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    from contestday.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    click.echo(f"contestday serving on http://{host}:{port}  ({json.dumps(settings.describe(), ensure_ascii=False)})")
    _serve(settings, host, port, workers)


@main.command(help="演示：创建演示赛事并启动 / demo: create the demo event (once) and serve it")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="只创建数据、打印链接 / create and print links only")
def demo(host: str, port: int, no_serve: bool) -> None:
    from certificates.store import issue as issue_certificates
    from contestday.demo import demo_links, ensure_demo
    from contestday.demo_day import refresh_demo_seat_plans, write_demo_tickets
    from contestday.demo_judging import ensure_demo_judging
    from contestday.demo_results import ensure_demo_results

    settings = load_settings()
    base = f"http://{host}:{port}"

    tickets_csv = settings.data_dir / "demo-tickets.csv"

    async def work(session: AsyncSession) -> tuple[int, list[tuple[str, str, str]], list[tuple[str, str, str]],
                                                   dict[str, str]]:
        event_id = await ensure_demo(session, settings.secret_key)
        await refresh_demo_seat_plans(session, event_id)
        judge_links = await ensure_demo_judging(session, event_id, settings.secret_key)
        await ensure_demo_results(session, event_id, settings.appeal_hours)
        await issue_certificates(session, event_id)  # for the published items; idempotent
        tickets = await write_demo_tickets(session, event_id, tickets_csv)
        return event_id, await demo_links(session, settings.secret_key, base), tickets, judge_links

    event_id, links, tickets, judge_links = _with_session(settings, work)
    click.echo(f"演示赛事 / demo event #{event_id} — {base}/admin/events/{event_id}")
    click.echo(f"数据库 / database: {settings.describe()['database_url']}")
    for what, credentials, link in links:
        click.echo(f"  {what:<40} {credentials:<28} {link}")
    click.echo(f"  报名 / registration (QR form): {base}/r/{event_id}")
    click.echo(f"  检录 / check-in kiosk: {base}/kiosk/events/{event_id}/checkin")
    click.echo(f"  裁判长控制台 / chief judge's console: {base}/console/events/{event_id}")
    click.echo(f"  加密裁判 / encryption judge: {base}/sealed/events/{event_id}")
    click.echo(f"  发布成绩 / publish: {base}/console/events/{event_id}/publish    "
               f"公示 / public results: {base}/results/{event_id}    大屏 / board: {base}/board/{event_id}")
    click.echo(f"  证书自助 / certificates kiosk: {base}/kiosk/events/{event_id}/certificates    "
               f"核验 / verify: {base}/verify/E{event_id}-…")
    click.echo(f"  公众 / public:  {base}/    接口 / API: {base}/schema    健康 / health: {base}/health")
    click.echo("裁判个人链接 / judges' personal links (LED显示屏应用, on contest day):")
    for name, token in judge_links.items():
        click.echo(f"  {name}: {base}/j/{token}")
    click.echo(f"演示参赛凭证 / demo ticket codes (all in {tickets_csv}):")
    for name, item, code in tickets:
        click.echo(f"  {code}  {name}  {item}")
    if not no_serve:
        _serve(settings, host, port, 1)


@main.group(help="数据库 / database")
def db() -> None:
    pass


@db.command("upgrade", help="升级数据库结构 / bring the schema up to date")
def db_upgrade() -> None:
    from contestday.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    click.echo("ok")


@main.group(help="赛事文件 / event files")
def event() -> None:
    pass


@event.command("import", help="导入赛事文件（JSON 或 TOML）/ import an event file")
@click.argument("file", type=click.Path(path_type=Path))
def event_import(file: Path) -> None:
    from registration.events import service
    from registration.events.routes import decode_event_file
    from registration.web import ApiError
    from scoring.event_file import EventFileError, parse_event_document

    if not file.is_file():
        _fail(f"{file}: 文件不存在 / no such file")
    try:
        spec = parse_event_document(decode_event_file(file.read_bytes(), filename=file.name))
    except ApiError as exc:
        _fail(f"{file}: {exc.message} / {exc.message_en}")
        return
    except EventFileError as exc:
        lines = [f"{file}: {len(exc.errors)} 处错误 / error(s), 未保存任何内容 / nothing stored"]
        lines += [f"  {e.path}: {e.zh} / {e.en}" for e in exc.errors]
        _fail("\n".join(lines))
        return
    for w in spec.warnings:
        click.echo(f"  警告 / warning {w.path}: {w.zh} / {w.en}", err=True)

    async def work(session: AsyncSession) -> int:
        event_id = await service.create_event(session, spec)
        await session.commit()
        return event_id

    click.echo(_with_session(load_settings(), work))


@event.command("export", help="导出赛事文件（JSON）/ export an event file")
@click.argument("event_id", type=int)
@click.option("--toml", "as_toml", is_flag=True, help="TOML instead of JSON")
def event_export(event_id: int, as_toml: bool) -> None:
    from registration.events import service

    doc: dict[str, Any] | None = _with_session(load_settings(), lambda s: service.event_document(s, event_id))
    if doc is None:
        _fail(f"找不到赛事 {event_id} / no event {event_id}")
        return
    if as_toml:
        import tomli_w

        from scoring.event_file import toml_ready

        click.echo(tomli_w.dumps(toml_ready(doc)), nl=False)
    else:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@main.group(help="用户 / users")
def user() -> None:
    pass


@user.command("add", help="添加用户 / add a user (password asked, or from CONTESTDAY_NEW_PASSWORD)")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["organiser", "chief_judge", "judge", "encryption_judge", "checkin"]))
@click.option("--password", envvar="CONTESTDAY_NEW_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True)
@click.option("--display-name", default=None)
def user_add(name: str, roles: tuple[str, ...], password: str, display_name: str | None) -> None:
    from registration.accounts import service

    if len(password) < 8:
        _fail("密码至少 8 位 / the password needs at least 8 characters")

    async def work(session: AsyncSession) -> None:
        await service.add_user(session, name, password, list(roles), display_name)
        await session.commit()

    try:
        _with_session(load_settings(), work)
    except service.UserExists:
        _fail(f"用户 {name} 已存在 / user {name} exists")
    click.echo(f"已添加 / added {name}: {', '.join(roles)}")


@main.group(help="评分审计日志 / the score audit log")
def audit() -> None:
    pass


@audit.command("verify", help="校验哈希链，报告第一个断点 / verify the hash chain, report the first broken link")
@click.argument("event_id", type=int)
def audit_verify(event_id: int) -> None:
    from judging.audit import replay_matches, verify_event

    async def work(session: AsyncSession) -> tuple[int, Any, list[str]]:
        count, broken = await verify_event(session, event_id)
        return count, broken, await replay_matches(session, event_id)

    count, broken, differences = _with_session(load_settings(), work)
    if broken is not None:
        click.echo(f"断链 / broken at link {broken.seq}: {broken.reason}（此前 {count} 条完好 / {count} good before)")
        sys.exit(1)
    click.echo(f"完好 / intact: {count} 条记录 / links")
    if differences:
        click.echo("重放日志与当前分数不符 / replaying the log does not give the stored scores:")
        for line in differences[:20]:
            click.echo(f"  {line}")
        sys.exit(1)
    click.echo("重放日志得到的分数与当前分数一致 / replaying the log rebuilds the stored scores")


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


@main.group(help="荣誉证书 / honour certificates")
def certificates() -> None:
    pass


@certificates.command("build", help="按成绩表批量生成荣誉证书 PDF / certificates from RESULTS (contracts §4)")
@click.option("--event", "event_path", required=True, type=click.Path(path_type=Path))
@click.option("--results", "results_path", required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
@click.option("--verify-base", default="http://127.0.0.1:8000", show_default=True)
@click.option("--date", "issued_on", default=None, help="发证日期 YYYY-MM-DD（默认今天） / date on the certificates")
@click.option("--font", default=None, help="字体文件（.ttf/.ttc[#n]） / font file")
@click.option("--fallback-font", default=None, help="补字字体（如 HanaMinB.ttf） / fallback font for rare characters")
@click.option("--template", "template_path", default=None, type=click.Path(path_type=Path),
              help="版式 JSON / layout JSON")
@click.option("--background", default=None, type=click.Path(path_type=Path), help="底图 PNG/JPEG / background image")
@click.option("--overprint", is_flag=True, help="套打：只印可变内容 / print the fields only (pre-printed stock)")
@click.option("--offset-x", default=0.0, help="套打横向偏移 mm / calibration offset, mm")
@click.option("--offset-y", default=0.0, help="套打纵向偏移 mm / calibration offset, mm")
@click.option("--calibration", is_flag=True, help="只打印套打校准页 / write the calibration page only")
def certificates_build(event_path: Path, results_path: Path, out_path: Path, verify_base: str, issued_on: str | None,
                       font: str | None, fallback_font: str | None, template_path: Path | None,
                       background: Path | None, overprint: bool, offset_x: float, offset_y: float,
                       calibration: bool) -> None:
    from datetime import date as date_type

    from certificates.offline import build_command

    try:
        day = date_type.fromisoformat(issued_on) if issued_on else None
    except ValueError:
        _fail("--date 应为 YYYY-MM-DD / --date must be YYYY-MM-DD")
        raise  # unreachable: _fail exits
    sys.exit(build_command(event_path, results_path, out_path, verify_base, issued_on=day, font=font,
                           fallback_font=fallback_font, template_path=template_path, background=background,
                           overprint=overprint, offset_x=offset_x, offset_y=offset_y, calibration=calibration))


if __name__ == "__main__":  # pragma: no cover
    main()
