"""Sign-in under attack (#12): argon2 off the event loop and at the same cost for unknown names, failure
limits per account and per address (429 `too_many_attempts`, `retry_after`, `Retry-After`) on sign-in, links,
the certificate kiosk, verification, appeals and 我的报名, held across instances through Redis; CSRF on the
sign-in form; signed tokens bound to their purpose."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from typing import Any

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.accounts import limits, security
from contestday.accounts import service as accounts
from contestday.app import create_app
from contestday.settings import Settings
from judging.panels import add_judge, judge_from_link, personal_link_token
from registration.entries.public_data import mine_cookie, read_mine_cookie
from tests.registration.test_registration_api import make_event
from tests.support.helpers import post_login

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
REDIS = os.environ.get("CONTESTDAY_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit tests count answers, not hashing cost: a cheap argon2 keeps them quick (the timing tests
    below use the real one)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("dummy"))


async def _user(db: Any, name: str, password: str = "pw-12345678") -> None:
    async with db() as session:
        await accounts.add_user(session, name, password, ["organiser"])
        await session.commit()


def _refused(response: Any) -> int:
    """The retry_after of a 429 too_many_attempts, checked against the header."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "too_many_attempts" and "尝试次数过多" in body["message"]
    assert isinstance(body["retry_after"], int) and 1 <= body["retry_after"] <= 900
    assert response.headers["retry-after"] == str(body["retry_after"])
    return int(body["retry_after"])


# --- signed tokens -----------------------------------------------------------------------------------


def test_a_token_signed_for_one_purpose_is_refused_for_another() -> None:
    token = security.sign("k", "login-link", "7:9999999999")
    assert security.unsign("k", "login-link", token) == "7:9999999999"
    for other in ("judge-link", "mine", "login-csrf"):
        assert security.unsign("k", other, token) is None
    assert security.unsign("other-key", "login-link", token) is None
    with pytest.raises(ValueError):
        security.sign("k", "login-link\njudge-link", "x")  # the purpose cannot smuggle a separator


async def test_a_token_for_another_use_does_not_open_a_judges_link(admin: Any, db: Any, settings: Settings) -> None:
    event_id = await make_event(admin)
    async with db() as session:
        judge = await add_judge(session, event_id, "王海")
        await session.commit()
        good = personal_link_token(settings.secret_key, judge)
        payload = good.rpartition(".")[0]
        assert await judge_from_link(session, settings.secret_key, good) is not None
        as_mine = security.sign(settings.secret_key, "mine", payload)  # the same payload, another purpose
        assert await judge_from_link(session, settings.secret_key, as_mine) is None
        cookie = mine_cookie(settings.secret_key, event_id, 1)  # a 我的报名 cookie someone holds
        assert await judge_from_link(session, settings.secret_key, cookie) is None
        assert read_mine_cookie(settings.secret_key, good, event_id) is None


async def test_a_judges_link_printed_before_tokens_named_their_purpose_still_opens(admin: Any, db: Any,
                                                                                  settings: Settings) -> None:
    """Cards handed out before the upgrade keep working until the link is renewed; renewing retires them."""
    import hashlib
    import hmac

    from judging.panels import revoke_link
    event_id = await make_event(admin)
    async with db() as session:
        judge = await add_judge(session, event_id, "李海")
        await session.commit()
        payload = f"j{judge.id}.{judge.link_version}"
        mac = hmac.new(settings.secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]
        printed = f"{payload}.{mac}"
        assert await judge_from_link(session, settings.secret_key, printed) is not None
        assert await judge_from_link(session, settings.secret_key, printed[:-1] + "x") is None
        await revoke_link(session, judge)
        await session.commit()
        assert await judge_from_link(session, settings.secret_key, printed) is None


# --- argon2 ------------------------------------------------------------------------------------------


