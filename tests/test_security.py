"""A sweep over every route the app has: CSRF, roles and unit scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.lib.sealing import seal
from app.tables import (
    ROLES,
    Attempt,
    Attendance,
    Bank,
    Batch,
    ClassSession,
    Completion,
    Enrollment,
    Mistake,
    QuestionVersion,
    Quiz,
    Training,
    Upload,
    User,
)
from app.tables import Question as QuestionRow
from tests.conftest import PASSWORD, login, post_form

_APP = create_app()
ROUTES = sorted(
    (route.path, method, handler)
    for route in _APP.routes
    if isinstance(route, HTTPRoute) and not route.path.startswith("/static")
    for handler in route.route_handlers
    for method in handler.http_methods
    if method not in ("HEAD", "OPTIONS")
)
POST_ROUTES = [(path, handler) for path, method, handler in ROUTES if method == "POST"]
ROLE_GUARDED = [
    (path, method, roles)
    for path, method, handler in ROUTES
    for roles in [
        next(
            (
                guard.roles
                for layer in handler.ownership_layers
                for guard in layer.guards or []
                if hasattr(guard, "roles")
            ),
            None,
        )
    ]
    if roles
]
# Routes that take an object id (course pages take slugs of content everyone may read).
# The JSON API answers bearer tokens, not sessions: tests/test_api.py sweeps its ids.
WITH_IDS = [
    (path, method) for path, method, _ in ROUTES if ":int}" in path and not path.startswith("/api/")
]
SLUGS = {
    "module_slug": "ceshi",
    "lesson_slug": "一",
    "bank_slug": "ceshi-tiku",
    "key": "ceshi-001",
    "quiz_slug": "ceshi-quiz",
    "attempt_id": 1,
    "mistake_id": 1,
    "training_id": 1,
    "batch_id": 1,
    "enrollment_id": 1,
    "token_id": 1,
    "session_id": 1,
    "completion_id": 1,
    "import_id": 1,
    "amendment_id": 1,
    "override_id": 1,
    "requirement_id": 1,
    "round_id": 1,
    "activity_id": 1,
    "photo_id": 1,
    "returned_id": 1,
    "code": "ABCDEFGHJK",
}
ACCOUNTS = {
    "cadre": "13800000001",
    "trainer": "trainer",
    "unit_admin": "jf-admin",
    "federation_admin": "admin",
}


def _fill(path: str, ids: dict[str, int]) -> str:
    values = {**SLUGS, **ids}
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(values[m.group(1)]), path)


def test_the_sweep_sees_the_routes():
    paths = {path for path, _, _ in ROUTES}
    assert {"/login", "/logout", "/people/{person_id:int}", "/units/{unit_id:int}"} <= paths
    assert len(ROLE_GUARDED) >= 10
    assert len(WITH_IDS) >= 6


@pytest.mark.parametrize(("path", "handler"), POST_ROUTES, ids=[p for p, _ in POST_ROUTES])
async def test_every_form_refuses_a_request_without_csrf_token(client, people, path, handler):
    await login(client, "admin")
    ids = {"unit_id": people["cadre"].unit, "person_id": people["cadre"].id, "upload_id": 1}
    response = await client.post(_fill(path, ids), data={"name": "x"})
    assert response.status_code == 403
    assert "页面已过期" in response.text


@pytest.mark.parametrize(
    ("path", "method", "roles"), ROLE_GUARDED, ids=[f"{m} {p}" for p, m, _ in ROLE_GUARDED]
)
async def test_every_guarded_route_refuses_lesser_roles_and_anonymous(
    client, people, tree, path, method, roles
):
    ids = {"unit_id": tree["jiefang_g"].id, "person_id": people["cadre"].id, "upload_id": 1}
    url = _fill(path, ids)
    await client.get("/login")
    anonymous = await (
        client.get(url) if method == "GET" else post_form(client, url, {"name": "x"})
    )
    assert anonymous.status_code == 302
    assert anonymous.headers["location"].startswith("/login")
    for role in ROLES:
        if role in roles:
            continue
        await login(client, ACCOUNTS[role])
        response = await (
            client.get(url) if method == "GET" else post_form(client, url, {"name": "x"})
        )
        assert response.status_code == 403, f"{role} reached {method} {url}"
        assert "没有权限" in response.text
        await post_form(client, "/logout")


@pytest.mark.parametrize(("path", "method"), WITH_IDS, ids=[f"{m} {p}" for p, m in WITH_IDS])
async def test_ids_from_another_unit_give_403_or_404_and_no_data(
    client, people, tree, path, method
):
    upload = Upload(
        kind="cadres",
        filename="中站区名单.xlsx",
        content=b"x",
        uploaded_by=people["zhongzhan_admin"].id,
    )
    await upload.save()
    # The initial passwords of an import by 中站区's admin (app/accounts/people_import.py).
    password_list = Upload(
        kind="password_list",
        filename="干部账号与初始密码.xlsx",
        content=seal(b"PK initial passwords"),
        uploaded_by=people["zhongzhan_admin"].id,
    )
    await password_list.save()
    attempt_id, mistake_id = await _other_cadres_attempt(people["other_cadre"].id)
    training_id, batch_id, enrollment_id = await _other_units_training(tree, people)
    session_id, completion_id = await _other_cadres_completion(
        training_id, batch_id, enrollment_id, people["other_cadre"].id
    )
    foreign = {
        "unit_id": [tree["zhongzhan_g"].id, tree["city"].id],
        "person_id": [people["other_cadre"].id, people["admin"].id],
        "upload_id": [upload.id],
        "import_id": [password_list.id],
        "attempt_id": [attempt_id],
        "mistake_id": [mistake_id],
        "training_id": [training_id],
        "batch_id": [batch_id],
        "enrollment_id": [enrollment_id],
        "session_id": [session_id],
        "completion_id": [completion_id],
    }
    for account in ("jf-admin", "13800000001"):
        await login(client, account)
        await _try_foreign_ids(client, tree, path, method, foreign)
        await post_form(client, "/logout")


async def _other_cadres_attempt(cadre_id: int) -> tuple[int, int]:
    """An attempt and a mistake of the cadre in 中站区, for trying their ids elsewhere."""
    quiz = Quiz(slug="ceshi-quiz", title="中站区测验")
    await quiz.save()
    bank = Bank(slug="ceshi-tiku", title="测试题库")
    await bank.save()
    question = QuestionRow(bank=bank.id, key="ceshi-001")
    await question.save()
    version = QuestionVersion(
        question=question.id, type="true_false", stem="中站区的题", answer='["对"]'
    )
    await version.save()
    attempt = Attempt(quiz=quiz.id, account=cadre_id, status="submitted", score=55.0)
    await attempt.save()
    mistake = Mistake(
        account=cadre_id, question=question.id, question_version=version.id, attempt=attempt.id
    )
    await mistake.save()
    return attempt.id, mistake.id


async def _other_units_training(tree, people) -> tuple[int, int, int]:
    """A training of 中站区, with a batch open only to it and its cadre enrolled."""
    training = Training(title="中站区专题培训", kind="rotation", unit=tree["zhongzhan"].id)
    await training.save()
    batch = Batch(training=training.id, name="第一期", open_unit=tree["zhongzhan"].id)
    await batch.save()
    enrollment = Enrollment(
        training=training.id,
        batch=batch.id,
        account=people["other_cadre"].id,
        unit=tree["zhongzhan_g"].id,
    )
    await enrollment.save()
    return training.id, batch.id, enrollment.id


async def _other_cadres_completion(
    training_id: int, batch_id: int, enrollment_id: int, cadre_id: int
) -> tuple[int, int]:
    """A class session of that batch, attended by its cadre, and the cadre's completion."""
    session = ClassSession(
        batch=batch_id,
        starts_at=datetime.now(UTC),
        topic="中站区的课",
        checkin_code="654321",
        code_expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )
    await session.save()
    await Attendance(session=session.id, account=cadre_id, method="code").save()
    completion = Completion(
        training=training_id, account=cadre_id, enrollment=enrollment_id, code="ZHONGZHAN1"
    )
    await completion.save()
    return session.id, completion.id


