"""The people pages: list and search, create, edit, deactivate, reset password, and scope."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from litestar.testing import AsyncTestClient

from app.accounts.units import create_unit
from app.tables import AuditEvent, Unit, User
from tests.conftest import PASSWORD, login, make_user, post_form

NEW_PASSWORD = "Wode-xin-mima-2024"


async def sign_in(client: AsyncTestClient, username: str, password: str = PASSWORD) -> None:
    response = await login(client, username, password)
    assert response.status_code == 302, response.text


class Browser:
    """A second browser: the test client with cookies of its own.

    A second AsyncTestClient would run the app on another event loop, which on PostgreSQL
    would share the first loop's connection pool and fail.
    """

    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client
        self.jar = httpx.Cookies()

    @contextmanager
    def open(self) -> Iterator[AsyncTestClient]:
        own = httpx.Cookies(self.client.cookies)
        self.client.cookies = self.jar
        try:
            yield self.client
        finally:
            self.jar = httpx.Cookies(self.client.cookies)
            self.client.cookies = own


def listed_names(html: str) -> list[str]:
    """The names in the people table, in order."""
    rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>", html)
    return [name for name in rows if "没有符合条件的人员" not in name]


def shown_password(html: str) -> str:
    match = re.search(r'<code class="secret">([^<]+)</code>', html)
    assert match, "no initial password on the page"
    return match.group(1)


async def person(person_id: int) -> User:
    found = await User.objects().where(User.id == person_id).first()
    assert found is not None
    return found


def new_person(where: Unit, **values: str) -> dict[str, str]:
    """A valid form for a new cadre in `where`, with `values` overriding fields."""
    form = {
        "name": "刘新人",
        "phone": "13912345678",
        "username": "liuxinren",
        "unit": str(where.id),
        "position": "工会委员",
        "gender": "女",
        "staff_no": "A-0001",
        "role": "cadre",
    }
    form.update(values)
    return form


# --------------------------------------------------------------------------- list


async def test_list_shows_everyone_in_scope_for_federation_admin(client, people, tree):
    await sign_in(client, "admin")
    response = await client.get("/people")
    assert response.status_code == 200
    assert "共 6 人" in response.text
    assert sorted(listed_names(response.text)) == sorted(p.name for p in people.values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("孙", ["孙学员"]),
        ("学员", ["孙学员", "周学员"]),
        ("13800000002", ["周学员"]),
        ("0000000", ["孙学员", "周学员"]),
        ("jf-ad", ["赵解放"]),
        ("JF-ADMIN", ["赵解放"]),
        ("  赵解放  ", ["赵解放"]),
        ("没有这个人", []),
    ],
)
async def test_search_by_name_username_and_phone(client, people, tree, query, expected):
    await sign_in(client, "admin")
    response = await client.get("/people", params={"q": query})
    assert response.status_code == 200
    assert sorted(listed_names(response.text)) == sorted(expected)
    assert f"共 {len(expected)} 人" in response.text
    if not expected:
        assert "没有符合条件的人员。" in response.text


async def test_search_treats_wildcards_literally(client, people, tree):
    await sign_in(client, "admin")
    for query in ("%", "_"):
        response = await client.get("/people", params={"q": query})
        assert listed_names(response.text) == []


async def test_unit_filter_includes_sub_units(client, people, tree):
    await sign_in(client, "admin")
    html = (await client.get("/people", params={"unit": tree["jiefang"].id})).text
    assert sorted(listed_names(html)) == sorted(["赵解放", "孙学员"])
    assert f'<option value="{tree["jiefang"].id}" selected>' in html
    html = (await client.get("/people", params={"unit": tree["zhongzhan_g"].id})).text
    assert listed_names(html) == ["周学员"]


@pytest.mark.parametrize("unit", ["abc", "²", "-3"])
async def test_nonsense_unit_filter_is_ignored(client, people, tree, unit):
    await sign_in(client, "admin")
    response = await client.get("/people", params={"unit": unit})
    assert response.status_code == 200
    assert "共 6 人" in response.text


async def test_role_and_status_filters(client, people, tree):
    await User.update({User.active: False}).where(User.id == people["other_cadre"].id)
    await sign_in(client, "admin")
    html = (await client.get("/people", params={"role": "cadre"})).text
    assert listed_names(html) == ["孙学员"]
    html = (await client.get("/people", params={"role": "cadre", "status": "all"})).text
    assert sorted(listed_names(html)) == sorted(["孙学员", "周学员"])
    html = (await client.get("/people", params={"status": "inactive"})).text
    assert listed_names(html) == ["周学员"]
    assert "已停用</span>" in html
    html = (await client.get("/people", params={"role": "unit_admin"})).text
    assert sorted(listed_names(html)) == sorted(["赵解放", "钱中站"])
    # The default shows active people only.
    html = (await client.get("/people")).text
    assert "周学员" not in listed_names(html)
    assert "共 5 人" in html


async def test_pagination_after_fifty_people(client, people, tree):
    await User.insert(
        *[
            User(
                username=f"batch-{i:03d}",
                name=f"批量学员{i:03d}",
                role="cadre",
                unit=tree["jiefang_g"].id,
                password_hash="x",
            )
            for i in range(60)
        ]
    )
    await sign_in(client, "admin")
    first = (await client.get("/people")).text
    assert "共 66 人" in first
    assert "第 1 / 2 页" in first
    assert "下一页</a>" in first
    assert "上一页</a>" not in first
    assert len(listed_names(first)) == 50
    second = (await client.get("/people", params={"page": 2})).text
    assert "第 2 / 2 页" in second
    assert "上一页</a>" in second
    assert len(listed_names(second)) == 16
    everyone = listed_names(first) + listed_names(second)
    assert len(set(everyone)) == 66
    # Filters are kept in the page links.
    filtered = (await client.get("/people", params={"q": "批量", "unit": tree["jiefang"].id})).text
    assert "共 60 人" in filtered
    assert f"q=%E6%89%B9%E9%87%8F&amp;unit={tree['jiefang'].id}" in filtered
    assert len(listed_names(filtered)) == 50
    # A page past the end shows the last page.
    assert "第 2 / 2 页" in (await client.get("/people", params={"page": 9})).text


async def test_unit_admin_lists_only_own_subtree(client, people, tree):
    await sign_in(client, "jf-admin")
    response = await client.get("/people", params={"status": "all"})
    assert response.status_code == 200
    assert sorted(listed_names(response.text)) == sorted(["赵解放", "孙学员"])
    for foreign in ("周学员", "钱中站", "王市总", "李培训", "中站区"):
        assert foreign not in response.text
    for query in ("周", "13800000002", "admin"):
        html = (await client.get("/people", params={"q": query})).text
        assert "周学员" not in html
        assert "王市总" not in html
    response = await client.get("/people", params={"unit": tree["zhongzhan"].id})
    assert response.status_code in (403, 404)
    assert "周学员" not in response.text


# --------------------------------------------------------------------------- create


async def test_create_shows_initial_password_once_and_forces_change(client, people, tree):
    await sign_in(client, "admin")
    assert "新增并生成初始密码" in (await client.get("/people/new")).text
    response = await post_form(client, "/people/new", new_person(tree["jiefang_g"]))
    assert response.status_code == 200
    assert "已新增：刘新人" in response.text
    assert "初始密码只显示这一次" in response.text
    assert response.headers["cache-control"] == "no-store"
    password = shown_password(response.text)
    assert len(password) == 10

    created = await User.objects().where(User.username == "liuxinren").first()
    assert created is not None
    assert (created.name, created.phone, created.position) == ("刘新人", "13912345678", "工会委员")
    assert (created.gender, created.staff_no, created.role) == ("女", "A-0001", "cadre")
    assert created.unit == tree["jiefang_g"].id
    assert created.must_change_password
    assert password not in created.password_hash
    event = await AuditEvent.objects().where(AuditEvent.action == "person.create").first()
    assert event is not None
    assert (event.actor, event.target_id) == (people["admin"].id, created.id)
    # Nowhere else shows it again.
    assert password not in (await client.get(f"/people/{created.id}")).text
    assert password not in (await client.get("/people")).text
    assert "待首次登录" in (await client.get("/people")).text

    with Browser(client).open() as browser:
        response = await login(browser, "liuxinren", password)
        assert response.status_code == 302
        assert response.headers["location"] == "/password"
        for url in ("/", "/people", "/units"):
            response = await browser.get(url)
            assert response.status_code == 302, url
            assert response.headers["location"] == "/password"
        response = await post_form(
            browser,
            "/password",
            {
                "current_password": password,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        assert (await browser.get("/")).status_code == 200
    assert not (await person(created.id)).must_change_password


async def test_username_defaults_to_phone(client, people, tree):
    await sign_in(client, "admin")
    form = new_person(tree["jiefang_g"], username="", phone="139-1234-5678")
    response = await post_form(client, "/people/new", form)
    assert response.status_code == 200
    created = await User.objects().where(User.name == "刘新人").first()
    assert created is not None
    assert (created.username, created.phone) == ("13912345678", "13912345678")


async def test_full_width_phone_digits_are_normalised(client, people, tree):
    await sign_in(client, "admin")
    form = new_person(tree["jiefang_g"], username="", phone="１３９１２３４５６７８")
    response = await post_form(client, "/people/new", form)
    assert response.status_code == 200
    created = await User.objects().where(User.name == "刘新人").first()
    assert created is not None
    assert (created.username, created.phone) == ("13912345678", "13912345678")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "手机号“12345”不是有效的 11 位手机号码。"),
        ({"phone": "23912345678"}, "phone", "不是有效的 11 位手机号码"),
        ({"phone": "١٣٩١٢٣٤٥٦٧٨"}, "phone", "不是有效的 11 位手机号码"),
        ({"username": "admin"}, "username", "用户名“admin”已被其他账号使用。"),
        ({"username": "13800000002"}, "username", "用户名“13800000002”已被其他账号使用。"),
        ({"username": "a b"}, "username", "用户名只能由 3 到 50 个字母"),
        ({"username": "", "phone": ""}, "username", "请填写用户名"),
        ({"name": ""}, "name", "请填写姓名。"),
        ({"name": "   "}, "name", "请填写姓名。"),
        ({"name": "张三1"}, "name", "姓名只能包含汉字、字母和“·”"),
        ({"gender": "未知"}, "gender", "性别请选择“男”或“女”。"),
        ({"position": "长" * 51}, "position", "职务不能超过 50 个字。"),
        ({"role": "superuser"}, "role", "请选择角色。"),
        ({"unit": ""}, "unit", "请选择所在单位。"),
        ({"unit": "99999999999999999999"}, "unit", "请选择所在单位。"),
    ],
)
async def test_create_validation_messages(client, people, tree, values, field, message):
    await sign_in(client, "admin")
    before = await User.count()
    response = await post_form(client, "/people/new", new_person(tree["jiefang_g"], **values))
    assert response.status_code == 400
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert match, response.text
    assert message in match.group(1)
    assert await User.count() == before
    assert not await AuditEvent.exists()


async def test_create_form_keeps_what_was_typed(client, people, tree):
    await sign_in(client, "admin")
    form = new_person(tree["jiefang_g"], phone="12345", role="unit_admin")
    response = await post_form(client, "/people/new", form)
    assert response.status_code == 400
    html = response.text
    for value in ("刘新人", "12345", "liuxinren", "工会委员", "A-0001"):
        assert f'value="{value}"' in html
    assert f'<option value="{tree["jiefang_g"].id}" selected>' in html
    assert '<option value="女" selected>' in html
    assert '<option value="unit_admin" selected>' in html


async def test_names_with_rare_characters_and_middle_dot_are_accepted(client, people, tree):
    await sign_in(client, "admin")
    for i, name in enumerate(["阿依古丽·买买提", "刘䶮", "王𠀾"]):
        form = new_person(tree["jiefang_g"], name=name, username=f"rare-{i}", phone="")
        response = await post_form(client, "/people/new", form)
        assert response.status_code == 200, name
        assert await User.exists().where(User.name == name)


async def test_unit_admin_cannot_create_outside_scope(client, people, tree):
    await sign_in(client, "jf-admin")
    for target in ("zhongzhan_g", "city"):
        response = await post_form(client, "/people/new", new_person(tree[target]))
        assert response.status_code == 400
        assert '<p class="field-error" id="unit-error">请选择所在单位。</p>' in response.text
        assert 'value="刘新人"' in response.text
        assert not await User.exists().where(User.username == "liuxinren")
    # The form offers only units in scope.
    html = (await client.get("/people/new")).text
    assert "中站区" not in html
    assert f'<option value="{tree["jiefang_g"].id}"' in html


@pytest.mark.parametrize("role", ["federation_admin", "trainer"])
async def test_unit_admin_cannot_give_staff_roles(client, people, tree, role):
    await sign_in(client, "jf-admin")
    assert f'<option value="{role}"' not in (await client.get("/people/new")).text
    response = await post_form(client, "/people/new", new_person(tree["jiefang_g"], role=role))
    assert response.status_code == 400
    assert "请选择角色。" in response.text
    assert not await User.exists().where(User.username == "liuxinren")
    # Nor by editing someone in scope.
    cadre = people["cadre"]
    form = new_person(tree["jiefang_g"], name=cadre.name, username=cadre.username, role=role)
    response = await post_form(client, f"/people/{cadre.id}", form)
    assert response.status_code == 400
    assert (await person(cadre.id)).role == "cadre"


async def test_unit_admin_creates_unit_admin_in_scope(client, people, tree):
    await sign_in(client, "jf-admin")
    response = await post_form(
        client, "/people/new", new_person(tree["jiefang_g"], role="unit_admin")
    )
    assert response.status_code == 200
    created = await User.objects().where(User.username == "liuxinren").first()
    assert created is not None
    assert (created.role, created.unit) == ("unit_admin", tree["jiefang_g"].id)


async def test_inactive_unit_cannot_be_chosen(client, people, tree):
    leaf = await create_unit("解放区空壳工会", "grassroots_union", tree["jiefang"])
    await Unit.update({Unit.active: False}).where(Unit.id == leaf.id)
    await sign_in(client, "admin")
    response = await post_form(client, "/people/new", new_person(leaf))
    assert response.status_code == 400
    assert "所选单位已停用。" in response.text


# --------------------------------------------------------------------------- edit


async def test_edit_saves_and_audits(client, people, tree):
    cadre = people["cadre"]
    await sign_in(client, "admin")
    page = await client.get(f"/people/{cadre.id}")
    assert page.status_code == 200
    assert "编辑：孙学员" in page.text
    assert 'value="13800000001"' in page.text
    form = new_person(
        tree["zhongzhan_g"],
        name="孙学员",
        username=cadre.username,
        phone="13800000001",
        position="工会主席",
        gender="男",
        staff_no="",
    )
    response = await post_form(client, f"/people/{cadre.id}", form)
    assert response.status_code == 302
    assert response.headers["location"] == "/people"
    after = await person(cadre.id)
    assert (after.position, after.gender, after.unit) == ("工会主席", "男", tree["zhongzhan_g"].id)
    event = await AuditEvent.objects().where(AuditEvent.action == "person.update").first()
    assert event is not None
    assert (event.actor, event.target_id) == (people["admin"].id, cadre.id)
    for field in ("单位", "职务", "性别"):
        assert field in event.summary
    assert "姓名" not in event.summary
    assert "已保存“孙学员”的资料。" in (await client.get("/people")).text


async def test_edit_without_changes_writes_no_audit(client, people, tree):
    cadre = people["cadre"]
    await sign_in(client, "admin")
    form = new_person(
        tree["jiefang_g"],
        name=cadre.name,
        username=cadre.username,
        phone=cadre.phone,
        position="",
        gender="",
        staff_no="",
    )
    response = await post_form(client, f"/people/{cadre.id}", form)
    assert response.status_code == 302
    assert not await AuditEvent.exists()
    assert "没有改动。" in (await client.get("/people")).text


async def test_edit_to_taken_username_is_refused(client, people, tree):
    cadre = people["cadre"]
    await sign_in(client, "admin")
    form = new_person(tree["jiefang_g"], name=cadre.name, username="13800000002")
    response = await post_form(client, f"/people/{cadre.id}", form)
    assert response.status_code == 400
    assert "用户名“13800000002”已被其他账号使用。" in response.text
    assert (await person(cadre.id)).username == cadre.username


@pytest.mark.parametrize(("username", "key"), [("admin", "admin"), ("jf-admin", "jiefang_admin")])
async def test_nobody_changes_own_role(client, people, tree, username, key):
    me = people[key]
    await sign_in(client, username)
    page = (await client.get(f"/people/{me.id}")).text
    assert '<select id="role"' not in page
    form = new_person(
        tree["city"] if key == "admin" else tree["jiefang"],
        name=me.name,
        username=me.username,
        phone="",
        role="cadre" if key == "jiefang_admin" else "trainer",
    )
    response = await post_form(client, f"/people/{me.id}", form)
    assert response.status_code == 302
    assert (await person(me.id)).role == me.role


async def test_unit_admin_cannot_move_own_account_out_of_scope(client, people, tree):
    me = people["jiefang_admin"]
    await sign_in(client, "jf-admin")
    form = new_person(tree["zhongzhan"], name=me.name, username=me.username, role=me.role)
    response = await post_form(client, f"/people/{me.id}", form)
    assert response.status_code == 400
    assert "请选择所在单位。" in response.text
    assert (await person(me.id)).unit == tree["jiefang"].id


# --------------------------------------------------------------------------- deactivate


async def test_deactivated_person_is_signed_out_and_cannot_sign_in(client, people, tree):
    cadre = people["cadre"]
    cadre_browser = Browser(client)
    with cadre_browser.open() as browser:
        await sign_in(browser, cadre.username)
        assert (await browser.get("/")).status_code == 200

    await sign_in(client, "admin")
    response = await post_form(client, f"/people/{cadre.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert not (await person(cadre.id)).active
    assert "已停用“孙学员”的账号。" in (await client.get("/people")).text
    assert await AuditEvent.exists().where(
        AuditEvent.action == "person.deactivate", AuditEvent.target_id == cadre.id
    )

    with cadre_browser.open() as browser:
        response = await browser.get("/")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")
        response = await login(browser, cadre.username)
        assert response.status_code == 403
        assert "该账号已停用" in response.text

    response = await post_form(client, f"/people/{cadre.id}/active", {"active": "1"})
    assert response.status_code == 302
    assert (await person(cadre.id)).active
    assert await AuditEvent.exists().where(AuditEvent.action == "person.activate")
    with cadre_browser.open() as browser:
        await sign_in(browser, cadre.username)
        assert (await browser.get("/")).status_code == 200


async def test_session_of_deactivated_person_does_not_come_back_on_reactivation(
    client, people, tree
):
    cadre = people["cadre"]
    cadre_browser = Browser(client)
    with cadre_browser.open() as browser:
        await sign_in(browser, cadre.username)
    await sign_in(client, "admin")
    await post_form(client, f"/people/{cadre.id}/active", {"active": "0"})
    await post_form(client, f"/people/{cadre.id}/active", {"active": "1"})
    with cadre_browser.open() as browser:
        response = await browser.get("/")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")


async def test_cannot_deactivate_yourself(client, people, tree):
    await sign_in(client, "jf-admin")
    me = people["jiefang_admin"]
    assert "停用账号" not in (await client.get(f"/people/{me.id}")).text
    response = await post_form(client, f"/people/{me.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert (await person(me.id)).active
    page = await client.get(response.headers["location"])
    assert "不能停用自己的账号。" in page.text
    assert not await AuditEvent.exists()


async def test_cannot_reactivate_person_of_inactive_unit(client, people, tree):
    cadre = people["cadre"]
    await User.update({User.active: False}).where(User.id == cadre.id)
    await Unit.update({Unit.active: False}).where(Unit.id == tree["jiefang_g"].id)
    await sign_in(client, "admin")
    response = await post_form(client, f"/people/{cadre.id}/active", {"active": "1"})
    assert response.status_code == 302
    assert not (await person(cadre.id)).active
    page = await client.get(response.headers["location"])
    assert "“解放区人民医院工会”已停用" in page.text


# --------------------------------------------------------------------------- reset password


async def test_reset_password(client, people, tree):
    cadre = people["cadre"]
    cadre_browser = Browser(client)
    with cadre_browser.open() as browser:
        await sign_in(browser, cadre.username)
    await sign_in(client, "jf-admin")
    response = await post_form(client, f"/people/{cadre.id}/password")
    assert response.status_code == 200
    assert "已重置密码：孙学员" in response.text
    assert response.headers["cache-control"] == "no-store"
    password = shown_password(response.text)
    assert await AuditEvent.exists().where(
        AuditEvent.action == "person.reset_password", AuditEvent.target_id == cadre.id
    )
    assert (await person(cadre.id)).must_change_password

    with cadre_browser.open() as browser:
        # The session the cadre had has ended.
        response = await browser.get("/")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login")

        response = await login(browser, cadre.username, PASSWORD)
        assert response.status_code == 400
        assert "用户名或密码错误。" in response.text

        response = await login(browser, cadre.username, password)
        assert response.status_code == 302
        assert response.headers["location"] == "/password"
        response = await browser.get("/")
        assert response.headers["location"] == "/password"


async def test_reset_own_password_ends_own_session(client, people, tree):
    me = people["jiefang_admin"]
    await sign_in(client, "jf-admin")
    response = await post_form(client, f"/people/{me.id}/password")
    assert response.status_code == 200
    password = shown_password(response.text)
    response = await client.get("/people")
    assert response.status_code == 302
    await sign_in(client, "jf-admin", password)


# --------------------------------------------------------------------------- scope and roles


@pytest.mark.parametrize("target", ["other_cadre", "zhongzhan_admin", "admin"])
async def test_unit_admin_cannot_touch_people_outside_scope(client, people, tree, target):
    foreign = people[target]
    before = await person(foreign.id)
    await sign_in(client, "jf-admin")
    form = new_person(tree["jiefang_g"], name="改名的人", username=foreign.username)
    responses = [
        await client.get(f"/people/{foreign.id}"),
        await post_form(client, f"/people/{foreign.id}", form),
        await post_form(client, f"/people/{foreign.id}/active", {"active": "0"}),
        await post_form(client, f"/people/{foreign.id}/password"),
    ]
    for response in responses:
        assert response.status_code in (403, 404)
        assert foreign.name not in response.text
        assert '<code class="secret">' not in response.text
    after = await person(foreign.id)
    assert (after.name, after.unit, after.active) == (before.name, before.unit, True)
    assert after.password_hash == before.password_hash
    assert not await AuditEvent.exists()


async def test_unit_admin_cannot_take_over_trainer_in_scope(client, people, tree):
    trainer = await make_user("jf-trainer", tree["jiefang"], "trainer", "郑培训")
    await sign_in(client, "jf-admin")
    form = new_person(tree["jiefang"], name="郑培训", username="jf-trainer", role="cadre")
    responses = [
        await client.get(f"/people/{trainer.id}"),
        await post_form(client, f"/people/{trainer.id}", form),
        await post_form(client, f"/people/{trainer.id}/active", {"active": "0"}),
        await post_form(client, f"/people/{trainer.id}/password"),
    ]
    assert [r.status_code for r in responses] == [403] * 4
    assert "您不能管理培训管理员的账号。" in responses[0].text
    after = await person(trainer.id)
    assert (after.role, after.active, after.password_hash) == (
        "trainer",
        True,
        trainer.password_hash,
    )


async def test_unknown_person_is_404_in_chinese(client, people, tree):
    await sign_in(client, "admin")
    for url in ("/people/999999", "/people/99999999999999999999"):
        response = await client.get(url)
        assert response.status_code == 404
        assert "没有找到这个人员。" in response.text


@pytest.mark.parametrize("username", ["13800000001", "trainer"])
async def test_cadre_and_trainer_get_403_on_people_routes(client, people, tree, username):
    other = people["other_cadre"]
    await sign_in(client, username)
    responses = [
        await client.get("/people"),
        await client.get("/people/new"),
        await post_form(client, "/people/new", new_person(tree["jiefang_g"])),
        await client.get(f"/people/{other.id}"),
        await post_form(client, f"/people/{other.id}", new_person(tree["jiefang_g"])),
        await post_form(client, f"/people/{other.id}/active", {"active": "0"}),
        await post_form(client, f"/people/{other.id}/password"),
    ]
    assert [r.status_code for r in responses] == [403] * 7
    for response in responses:
        assert "周学员" not in response.text
    assert (await person(other.id)).active
    assert not await User.exists().where(User.username == "liuxinren")
    assert not await AuditEvent.exists()


async def test_anonymous_is_sent_to_sign_in(client, people):
    cadre = people["cadre"]
    for url in ("/people", "/people/new", f"/people/{cadre.id}"):
        response = await client.get(url)
        assert response.status_code == 302
        assert response.headers["location"] == f"/login?next={url}"
    response = await post_form(client, f"/people/{cadre.id}/password")
    assert response.status_code == 302
    assert (await person(cadre.id)).password_hash == cadre.password_hash


# --------------------------------------------------------------------------- escaping


async def test_script_name_is_refused_and_echoed_escaped(client, people, tree):
    await sign_in(client, "admin")
    evil = "<script>alert(1)</script>"
    response = await post_form(
        client, "/people/new", new_person(tree["jiefang_g"], name=evil, position=evil)
    )
    assert response.status_code == 400
    assert "姓名只能包含汉字、字母和“·”" in response.text
    assert evil not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert not await User.exists().where(User.name == evil)


async def test_html_in_unit_and_position_is_shown_escaped(client, people, tree):
    evil = "<img src=x onerror=alert(1)>"
    bad_unit = await create_unit(evil, "grassroots_union", tree["jiefang"])
    await make_user("evil-unit-cadre", bad_unit, name="吴学员", position='"><b>主席</b>')
    await sign_in(client, "admin")
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    for url in ("/units", "/people", "/people/new", f"/units/{bad_unit.id}"):
        html = (await client.get(url)).text
        assert evil not in html, url
        assert escaped in html, url
    people_page = (await client.get("/people")).text
    assert "<b>主席</b>" not in people_page
    assert "&lt;b&gt;主席&lt;/b&gt;" in people_page
    # Flash messages escape the name too.
    response = await post_form(
        client,
        "/units",
        {"name": "<i>新</i>工会", "kind": "grassroots_union", "parent": str(tree["city"].id)},
    )
    assert response.status_code == 302
    html = (await client.get("/units")).text
    assert "<i>新</i>" not in html
    assert "已新建单位“&lt;i&gt;新&lt;/i&gt;工会”。" in html


async def test_a_phone_already_on_file_is_refused(client, people, tree):
    await sign_in(client, "admin")
    response = await post_form(
        client, "/people/new", new_person(tree["jiefang_g"], phone="13800000002", username="")
    )
    assert response.status_code == 400
    assert "手机号 13800000002 已被其他账号使用" in response.text


async def test_usernames_are_stored_and_matched_in_lower_case(client, people, tree):
    await sign_in(client, "admin")
    form = new_person(tree["jiefang_g"], username="LiuXinRen")
    assert (await post_form(client, "/people/new", form)).status_code == 200
    assert await User.exists().where(User.username == "liuxinren")
    await post_form(client, "/logout")
    # A phone keyboard capitalising the first letter still signs in.
    assert (await login(client, "Admin")).status_code == 302


async def test_unit_admins_of_the_same_unit_cannot_manage_each_other(client, people, tree):
    peer = await make_user("jf-admin-2", tree["jiefang"], "unit_admin", "钱同级")
    await sign_in(client, "jf-admin")
    for method, url in (
        ("GET", f"/people/{peer.id}"),
        ("POST", f"/people/{peer.id}/password"),
        ("POST", f"/people/{peer.id}/active"),
    ):
        response = await (
            client.get(url) if method == "GET" else post_form(client, url, {"active": "0"})
        )
        assert response.status_code == 403, url
    assert (await person(peer.id)).active
    # The level above still manages them.
    await post_form(client, "/logout")
    await sign_in(client, "admin")
    assert (await client.get(f"/people/{peer.id}")).status_code == 200