async def test_unknown_names_cost_as_much_as_known_ones(client: Client, db: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown name pays for one real argon2 verification against a hash of the same parameters as a
    real account's (before: ~2 ms against ~150 ms, which told an attacker which names exist). Checked by
    what is verified, not by a stopwatch: timings on a shared machine flake."""
    await _user(db, "known")
    real = security._hasher
    checked: list[str] = []

    class Recording:
        def verify(self, password_hash: str, password: str) -> bool:
            checked.append(password_hash)
            return real.verify(password_hash, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(security, "_hasher", Recording())
    for name in ("known", "nobody-1", "nobody-2"):
        response = await post_login(client, {"name": name, "password": "wrong-password", "next": "/"})
        assert response.status_code == 401, response.text
    assert len(checked) == 3
    known_hash, *unknown_hashes = checked
    assert unknown_hashes == [security._DUMMY_HASH] * 2 and known_hash != security._DUMMY_HASH

    def parameters(encoded: str) -> str:  # "$argon2id$v=19$m=65536,t=3,p=4$": what sets the cost
        return "$".join(encoded.split("$")[:4])

    assert parameters(security._DUMMY_HASH) == parameters(known_hash) == parameters(real.hash("x"))
    assert parameters(known_hash).startswith("$argon2id$v=19$m=")


async def test_password_checks_leave_the_event_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each check runs off the event loop: a check that waits for the loop to tick finishes only if the
    loop keeps running meanwhile (before: argon2 ran on the loop, blocking every tablet ~150 ms per check).
    How long the loop lags under a flood is measured by bench/login_flood.py, not here."""
    ticked = threading.Event()
    threads: list[str] = []

    def waits_for_the_loop(password_hash: str | None, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return ticked.wait(timeout=5)  # on the loop thread this would block the tick below for 5 s

    async def tick() -> None:
        await asyncio.sleep(0.01)
        ticked.set()

    monkeypatch.setattr(security, "verify_password", waits_for_the_loop)
    results = await asyncio.wait_for(asyncio.gather(security.check_password(None, "x"), tick()), timeout=10)
    assert results[0] is True  # the loop ticked while the check waited
    assert threads and all(name.startswith("argon2") for name in threads), threads
    real = security.hash_password("right")
    monkeypatch.undo()
    assert await security.check_password(real, "right") and not await security.check_password(real, "wrong")


async def test_at_most_two_password_checks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def slow(password_hash: str | None, password: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(security, "verify_password", slow)
    await asyncio.gather(*(security.check_password(None, "x") for _ in range(12)))
    assert peak[0] == security.ARGON2_THREADS == 2


# --- sign-in limits ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_argon2")
async def test_ten_failures_lock_an_account_and_unknown_names_alike(client: Client, db: Any) -> None:
    await _user(db, "org")
    for name in ("org", "ghost"):
        for _ in range(10):
            assert (await post_login(client, {"name": name, "password": "nope", "next": "/"})).status_code == 401
    right = await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"})
    _refused(right)  # even the right password, for now: the limit is per account
    ghost = await post_login(client, {"name": "ghost", "password": "nope", "next": "/"})
    assert _refused(ghost) > 800  # the same answer for a name that does not exist: 15 minutes
    page = await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"}, headers=HTML)
    assert page.status_code == 429 and 'data-code="too_many_attempts"' in page.text
    assert "尝试次数过多" in page.text and "北京时间" in page.text and page.headers["retry-after"]
    assert 'name="csrf_token"' in page.text  # the form is still there, to try again later
    await _user(db, "other")  # another account from the same address is not affected
    ok = await post_login(client, {"name": "other", "password": "pw-12345678", "next": "/"}, follow_redirects=False)
    assert ok.status_code == 303


@pytest.mark.usefixtures("fast_argon2")
async def test_successes_do_not_count(client: Client, db: Any) -> None:
    await _user(db, "org")
    for _ in range(12):
        ok = await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"}, follow_redirects=False)
        assert ok.status_code == 303
        client.cookies.delete("contestday_session")


@pytest.mark.usefixtures("fast_argon2")
async def test_thirty_failures_from_one_address_are_refused_for_any_name(client: Client) -> None:
    for i in range(30):
        assert (await post_login(client, {"name": f"n{i}", "password": "x", "next": "/"})).status_code == 401
    _refused(await post_login(client, {"name": "fresh", "password": "x", "next": "/"}))


async def test_bad_sign_in_links_are_limited_per_address(client: Client, db: Any, settings: Settings) -> None:
    json = {"Accept": "application/json"}
    for i in range(20):
        assert (await client.get(f"/login/link/{i}:1.forged", headers=json)).status_code == 401
    _refused(await client.get("/login/link/1:1.forged", headers=json))


# --- CSRF on the sign-in form ------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_argon2")
async def test_sign_in_without_the_forms_token_is_refused(client: Client, db: Any) -> None:
    await _user(db, "org")
    form = {"name": "org", "password": "pw-12345678", "next": "/"}
    bare = await client.post("/login", data=form, follow_redirects=False)
    assert bare.status_code == 403 and bare.json()["code"] == "csrf_failed"
    page = await client.get("/login")
    token = page.cookies["contestday_login_csrf"]
    assert f'name="csrf_token" value="{token}"' in page.text and "no-store" in page.headers["cache-control"]
    forged = await client.post("/login", data={**form, "csrf_token": token + "x"}, follow_redirects=False)
    assert forged.status_code == 403
    client.cookies.clear()  # another site's form: its value, but not this browser's cookie
    foreign = await client.post("/login", data={**form, "csrf_token": token}, headers=HTML, follow_redirects=False)
    assert foreign.status_code == 403 and 'data-code="csrf_failed"' in foreign.text and "页面已过期" in foreign.text
    again = foreign.cookies["contestday_login_csrf"]  # the refusal's page carries a new token: just retry
    ok = await client.post("/login", data={**form, "csrf_token": again}, follow_redirects=False)
    assert ok.status_code == 303 and ok.cookies.get("contestday_session")


# --- the other doors ---------------------------------------------------------------------------------


async def test_certificate_kiosk_guesses_are_limited(admin: Any, client: Client) -> None:
    event_id = await make_event(admin)
    url = f"/kiosk/events/{event_id}/certificates/"
    for i in range(10):  # one person's name, ten guesses of the digits
        miss = await client.post(url, data={"name": "张三", "digits": f"{i:06d}"})
        assert miss.status_code == 404
    limited = await client.post(url, data={"name": "张三", "digits": "123456"})
    assert limited.status_code == 429 and "尝试次数过多" in limited.text and limited.headers["retry-after"]
    for i in range(20):  # other names go on until the address's 30
        assert (await client.post(url, data={"name": f"李{i}", "digits": "000000"})).status_code == 404
    assert (await client.post(url, data={"ticket": "ABCD-EFGH"})).status_code == 429


async def test_verification_misses_are_limited(client: Client) -> None:
    for i in range(30):
        assert (await client.get(f"/api/certificates/E1-X-{i:04d}")).status_code == 404
    _refused(await client.get("/api/certificates/E1-X-9999"))
    page = await client.get("/verify/E1-X-9999", headers=HTML)
    assert page.status_code == 429 and "尝试次数过多" in page.text


async def test_wrong_ticket_codes_on_appeals_are_limited(admin: Any, client: Client) -> None:
    event_id = await make_event(admin)
    for _ in range(10):
        wrong = await client.post(f"/api/events/{event_id}/appeals/", json={"ticket_code": "ZZZZ-ZZZZ", "text": "x"})
        assert wrong.status_code == 404 and wrong.json()["code"] == "unknown_ticket"
    for _ in range(10):
        page = await client.post(f"/appeal/{event_id}/", data={"ticket_code": "ZZZZ-ZZZZ", "text": "x"})
        assert page.status_code == 404
    _refused(await client.post(f"/api/events/{event_id}/appeals/", json={"ticket_code": "ZZZZ-ZZZZ", "text": "x"}))
    page = await client.post(f"/appeal/{event_id}/", data={"ticket_code": "ZZZZ-ZZZZ", "text": "x"})
    assert page.status_code == 429 and "尝试次数过多" in page.text and page.headers["retry-after"]


async def test_my_registration_posts_without_a_valid_cookie_are_limited(admin: Any, client: Client) -> None:
    event_id = await make_event(admin)
    for _ in range(20):
        stale = await client.post(f"/r/{event_id}/mine/withdraw", data={"mine": "forged", "sure": "1"})
        assert stale.status_code == 422
    limited = await client.post(f"/r/{event_id}/mine/edit", data={"mine": "forged"})
    assert limited.status_code == 429 and "尝试次数过多" in limited.text and limited.headers["retry-after"]


# --- across instances --------------------------------------------------------------------------------


def _redis_or_skip() -> Any:
    from redis import Redis
    from redis.exceptions import RedisError

    r = Redis.from_url(REDIS)
    try:
        r.ping()
    except (RedisError, OSError):
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Redis at {REDIS}")
        pytest.skip(f"Redis not reachable at {REDIS}")
    return r


def _flush(r: Any) -> None:
    keys = list(r.scan_iter(f"{limits.PREFIX}*"))
    if keys:
        r.delete(*keys)


@pytest.mark.usefixtures("fast_argon2")
async def test_failures_on_one_instance_count_on_the_other(settings: Settings, db: Any) -> None:
    r = _redis_or_skip()
    _flush(r)
    shared = dataclasses.replace(settings, redis_url=REDIS)
    await _user(db, "org-shared")
    try:
        async with AsyncTestClient(app=create_app(shared)) as one, AsyncTestClient(app=create_app(shared)) as two:
            for client in (one, two, one, two, one, two, one, two, one, two):
                wrong = await post_login(client, {"name": "org-shared", "password": "nope", "next": "/"})
                assert wrong.status_code == 401
            _refused(await post_login(one, {"name": "org-shared", "password": "pw-12345678", "next": "/"}))
            _refused(await post_login(two, {"name": "org-shared", "password": "pw-12345678", "next": "/"}))
            assert any(r.scan_iter(f"{limits.PREFIX}login:account:*"))
            assert not any(b"org-shared" in key for key in r.scan_iter(f"{limits.PREFIX}*"))  # hashed keys
    finally:
        _flush(r)