async def _try_foreign_ids(client, tree, path, method, foreign) -> None:
    for n in range(2):
        ids = {name: values[min(n, len(values) - 1)] for name, values in foreign.items()}
        url = _fill(path, ids)
        data = {"name": "改名", "active": "0", "parent": str(tree["jiefang"].id)}
        response = await (client.get(url) if method == "GET" else post_form(client, url, data))
        assert response.status_code in (403, 404), f"{method} {url}: {response.status_code}"
        secrets = ("周学员", "王市总", "中站区第一中学工会", "中站区名单", "中站区的题")
        for secret in (*secrets, "中站区的课", "654321", "ZHONGZHAN1"):
            assert secret not in response.text


async def test_a_csrf_pair_from_another_browser_is_refused(client, people):
    """The token is bound to the session: browser A's cookie and form token, sent from
    browser B (another person's session), are refused; B's own pair is accepted."""
    a, b = client, AsyncTestClient(app=client.app)
    b.follow_redirects = False
    await login(a, "jf-admin")
    await login(b, "zz-admin")
    page = await a.get("/")
    a_field = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
    a_cookie = a.cookies["csrftoken"]
    assert a_field == a_cookie
    b_cookie = b.cookies["csrftoken"]
    _set_csrf_cookie(b, a_cookie)
    for sent in ({"data": {"_csrf_token": a_field}}, {"headers": {"x-csrftoken": a_field}}):
        refused = await b.post("/preferences/font", **sent)
        assert refused.status_code == 403
        assert "页面已过期" in refused.text
    assert not await _large_font("zz-admin")
    _set_csrf_cookie(b, b_cookie)
    accepted = await b.post("/preferences/font", data={"_csrf_token": b_cookie})
    assert accepted.status_code == 302
    assert await _large_font("zz-admin")
    by_header = await b.post("/preferences/font", headers={"x-csrftoken": b_cookie})
    assert by_header.status_code == 302
    assert not await _large_font("zz-admin")
    # A's own pair still works in A.
    assert (await a.post("/preferences/font", data={"_csrf_token": a_field})).status_code == 302
    assert await _large_font("jf-admin")


def _set_csrf_cookie(browser: AsyncTestClient, value: str) -> None:
    browser.cookies.set("csrftoken", value, domain=browser.base_url.host)


async def _large_font(username: str) -> bool:
    return (await User.objects().where(User.username == username).first()).large_font


async def test_signing_in_issues_a_fresh_csrf_token(client, people):
    await client.get("/login")
    anonymous = client.cookies["csrftoken"]
    signed_in = await post_form(client, "/login", {"username": "jf-admin", "password": PASSWORD})
    assert signed_in.status_code == 302
    fresh = client.cookies["csrftoken"]
    assert fresh != anonymous
    # The pair of the sign-in page no longer passes for the signed-in session.
    _set_csrf_cookie(client, anonymous)
    stale = await client.post("/preferences/font", data={"_csrf_token": anonymous})
    assert stale.status_code == 403
    _set_csrf_cookie(client, fresh)
    assert (await client.get("/")).status_code == 200
    assert (await post_form(client, "/preferences/font")).status_code == 302
    # Signing out hands back a token the sign-in page accepts.
    await post_form(client, "/logout")
    assert (await client.get("/login")).status_code == 200
    again = await post_form(client, "/login", {"username": "jf-admin", "password": PASSWORD})
    assert again.status_code == 302
