"""The read-only JSON API (/api/v1) and the pages that make and revoke its tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.tables import ApiToken, AuditEvent, Batch, Enrollment, Training, Unit, User
from tests.conftest import login, make_user, post_form

API = "/api/v1"
SCHEMA = f"{API}/schema/openapi.json"
OUTSIDE = ("中站区", "周学员", "吴学员", "13800000002", "中站区自办培训")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_token(unit: Unit, creator: User, revoked: bool = False, name: str = "统计系统"):
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        unit=unit.id,
        created_by=creator.id,
        revoked_at=datetime.now(UTC) if revoked else None,
    )
    await row.save()
    return token


async def enroll(training: Training, person: User, unit: Unit, batch: Batch | None, **progress):
    row = Enrollment(
        training=training.id,
        batch=batch.id if batch else None,
        account=person.id,
        unit=unit.id,
        lessons_required=10,
        **progress,
    )
    await row.save()
    return row


@pytest.fixture
async def data(tree, people):
    """A city training with enrollments in both counties, and one run by 中站区 for itself."""
    training = Training(
        title="工会法专题培训", kind="special", unit=tree["city"].id, credit_hours=8.0
    )
    await training.save()
    first = Batch(
        training=training.id, name="第一期", starts_on=date(2026, 3, 2), place="市工人文化宫"
    )
    await first.save()
    second = Batch(training=training.id, name="第二期", capacity=60, sort_order=1)
    await second.save()
    done = datetime.now(UTC)
    jg, jf, zg = tree["jiefang_g"], tree["jiefang"], tree["zhongzhan_g"]
    more = {
        "jg2": await make_user("jg2", jg, name="郑学员", phone="13900000003", position="主席"),
        "jg3": await make_user("jg3", jg, name="冯学员"),
        "jg4": await make_user("jg4", jg, name="陈学员"),
        "jf1": await make_user("jf1", jf, name="褚学员"),
        "zg2": await make_user("zg2", zg, name="吴学员"),
    }
    enroll_args = [
        (people["cadre"], jg, first, {"quiz_score": 90.0, "hours": 8.0, "completed_at": done}),
        (more["jg2"], jg, first, {"quiz_score": 60.0, "hours": 2.0, "lessons_read": 4}),
        (more["jg3"], jg, second, {}),
        # Withdrawn: counted nowhere.
        (more["jg4"], jg, first, {"quiz_score": 10.0, "hours": 8.0, "completed_at": done}),
        (more["jf1"], jf, second, {"quiz_score": 80.0, "hours": 8.0, "completed_at": done}),
        (
            people["other_cadre"],
            zg,
            first,
            {"quiz_score": 100.0, "hours": 8.0, "completed_at": done},
        ),
        (more["zg2"], zg, second, {}),
    ]
    enrollments = [await enroll(training, p, u, b, **kw) for p, u, b, kw in enroll_args]
    await Enrollment.update({Enrollment.active: False}).where(Enrollment.id == enrollments[3].id)
    own = Training(title="中站区自办培训", kind="rotation", unit=tree["zhongzhan"].id)
    await own.save()
    own_batch = Batch(training=own.id, name="中站区一期")
    await own_batch.save()
    await enroll(own, more["zg2"], zg, own_batch)
    return {
        "training": training,
        "first": first,
        "second": second,
        "own": own,
        "own_batch": own_batch,
        "jiefang": await make_token(tree["jiefang"], people["admin"]),
        "city": await make_token(tree["city"], people["admin"]),
    }


def assert_nothing_from_outside(text: str) -> None:
    for secret in OUTSIDE:
        assert secret not in text


# --------------------------------------------------------------------------- authentication


async def test_requests_without_a_valid_token_get_401_json(client, data, tree, people):
    revoked = await make_token(tree["jiefang"], people["admin"], revoked=True)
    training = data["training"].id
    for url in (f"{API}/trainings", f"{API}/trainings/{training}/roster"):
        for headers in (
            {},
            bearer("wrong-" + secrets.token_urlsafe(32)),
            bearer(revoked),
            {"Authorization": f"Basic {data['jiefang']}"},
            {"Authorization": "Bearer "},
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 401, (url, headers)
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == {"error": "令牌无效或已撤销"}
            assert response.headers["www-authenticate"] == "Bearer"
    assert (
        await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    ).status_code == 200


async def test_a_signed_in_session_is_no_substitute_for_a_token(client, data):
    await login(client, "admin")
    response = await client.get(f"{API}/trainings")
    assert response.status_code == 401
    assert response.json() == {"error": "令牌无效或已撤销"}


async def test_the_api_needs_no_csrf_token_and_sets_no_cookie(data):
    fresh = AsyncTestClient(app=create_app())
    async with fresh:
        response = await fresh.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert not fresh.cookies
        assert response.headers["cache-control"] == "no-store"
        # Only GET is offered; a POST is refused for its method, not for a missing CSRF token.
        response = await fresh.post(f"{API}/trainings", headers=bearer(data["jiefang"]))
        assert response.status_code == 405
        assert response.json() == {"error": "接口只支持 GET 请求。"}
        assert "set-cookie" not in response.headers


async def test_errors_under_the_api_are_json_even_before_routing(client, data):
    for url in (f"{API}/nope", f"{API}/trainings/abc/roster"):
        response = await client.get(url, headers=bearer(data["jiefang"]))
        assert response.status_code == 404
        assert response.json() == {"error": "没有找到请求的内容。"}
    # The HTML pages keep their HTML error pages.
    page = await client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


async def test_last_used_is_recorded_at_most_once_a_minute(client, data):
    token_hash = hashlib.sha256(data["jiefang"].encode()).hexdigest()
    row = ApiToken.objects().where(ApiToken.token_hash == token_hash)
    assert (await row.first()).last_used_at is None
    await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    first = (await row.first()).last_used_at
    assert first is not None
    await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    assert (await row.first()).last_used_at == first
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    await ApiToken.update({ApiToken.last_used_at: earlier}).where(ApiToken.token_hash == token_hash)
    await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    assert (await row.first()).last_used_at > earlier + timedelta(minutes=4)


# --------------------------------------------------------------------------- trainings


async def test_trainings_are_those_organised_or_attended_within_the_scope(
    client, data, tree, people
):
    response = await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [t["title"] for t in items] == ["工会法专题培训"]
    training = items[0]
    assert training["id"] == data["training"].id
    assert training["kind"] == "special"
    assert training["kind_name"] == "专题培训"
    assert training["organiser"] == {"id": tree["city"].id, "name": "焦作市总工会"}
    assert training["credit_hours"] == 8.0
    assert training["batches"] == [
        {
            "id": data["first"].id,
            "name": "第一期",
            "starts_on": "2026-03-02",
            "ends_on": None,
            "place": "市工人文化宫",
            "capacity": 0,
        },
        {
            "id": data["second"].id,
            "name": "第二期",
            "starts_on": None,
            "ends_on": None,
            "place": "",
            "capacity": 60,
        },
    ]
    assert_nothing_from_outside(response.text)

    city = await client.get(f"{API}/trainings", headers=bearer(data["city"]))
    assert {t["title"] for t in city.json()["items"]} == {"工会法专题培训", "中站区自办培训"}

    # Organised in the subtree counts even before anyone enrolls; inactive trainings do not.
    local = Training(title="解放区自办培训", unit=tree["jiefang_g"].id)
    await local.save()
    await Training(title="停办的培训", unit=tree["jiefang"].id, active=False).save()
    titles = [
        t["title"]
        for t in (await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))).json()[
            "items"
        ]
    ]
    assert sorted(titles) == ["工会法专题培训", "解放区自办培训"]
    zhongzhan = await make_token(tree["zhongzhan"], people["admin"])
    titles = {
        t["title"]
        for t in (await client.get(f"{API}/trainings", headers=bearer(zhongzhan))).json()["items"]
    }
    assert titles == {"工会法专题培训", "中站区自办培训"}


async def test_batches_of_a_training(client, data):
    training = data["training"].id
    response = await client.get(
        f"{API}/trainings/{training}/batches", headers=bearer(data["jiefang"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["training_id"] == training
    assert [b["name"] for b in body["items"]] == ["第一期", "第二期"]


async def test_trainings_outside_the_scope_are_not_found(client, data):
    for training_id in (data["own"].id, 999_999, 2**40):
        for tail in ("batches", "summary", "roster"):
            response = await client.get(
                f"{API}/trainings/{training_id}/{tail}", headers=bearer(data["jiefang"])
            )
            assert response.status_code == 404, (training_id, tail)
            assert "不在令牌的单位范围内" in response.json()["error"]
            assert_nothing_from_outside(response.text)


async def test_every_api_route_with_an_id_refuses_ids_from_outside(client, data):
    """Like the sweep of tests/test_security.py, with a token instead of a session."""
    app = create_app()
    routes = [
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith(API) and ":int}" in route.path
    ]
    assert len(routes) == 3
    for path in routes:
        url = re.sub(r"\{training_id:int\}", str(data["own"].id), path)
        response = await client.get(url, headers=bearer(data["jiefang"]))
        assert response.status_code == 404, url
        assert_nothing_from_outside(response.text)


# --------------------------------------------------------------------------- summary


async def test_summary_counts_the_enrollments_of_each_unit_in_the_scope(client, data, tree):
    training = data["training"].id
    response = await client.get(
        f"{API}/trainings/{training}/summary", headers=bearer(data["jiefang"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["training_id"] == training
    assert body["batch_id"] is None
    assert body["units"] == [
        {
            "unit_id": tree["jiefang"].id,
            "name": "解放区总工会",
            "depth": 1,
            "level": 0,
            "enrolled": 1,
            "completed": 1,
            "not_completed": 0,
            "completion_rate": 1.0,
            "average_score": 80.0,
            "hours": 8.0,
        },
        {
            "unit_id": tree["jiefang_g"].id,
            "name": "解放区人民医院工会",
            "depth": 2,
            "level": 1,
            "enrolled": 3,
            "completed": 1,
            "not_completed": 2,
            "completion_rate": 1 / 3,  # as the 汇总表 holds it, not rounded to 4 places
            "average_score": 75.0,
            "hours": 10.0,
        },
    ]
    assert body["total"] == {
        "enrolled": 4,
        "completed": 2,
        "not_completed": 2,
        "completion_rate": 0.5,
        "average_score": 76.7,
        "hours": 18.0,
    }
    assert_nothing_from_outside(response.text)


async def test_summary_of_one_batch_and_of_the_whole_city(client, data, tree):
    training = data["training"].id
    response = await client.get(
        f"{API}/trainings/{training}/summary",
        params={"batch": data["first"].id},
        headers=bearer(data["jiefang"]),
    )
    body = response.json()
    assert body["batch_id"] == data["first"].id
    jiefang, hospital = body["units"]
    assert (jiefang["enrolled"], jiefang["completion_rate"], jiefang["average_score"]) == (
        0,
        None,
        None,
    )
    assert (hospital["enrolled"], hospital["completed"], hospital["hours"]) == (2, 1, 10.0)
    assert body["total"]["enrolled"] == 2

    city = await client.get(f"{API}/trainings/{training}/summary", headers=bearer(data["city"]))
    body = city.json()
    assert [u["name"] for u in body["units"]] == [
        "焦作市总工会",
        "中站区总工会",
        "中站区第一中学工会",
        "解放区总工会",
        "解放区人民医院工会",
    ]
    assert body["units"][2]["enrolled"] == 2
    assert body["units"][2]["average_score"] == 100.0
    assert body["total"]["enrolled"] == 6
    assert body["total"]["completed"] == 3

    foreign = await client.get(
        f"{API}/trainings/{training}/summary",
        params={"batch": data["own_batch"].id},
        headers=bearer(data["city"]),
    )
    assert foreign.status_code == 404
    assert foreign.json() == {"error": "这项培训没有这个期次。"}


# --------------------------------------------------------------------------- roster


async def test_roster_lists_the_scope_only_without_contact_data(client, data, tree):
    training = data["training"].id
    response = await client.get(
        f"{API}/trainings/{training}/roster", headers=bearer(data["jiefang"])
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (4, 1, 500, 1)
    names = {row["name"] for row in body["items"]}
    assert names == {"孙学员", "郑学员", "冯学员", "褚学员"}
    row = next(r for r in body["items"] if r["name"] == "郑学员")
    assert row["position"] == "主席"
    assert row["unit"] == {"id": tree["jiefang_g"].id, "name": "解放区人民医院工会"}
    assert row["batch"] == {"id": data["first"].id, "name": "第一期"}
    assert (row["lessons_read"], row["lessons_required"]) == (4, 10)
    assert (row["quiz_score"], row["quiz_passed"], row["completed_at"]) == (60.0, False, None)
    assert row["hours"] == 2.0
    assert set(row) == {
        "enrollment_id",
        "cadre_id",
        "name",
        "position",
        "unit",
        "batch",
        "lessons_read",
        "lessons_required",
        "quiz_score",
        "quiz_passed",
        "sessions_attended",
        "sessions_total",
        "hours",
        "completed_at",
    }
    done = next(r for r in body["items"] if r["name"] == "孙学员")
    assert datetime.fromisoformat(done["completed_at"]).tzinfo is not None
    # Usernames may be phone numbers too: neither leaves the server.
    for private in ("13800000001", "13900000003", "jg2", "password", "phone"):
        assert private not in response.text
    assert_nothing_from_outside(response.text)


async def test_roster_pages(client, data):
    url = f"{API}/trainings/{data['training'].id}/roster"
    seen = []
    for page in (1, 2):
        body = (
            await client.get(
                url, params={"page": page, "page_size": 3}, headers=bearer(data["jiefang"])
            )
        ).json()
        assert (body["total"], body["page"], body["page_size"], body["pages"]) == (4, page, 3, 2)
        seen += [r["enrollment_id"] for r in body["items"]]
    assert len(seen) == len(set(seen)) == 4
    beyond = await client.get(
        url, params={"page": 3, "page_size": 3}, headers=bearer(data["jiefang"])
    )
    assert beyond.json()["items"] == []
    for params in ({"page_size": 1001}, {"page_size": 0}, {"page": 0}, {"page": "x"}):
        response = await client.get(url, params=params, headers=bearer(data["jiefang"]))
        assert response.status_code == 400, params
        assert response.json()["error"].startswith("请求参数不正确")
    full = await client.get(url, params={"page_size": 1000}, headers=bearer(data["jiefang"]))
    assert full.status_code == 200


async def test_roster_filters_by_unit_and_batch_within_the_scope(client, data, tree):
    url = f"{API}/trainings/{data['training'].id}/roster"
    token = bearer(data["jiefang"])
    hospital = await client.get(url, params={"unit": tree["jiefang_g"].id}, headers=token)
    assert {r["name"] for r in hospital.json()["items"]} == {"孙学员", "郑学员", "冯学员"}
    second = await client.get(url, params={"batch": data["second"].id}, headers=token)
    assert {r["name"] for r in second.json()["items"]} == {"冯学员", "褚学员"}
    both = await client.get(
        url, params={"unit": tree["jiefang_g"].id, "batch": data["second"].id}, headers=token
    )
    assert [r["name"] for r in both.json()["items"]] == ["冯学员"]

    for outside in (tree["zhongzhan_g"].id, tree["city"].id):
        response = await client.get(url, params={"unit": outside}, headers=token)
        assert response.status_code == 403
        assert response.json() == {"error": "这个单位不在令牌的单位范围内。"}
    missing = await client.get(url, params={"unit": 2**40}, headers=token)
    assert missing.status_code == 404
    foreign_batch = await client.get(url, params={"batch": data["own_batch"].id}, headers=token)
    assert foreign_batch.status_code == 404

    city = await client.get(
        url, params={"unit": tree["zhongzhan_g"].id}, headers=bearer(data["city"])
    )
    assert {r["name"] for r in city.json()["items"]} == {"周学员", "吴学员"}


# --------------------------------------------------------------------------- the schema


async def test_the_openapi_schema_documents_the_api_only(client, db):
    response = await client.get(SCHEMA)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    schema = response.json()
    assert schema["info"]["title"] == "工会干部培训平台 API"
    assert schema["info"]["version"] == "1.0.0"
    assert set(schema["paths"]) == {
        f"{API}/trainings",
        f"{API}/trainings/{{training_id}}/batches",
        f"{API}/trainings/{{training_id}}/summary",
        f"{API}/trainings/{{training_id}}/roster",
        f"{API}/credits/summary",
        f"{API}/credits/cadres",
    }
    roster = schema["paths"][f"{API}/trainings/{{training_id}}/roster"]["get"]
    assert {p["name"] for p in roster["parameters"]} == {
        "training_id",
        "page",
        "page_size",
        "unit",
        "batch",
    }
    assert roster["security"] == [{"BearerToken": []}]
    assert {"200", "401", "403", "404"} <= set(roster["responses"])
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert {"Roster", "RosterEntry", "Summary", "UnitSummary", "TrainingOut", "ApiError"} <= set(
        schema["components"]["schemas"]
    )
    assert "phone" not in response.text


# --------------------------------------------------------------------------- token pages


async def test_creating_a_token_shows_it_once_and_stores_only_its_hash(client, people, tree):
    await login(client, "admin")
    page = await client.get("/admin/api-tokens")
    assert page.status_code == 200
    assert "还没有接口令牌" in page.text
    response = await post_form(
        client, "/admin/api-tokens", {"name": "解放区统计系统", "unit": str(tree["jiefang"].id)}
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert "只显示这一次" in response.text
    token = re.search(r'<code class="secret[^"]*" id="token">([^<]+)</code>', response.text)[1]
    assert len(token) >= 40
    row = await ApiToken.objects().first()
    assert row.name == "解放区统计系统"
    assert row.unit == tree["jiefang"].id
    assert row.created_by == people["admin"].id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(await ApiToken.select())
    event = await AuditEvent.objects().where(AuditEvent.action == "api_token.create").first()
    assert event.target_id == row.id
    assert token not in event.summary

    listing = await client.get("/admin/api-tokens")
    assert "解放区统计系统" in listing.text
    assert "从未使用" in listing.text
    assert token not in listing.text
    api = await client.get(f"{API}/trainings", headers=bearer(token))
    assert api.status_code == 200


async def test_a_token_needs_a_name_and_a_unit(client, people, tree):
    await login(client, "admin")
    response = await post_form(client, "/admin/api-tokens", {"name": " ", "unit": "999999"})
    assert response.status_code == 400
    assert "请填写令牌名称" in response.text
    assert "请选择令牌可以查看的单位" in response.text
    assert not await ApiToken.exists()


async def test_revoking_a_token_locks_it_out(client, people, tree, data):
    row = await ApiToken.objects().where(ApiToken.unit == tree["jiefang"].id).first()
    await login(client, "admin")
    refused = await client.post(f"/admin/api-tokens/{row.id}/revoke")
    assert refused.status_code == 403
    assert "页面已过期" in refused.text
    response = await post_form(client, f"/admin/api-tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert (await ApiToken.objects().where(ApiToken.id == row.id).first()).revoked_at is not None
    assert await AuditEvent.exists().where(
        AuditEvent.action == "api_token.revoke", AuditEvent.target_id == row.id
    )
    api = await client.get(f"{API}/trainings", headers=bearer(data["jiefang"]))
    assert api.status_code == 401
    listing = await client.get("/admin/api-tokens")
    assert "已撤销" in listing.text
    again = await post_form(client, f"/admin/api-tokens/{row.id}/revoke")
    assert again.status_code == 302
    assert await AuditEvent.count().where(AuditEvent.action == "api_token.revoke") == 1
    assert (await post_form(client, "/admin/api-tokens/999999/revoke")).status_code == 404
    # The other token still works.
    assert (await client.get(f"{API}/trainings", headers=bearer(data["city"]))).status_code == 200


@pytest.mark.parametrize("username", ["13800000001", "jf-admin", "trainer"])
async def test_only_federation_staff_manage_tokens(client, people, tree, username):
    await make_token(tree["jiefang"], people["admin"])
    row = await ApiToken.objects().first()
    await login(client, username)
    assert (await client.get("/admin/api-tokens")).status_code == 403
    created = await post_form(
        client, "/admin/api-tokens", {"name": "偷偷建的", "unit": str(tree["city"].id)}
    )
    assert created.status_code == 403
    revoked = await post_form(client, f"/admin/api-tokens/{row.id}/revoke")
    assert revoked.status_code == 403
    assert await ApiToken.count() == 1
    assert (await ApiToken.objects().first()).revoked_at is None


async def test_the_federation_home_links_to_the_token_page(client, people):
    await login(client, "admin")
    assert 'href="/admin/api-tokens"' in (await client.get("/")).text
