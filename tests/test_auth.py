"""Signing in and out, sessions, the password change, throttling and CSRF."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import pytest

from app.accounts import auth
from app.accounts.passwords import generate_initial_password, hash_initial_password
from app.asgi import create_app
from app.tables import LoginAttempt, SessionRecord, User
from tests.conftest import PASSWORD, login, make_user, post_form


async def test_sign_in_goes_home_and_shows_the_unit(client, people):
    response = await login(client, "admin")
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    page = await client.get("/")
    assert page.status_code == 200
    assert "焦作市总工会" in page.text
    assert "王市总" in page.text


async def test_anonymous_visitor_is_sent_to_sign_in_and_back(client, people):
    response = await client.get("/people?q=张")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?next=/people")
    login_page = await client.get(response.headers["location"])
    assert 'name="next" value="/people?q=' in login_page.text
    signed_in = await post_form(
        client, "/login", {"username": "admin", "password": PASSWORD, "next": "/people?q=张"}
    )
    assert unquote(signed_in.headers["location"]) == "/people?q=张"


async def test_next_never_leaves_the_site(client, people):
    await client.get("/login")
    response = await post_form(
        client,
        "/login",
        {"username": "admin", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.headers["location"] == "/"
    assert auth.safe_next("//evil.example/x") == "/"


async def test_wrong_password_is_refused_in_chinese_and_keeps_the_username(client, people):
    response = await login(client, "admin", "wrong-password")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text
    assert 'value="admin"' in response.text
    assert (await client.get("/")).status_code == 302


async def test_unknown_user_gets_the_same_message(client, people):
    response = await login(client, "nobody", "whatever-password")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text


async def test_session_cookie_is_httponly_and_lax(client, people):
    response = await login(client, "admin")
    header = response.headers["set-cookie"]
    assert "peixun_session=" in header
    assert "HttpOnly" in header
    assert "SameSite=lax" in header or "SameSite=Lax" in header


async def test_sign_in_gives_a_new_session_identifier(client, people):
    # A flash message after signing out leaves an anonymous session.
    await login(client, "admin")
    await post_form(client, "/logout")
    before = client.cookies.get("peixun_session")
    assert before
    await login(client, "jf-admin")
    after = client.cookies.get("peixun_session")
    assert after and after != before
    assert not await SessionRecord.exists().where(SessionRecord.key == before)


async def test_an_old_session_identifier_stops_working_after_signing_in_again(client, people):
    await login(client, "admin")
    stolen = client.cookies.get("peixun_session")
    await login(client, "admin")
    assert client.cookies.get("peixun_session") != stolen
    client.cookies.set("peixun_session", stolen)
    assert (await client.get("/")).status_code == 302


async def test_sign_out_ends_the_session(client, people):
    await login(client, "admin")
    session = client.cookies.get("peixun_session")
    response = await post_form(client, "/logout")
    assert response.headers["location"] == "/login"
    assert not await SessionRecord.exists().where(SessionRecord.key == session)
    page = await client.get("/login")
    assert "您已安全退出" in page.text
    client.cookies.set("peixun_session", session)
    assert (await client.get("/")).status_code == 302


async def test_session_ends_after_30_minutes_idle(client, people):
    await login(client, "admin")
    assert (await client.get("/")).status_code == 200
    await SessionRecord.update(
        {SessionRecord.expires_at: datetime.now(UTC) - timedelta(seconds=1)}, force=True
    )
    assert (await client.get("/")).status_code == 302


async def test_activity_keeps_the_session_alive(client, people):
    await login(client, "admin")
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await SessionRecord.update({SessionRecord.expires_at: soon}, force=True)
    assert (await client.get("/")).status_code == 200
    row = await SessionRecord.select(SessionRecord.expires_at).first()
    assert row["expires_at"] > datetime.now(UTC) + timedelta(minutes=29)


async def test_session_ends_12_hours_after_sign_in_even_when_active(client, people, monkeypatch):
    await login(client, "admin")
    later = datetime.now(UTC) + timedelta(hours=12, minutes=1)
    monkeypatch.setattr(auth, "_now", lambda: later)
    assert (await client.get("/")).status_code == 302


async def test_anonymous_pages_store_no_session(client, people):
    await client.get("/login")
    await client.get("/login")
    assert await SessionRecord.count() == 0


async def test_generated_password_must_be_changed_first(client, tree):
    initial = generate_initial_password()
    await make_user(
        "13900000009",
        tree["jiefang_g"],
        password_hash=hash_initial_password(initial),
        must_change_password=True,
    )
    response = await login(client, "13900000009", initial)
    assert response.headers["location"] == "/password"
    for path in ("/", "/people", "/units"):
        blocked = await client.get(path)
        assert blocked.status_code == 302 and blocked.headers["location"] == "/password"
    page = await client.get("/password")
    assert "设置新密码" in page.text
    changed = await post_form(
        client,
        "/password",
        {
            "current_password": initial,
            "new_password": "Wode-xinmima-88",
            "new_password_confirm": "Wode-xinmima-88",
        },
    )
    assert changed.status_code == 302
    assert (await client.get("/")).status_code == 200
    user = await User.objects().where(User.username == "13900000009").first()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not user.must_change_password
    # The generated password no longer works.
    await post_form(client, "/logout")
    assert (await login(client, "13900000009", initial)).status_code == 400
    assert (await login(client, "13900000009", "Wode-xinmima-88")).status_code == 302


async def test_password_change_errors_name_the_field(client, people):
    await login(client, "admin")
    response = await post_form(
        client,
        "/password",
        {"current_password": "wrong", "new_password": "short", "new_password_confirm": "x"},
    )
    assert response.status_code == 400
    assert "当前密码不正确" in response.text
    assert "至少需要 8 个字符" in response.text
    mismatch = await post_form(
        client,
        "/password",
        {
            "current_password": PASSWORD,
            "new_password": "Yige-xinmima-1",
            "new_password_confirm": "Yige-xinmima-2",
        },
    )
    assert "两次输入的新密码不一致" in mismatch.text


async def test_password_change_ends_other_sessions(client, people):
    await login(client, "admin")
    other = client.cookies.get("peixun_session")
    await post_form(client, "/logout")
    await login(client, "admin")
    response = await post_form(
        client,
        "/password",
        {
            "current_password": PASSWORD,
            "new_password": "Lingyige-mima-9",
            "new_password_confirm": "Lingyige-mima-9",
        },
    )
    assert response.status_code == 302
    assert (await client.get("/")).status_code == 200
    mine = client.cookies.get("peixun_session")
    client.cookies.set("peixun_session", other)
    assert (await client.get("/")).status_code == 302
    client.cookies.set("peixun_session", mine)
    assert (await client.get("/")).status_code == 200


async def test_ten_failures_lock_the_account_for_15_minutes(client, people, monkeypatch):
    for _ in range(9):
        response = await login(client, "jf-admin", "wrong-password")
        assert response.status_code == 400
    assert "再错 1 次" in response.text
    tenth = await login(client, "jf-admin", "wrong-password")
    assert "锁定 15 分钟" in tenth.text

    checked = []
    monkeypatch.setattr(auth, "verify_password", lambda *a: checked.append(a) or True)
    locked = await login(client, "jf-admin", PASSWORD)
    assert locked.status_code == 403
    assert "已被锁定 15 分钟" in locked.text
    assert checked == [], "a locked account's password must not be checked"
    monkeypatch.undo()

    # Other accounts are not affected.
    assert (await login(client, "admin")).status_code == 302

    # Fifteen minutes after the last failure the right password works again.
    await LoginAttempt.update(
        {LoginAttempt.created_at: datetime.now(UTC) - timedelta(minutes=16)},
        force=True,
    )
    assert (await login(client, "jf-admin")).status_code == 302


async def test_a_success_resets_the_failure_count(client, people):
    for _ in range(9):
        await login(client, "jf-admin", "wrong-password")
    assert (await login(client, "jf-admin")).status_code == 302
    await post_form(client, "/logout")
    response = await login(client, "jf-admin", "wrong-password")
    assert "再错" not in response.text


async def test_more_than_30_attempts_a_minute_from_one_address_get_429(client, people, monkeypatch):
    now = datetime.now(UTC)
    await LoginAttempt.insert(
        *[LoginAttempt(username=f"u{i}", ip="testclient", created_at=now) for i in range(30)]
    )
    checked = []
    monkeypatch.setattr(auth, "verify_password", lambda *a: checked.append(a) or True)
    response = await login(client, "admin")
    assert response.status_code == 429
    assert "登录尝试过于频繁" in response.text
    assert checked == []


async def test_attempts_are_counted_in_the_database(client, people):
    await login(client, "admin", "wrong-password")
    await login(client, "admin")
    rows = await LoginAttempt.select(LoginAttempt.succeeded).where(LoginAttempt.username == "admin")
    assert sorted(r["succeeded"] for r in rows) == [False, True]


async def test_deactivated_account_cannot_sign_in(client, people):
    await User.update({User.active: False}).where(User.username == "13800000001")
    response = await login(client, "13800000001")
    assert response.status_code == 403
    assert "该账号已停用" in response.text


async def test_forms_without_csrf_token_are_refused(client, people):
    await client.get("/login")
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.text
    assert await LoginAttempt.count() == 0
    bad = await client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "_csrf_token": "forged"}
    )
    assert bad.status_code == 403


async def test_each_role_gets_its_own_home_page(client, people):
    expected = {
        "admin": "操作记录",
        "jf-admin": "导入干部",
        "trainer": "培训管理",
        "13800000001": "我的培训",
    }
    for username, text in expected.items():
        await login(client, username)
        page = await client.get("/")
        assert text in page.text, username
        await post_form(client, "/logout")


async def test_senior_mode_switch_is_remembered(client, people):
    await login(client, "13800000001")
    assert 'class="senior"' not in (await client.get("/")).text
    await post_form(client, "/preferences/font", headers={"referer": "http://testserver.local/"})
    assert 'class="senior"' in (await client.get("/")).text
    user = await User.objects().where(User.username == "13800000001").first()
    assert user.large_font


async def test_simultaneous_attempts_cannot_slip_past_the_limits(people, monkeypatch):
    checked = []
    original = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checked.append(a) or original(*a))
    transport = httpx.ASGITransport(app=create_app(), client=("10.0.0.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        await c.get("/login")
        form = {"username": "trainer", "password": "wrong", "_csrf_token": c.cookies["csrftoken"]}
        responses = await asyncio.gather(*(c.post("/login", data=form) for _ in range(40)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(429) == 10
    assert statuses.count(400) <= 10
    assert len(checked) <= 10
    assert statuses.count(403) == 30 - statuses.count(400)
    assert all("锁定" in r.text for r in responses if r.status_code == 403)


async def test_the_signed_in_person_is_loaded_as_piccolo_would_load_them(people):
    from app.accounts.auth import active_user
    from app.tables import User

    for person in people.values():
        expected = await User.objects(User.unit).where(User.id == person.id).first()
        loaded = await active_user(person.id)
        assert loaded.to_dict() == expected.to_dict()
        assert loaded.unit.to_dict() == expected.unit.to_dict()
        assert type(loaded.active) is bool and type(loaded.created_at) is type(expected.created_at)
    await User.update({User.active: False}).where(User.id == people["cadre"].id)
    assert await active_user(people["cadre"].id) is None


async def test_a_username_longer_than_any_account_is_refused_like_a_wrong_one(client, people):
    await client.get("/login")
    refused = await post_form(client, "/login", {"username": "x" * 80, "password": "whatever12"})
    assert refused.status_code == 400 and "用户名或密码错误" in refused.text


async def test_the_command_line_refuses_a_name_longer_than_the_field(people):
    from app.accounts.commands import create_user

    with pytest.raises(SystemExit, match="姓名太长"):
        await create_user("trainer", "焦作市总工会", "long-name", "长" * 51, "a-Good-pass-123")


async def test_a_session_record_is_read_as_piccolo_reads_it(client, people):
    """The session store's written-out query gives the same data and expiry, same types."""
    from app.sessions import DatabaseStore
    from app.tables import SessionRecord

    await login(client, "trainer")
    row = await SessionRecord.select().first()
    data = await DatabaseStore().get(row["key"])
    assert data == bytes(row["data"]) and type(data) is bytes
    later = await SessionRecord.select(SessionRecord.expires_at).first()
    assert later["expires_at"] == row["expires_at"]  # renewed at most once a minute
    assert await DatabaseStore().get("no-such-session") is None
