"""The `contestday` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from contestday.settings import Settings, SettingsError, check_data_dir, load_settings

if TYPE_CHECKING:  # `results compute` and the other offline commands never load the database layer
    from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["main"]

T = TypeVar("T")


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one session on an up-to-date database, then close everything."""
    import asyncio  # not at the top: `results compute` never needs it (a tenth of its start-up)

    from contestday.db.engine import create_engine, create_sessionmaker

    _upgrade(settings)
    if settings.audit_key is not None:
        from judging import audit

        audit.use_key(settings.audit_key)

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


def _say(message: str) -> None:
    click.echo(message, err=True)


def _upgrade(settings: Settings) -> None:
    """The schema brought up to date; a database behind it is backed up into DATA_DIR/backups/ first. A
    database already at this software's head is left alone without running Alembic (whose env.py imports every
    model: two thirds of a `user …` command's time)."""
    from contestday.backup_schedule import backup_before_upgrade
    from contestday.db.migrate import head_revision, upgrade
    from contestday.db.snapshot import BackupError, inspect_database

    found = inspect_database(settings.database_url, counts=False)
    if found is not None and found[0] is not None and found[0] == head_revision():
        return
    try:
        made = backup_before_upgrade(settings, _say)
    except BackupError as exc:
        _fail(f"升级数据库结构前的备份失败，未升级 / the backup before the schema upgrade failed, nothing upgraded: "
              f"[{exc.code}] {exc.zh} / {exc.en}")
    else:
        if made is not None:
            _say(f"升级数据库结构前已备份 / backed up before the schema upgrade: {made}")
    upgrade(settings.database_url)


class _Commands(click.Group):
    """Bad settings (a value, a data directory that cannot be written or is full) are one message, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            _fail(str(exc))


@click.group(cls=_Commands, help="contestday — 职业技能竞赛赛事日系统 / contest-day system for skills competitions")
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
                proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies, log_level="warning",
                ws="websockets-sansio", ws_per_message_deflate=False)


@main.command(help="启动服务（先升级数据库结构）/ serve (brings the schema up to date first)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    from contestday.web.addresses import lan_addresses, serve_lines

    settings = load_settings()
    check_data_dir(settings.data_dir)
    _upgrade(settings)
    click.echo(f"contestday serving on http://{host}:{port}  ({json.dumps(settings.describe(), ensure_ascii=False)})")
    address = _public_address(settings)
    for line in serve_lines(host, port, lan_addresses(), address.url, address.source):
        click.echo(line)
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
    from contestday.web.addresses import is_loopback

    if is_loopback(host) and "CONTESTDAY_ALLOW_LOOPBACK_QR" not in os.environ:
        # a demo on this machine alone: its posters and certificates print on the loopback address (the server
        # started below reads the same environment); with --host 0.0.0.0 phones use it and the check stays
        os.environ["CONTESTDAY_ALLOW_LOOPBACK_QR"] = "1"
    settings = load_settings()
    check_data_dir(settings.data_dir)
    base = f"http://{host}:{port}"

    tickets_csv = settings.data_dir / "demo-tickets.csv"

    async def work(session: AsyncSession) -> tuple[int, list[tuple[str, str, str]], list[tuple[str, str, str]],
                                                   dict[str, str]]:
        event_id = await ensure_demo(session, settings.secret_key)
        await refresh_demo_seat_plans(session, event_id)
        judge_links = await ensure_demo_judging(session, event_id, settings.secret_key)
        await ensure_demo_results(session, event_id, settings.appeal_hours, settings.secret_key)
        await issue_certificates(session, event_id)  # for the published items; idempotent
        tickets = await write_demo_tickets(session, event_id, tickets_csv)
        return event_id, await demo_links(session, base), tickets, judge_links

    event_id, links, tickets, judge_links = _with_session(settings, work)
    click.echo(f"演示赛事 / demo event #{event_id} — {base}/admin/events/{event_id}")
    click.echo(f"数据库 / database: {settings.describe()['database_url']}")
    for what, credentials, link in links:
        click.echo(f"  {what:<40} {credentials:<28} {link}")
    click.echo("  （每个登录链接只能用一次；新的链接：contestday user link 用户名 / each sign-in link works once; "
               "a fresh one: contestday user link NAME）")
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
    _upgrade(load_settings())
    click.echo("ok")


@main.command("backup", help="备份：数据库、密钥、上传的文件写成一个 .zip，服务运行时也可以 / back up the database, "
                             "keys and uploads into one .zip, while the server runs")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="备份文件；给出目录时写成其中的 contestday-年月日-时分秒.zip / the archive (a directory: "
                   "contestday-YYYYmmdd-HHMMSS.zip in it)")
@click.option("--force", is_flag=True, help="覆盖已存在的文件 / overwrite an existing file")
def backup_command(out_path: Path, force: bool) -> None:
    from contestday.backup import BackupError, backup, stamp

    settings = load_settings(create_audit_key=False)  # a key made just now would be no one's
    if out_path.is_dir():
        out_path = out_path / f"contestday-{stamp()}.zip"
    try:
        backup(settings, out_path, _say, force=force)
    except BackupError as exc:
        _fail(f"[{exc.code}] {exc.zh} / {exc.en}")
    click.echo(out_path)


@main.command("restore", help="恢复备份到空的数据目录和数据库，并升级数据库结构 / restore a backup into an empty data "
                              "directory and database, then upgrade the schema")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="目标已有数据时也覆盖（先把现有数据备份到 数据目录/backups/）/ overwrite "
                                           "a target that holds data (backed up into DATA_DIR/backups/ first)")
@click.option("--check", "check_only", is_flag=True, help="只核对备份文件的校验和，不恢复 / only verify the archive")
def restore_command(archive: Path, force: bool, check_only: bool) -> None:
    from contestday.backup import BackupError, verify_archive
    from contestday.restore import restore

    try:
        if check_only:
            manifest = verify_archive(archive, _say)
            click.echo(f"完好 / intact: {archive} ({manifest.database}, {manifest.rows()} 行 / rows, "
                       f"{len(manifest.files)} 个文件 / files)")
            return
        settings = load_settings(create_audit_key=False)
        check_data_dir(settings.data_dir)
        done = restore(settings, archive, force=force, progress=_say)
    except BackupError as exc:
        _fail(f"[{exc.code}] {exc.zh} / {exc.en}")
        return
    if done.previous_backup is not None:
        click.echo(f"恢复前的数据已备份到 / what was there is backed up in: {done.previous_backup}")
    for zh, en in done.notes:
        click.echo(f"{zh} / {en}")
    for zh, en in done.warnings:
        click.echo(f"警告 / WARNING: {zh} / {en}", err=True)
    click.echo(f"已恢复 / restored: {archive} ({done.manifest.created_at}, {done.manifest.rows()} 行 / rows), "
               f"数据库结构 / schema {done.revision}")


@main.group(help="赛事文件 / event files")
def event() -> None:
    pass


@event.command("import", help="导入赛事文件（JSON 或 TOML）/ import an event file")
@click.argument("file", type=click.Path(path_type=Path))
def event_import(file: Path) -> None:
    from contestday.web.errors import Refusal
    from registration.events import service
    from registration.events.routes import decode_event_file
    from scoring.event_file import EventFileError, parse_event_document

    if not file.is_file():
        _fail(f"{file}: 文件不存在 / no such file")
    try:
        spec = parse_event_document(decode_event_file(file.read_bytes(), filename=file.name))
    except Refusal as exc:
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


def _run_user(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """A `user …` command's work; a refusal (unknown user, role, event or item; a role conflict) is printed in
    Chinese and English with exit code 2."""
    from contestday.web.errors import Refusal

    try:
        return _with_session(load_settings(), work)
    except Refusal as exc:
        _fail(f"{exc.message} / {exc.message_en}")
        raise  # unreachable: _fail exits


def _public_address(settings: Settings) -> Any:
    """The address QR codes and links carry (contestday/web/public_address.py): the environment's, else the one
    set on the event page, else the loopback default."""
    from contestday.web.public_address import load_address

    return _with_session(settings, lambda session: load_address(session, settings))


def _link(token: str) -> str:
    return f"{_public_address(load_settings()).url}/login/link/{token}"


@user.command("add", help="添加用户 / add a user: roles for --event (and --item); organiser may be server-wide; "
                          "password asked (or CONTESTDAY_NEW_PASSWORD), or --link for a one-time sign-in link")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="organiser | chief_judge | judge | encryption_judge | checkin")
@click.option("--event", "event_id", type=int, default=None, help="赛事编号 / event id")
@click.option("--item", "item_code", default=None, help="赛项代码（裁判、加密裁判）/ item code (judges)")
@click.option("--password", envvar="CONTESTDAY_NEW_PASSWORD", default=None)
@click.option("--link", "with_link", is_flag=True, help="不设密码，打印一次性登录链接 / no password: print a link")
@click.option("--display-name", default=None)
def user_add(name: str, roles: tuple[str, ...], event_id: int | None, item_code: str | None, password: str | None,
             with_link: bool, display_name: str | None) -> None:
    from contestday.accounts.security import hash_password
    from contestday.web.errors import Refusal
    from registration.staff import service as staff

    if event_id is None and set(roles) - {"organiser"}:
        _fail("只有组委会（管理员）的角色可以覆盖全部赛事；其他角色请用 --event 指定赛事 / "
              "only the organiser role can be server-wide: give --event for the others")
    if not with_link and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if password is not None and len(password) < 8:
        _fail("密码至少 8 位 / the password needs at least 8 characters")

    async def work(session: AsyncSession) -> str:
        for role in roles:  # every refusal before anything is written
            await staff.check_scope(session, role, event_id, item_code)
        try:
            user = await staff.create_account(session, name, display_name, [], "cli", event_id)
        except Refusal as exc:
            if exc.code == "user_exists":
                _fail(f"用户 {name} 已存在 / user {name} exists")
            raise
        if password is not None:
            user.password_hash = hash_password(password)
        for role in roles:
            await staff.give(session, user, role, "cli", event_id, item_code)
        token = await staff.issue_link(session, user, "cli") if with_link else ""
        await session.commit()
        return token

    token = _run_user(work)
    where = "全部赛事 / server-wide" if event_id is None else f"赛事 / event {event_id}" + (
        f" · {item_code}" if item_code else "")
    click.echo(f"已添加 / added {name}: {', '.join(roles)} ({where})")
    if token:
        click.echo(f"一次性登录链接（只能用一次）/ one-time sign-in link: {_link(token)}")


@user.command("list", help="列出用户及其角色 / list users with their roles")
@click.option("--event", "event_id", type=int, default=None, help="只列本赛事的账号 / this event's accounts only")
def user_list(event_id: int | None) -> None:
    from contestday.accounts.security import ROLES
    from registration.events.models import Event
    from registration.staff import service as staff
    from scoring.event_file import CHINA_TZ

    async def work(session: AsyncSession) -> list[staff.AccountView]:
        if event_id is not None and await session.get(Event, event_id) is None:
            _fail(f"找不到赛事 {event_id} / no event {event_id}")
        return await staff.account_views(session, event_id)

    views = _run_user(work)
    rows = [("用户名/name", "显示名/display", "状态/active", "上次登录/last sign-in", "角色/roles")]
    for v in views:
        grants = [f"{g.role}@" + ("*" if g.event_id is None else f"E{g.event_id}" + (f":{g.item_code}" if g.item_code
                                                                                    else "")) for g in v.grants]
        last = v.last_sign_in.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if v.last_sign_in else "—"
        rows.append((v.user.name, v.user.display_name or "", "是/yes" if v.user.active else "停用/disabled", last,
                     " ".join(grants) or "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    click.echo(f"{len(views)} 个账号 / accounts · 角色@* 全部赛事 / server-wide, @E<赛事>[:<赛项>] / per event [item]"
               f" · {', '.join(ROLES)}")


def _account_change(name: str, change: Callable[[AsyncSession, Any], Awaitable[T]]) -> T:
    from registration.staff import service as staff

    async def work(session: AsyncSession) -> T:
        result = await change(session, await staff.account_by_name(session, name))
        await session.commit()
        return result

    return _run_user(work)


@user.command("disable", help="停用用户：其会话立即结束 / disable a user: their sessions end at once")
@click.argument("name")
def user_disable(name: str) -> None:
    from registration.staff import service as staff

    changed = _account_change(name, lambda s, u: staff.set_active(s, u, False, "cli"))
    click.echo(f"已停用 / disabled {name}" if changed else f"{name} 已是停用状态 / was disabled already")


@user.command("enable", help="启用用户 / enable a user")
@click.argument("name")
def user_enable(name: str) -> None:
    from registration.staff import service as staff

    changed = _account_change(name, lambda s, u: staff.set_active(s, u, True, "cli"))
    click.echo(f"已启用 / enabled {name}" if changed else f"{name} 已是启用状态 / was enabled already")


@user.command("reset", help="重置：旧密码、会话和旧链接失效，打印新的一次性登录链接 / reset: a new one-time link")
@click.argument("name")
def user_reset(name: str) -> None:
    from registration.staff import service as staff

    token = _account_change(name, lambda s, u: staff.reset(s, u, "cli"))
    click.echo(f"已重置 / reset {name}；一次性登录链接（只能用一次）/ one-time sign-in link: {_link(token)}")


@user.command("link", help="新的一次性登录链接 / a fresh one-time sign-in link")
@click.argument("name")
def user_link(name: str) -> None:
    from registration.staff import service as staff

    token = _account_change(name, lambda s, u: staff.issue_link(s, u, "cli"))
    click.echo(f"一次性登录链接（只能用一次）/ one-time sign-in link for {name}: {_link(token)}")


@main.group(help="评分审计日志 / the score audit log")
def audit() -> None:
    pass


@audit.command("verify", help="校验审计链（带密钥）及链外锚点，报告第一个断点 / verify the keyed audit chain and "
                              "its anchors outside it, report the first broken link")
@click.argument("event_id", type=int)
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:MAC",
              help="打印名单页脚的“审计链 第 N 条 · 校验 …”，可多次给出 / a chain head printed on a results list "
                   "(repeatable)")
def audit_verify(event_id: int, anchors: tuple[str, ...]) -> None:
    from judging.audit import ChainReport, check_event, key_id, parse_anchor, replay_matches
    from results.publication import audit_anchors

    try:
        given = [parse_anchor(a) for a in anchors]
    except ValueError as exc:
        _fail(str(exc))
        return
    # never a new key here: verifying with a key made just now would only say "wrong key"
    settings = load_settings(create_audit_key=False)
    key = settings.audit_key

    async def work(session: AsyncSession) -> tuple[ChainReport, list[str]]:
        report = await check_event(session, event_id, key, [*await audit_anchors(session, event_id), *given])
        return report, await replay_matches(session, event_id)

    report, differences = _with_session(settings, work)
    keyed = report.last_seq - report.keyed_from + 1
    if report.keyed_from > report.last_seq:
        click.echo(f"全部 {report.last_seq} 条为启用密钥前的记录（SHA-256，无密钥）/ "
                   f"all {report.last_seq} links are from before the audit key (unkeyed)")
    elif report.keyed_from > 1:
        click.echo(f"第 1–{report.keyed_from - 1} 条为启用密钥前的记录（SHA-256），第 {report.keyed_from} 条起带密钥"
                   f"（HMAC-SHA256，{keyed} 条）/ links 1–{report.keyed_from - 1} unkeyed (from before the key), "
                   f"keyed from link {report.keyed_from}")
    elif report.last_seq:
        click.echo(f"全部 {report.last_seq} 条带密钥（HMAC-SHA256）/ every link keyed")
    if keyed > 0 and key is None:
        _fail(f"找不到审计密钥：{settings.data_dir / 'audit_key'} 不存在，也未设置 CONTESTDAY_AUDIT_KEY；"
              f"带密钥的 {keyed} 条无法校验 / no audit key (neither {settings.data_dir / 'audit_key'} nor "
              "CONTESTDAY_AUDIT_KEY): the keyed links cannot be verified")
    if key is not None and report.key_id and report.key_id != key_id(key):
        click.echo(f"密钥不符：这条链由指纹 {report.key_id} 的密钥写入，当前密钥指纹 {key_id(key)} / wrong audit "
                   f"key: the chain was written with key {report.key_id}, this is {key_id(key)}", err=True)
    click.echo(f"链外锚点 / anchors outside the chain checked: {report.anchors}")
    if report.broken is not None:
        click.echo(f"断链 / broken at link {report.broken.seq}: {report.broken.reason}"
                   f"（此前 {report.count} 条完好 / {report.count} good before)")
        sys.exit(1)
    click.echo(f"完好 / intact: {report.count} 条记录 / links")
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
@click.option("--verify-base", envvar="CONTESTDAY_PUBLIC_URL", default=None,
              help="证书二维码打开的核验地址（默认 CONTESTDAY_PUBLIC_URL） / the address the QR codes open "
                   "(default: CONTESTDAY_PUBLIC_URL)")
@click.option("--allow-loopback", is_flag=True,
              help="允许本机地址（仅供测试） / accept a loopback --verify-base (tests only)")
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
def certificates_build(event_path: Path, results_path: Path, out_path: Path, verify_base: str | None,
                       allow_loopback: bool, issued_on: str | None, font: str | None, fallback_font: str | None,
                       template_path: Path | None, background: Path | None, overprint: bool, offset_x: float,
                       offset_y: float, calibration: bool) -> None:
    from datetime import date as date_type

    from certificates.offline import build_command

    try:
        day = date_type.fromisoformat(issued_on) if issued_on else None
    except ValueError:
        _fail("--date 应为 YYYY-MM-DD / --date must be YYYY-MM-DD")
        raise  # unreachable: _fail exits
    sys.exit(build_command(event_path, results_path, out_path, verify_base, allow_loopback=allow_loopback,
                           issued_on=day, font=font,
                           fallback_font=fallback_font, template_path=template_path, background=background,
                           overprint=overprint, offset_x=offset_x, offset_y=offset_y, calibration=calibration))


if __name__ == "__main__":  # pragma: no cover
    main()
