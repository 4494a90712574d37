"""The unit tree pages: listing, creating, renaming, moving, (de)activating, and their scope."""

from __future__ import annotations

import re
import sqlite3

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.accounts.units import create_unit
from app.tables import AuditEvent, Unit, User
from tests.conftest import login, post_form

DB_ERRORS = (sqlite3.IntegrityError, asyncpg.exceptions.IntegrityConstraintViolationError)


async def sign_in(client: AsyncTestClient, username: str) -> None:
    response = await login(client, username)
    assert response.status_code == 302, response.text


def row_of(html: str, name: str) -> str:
    """The table row of the tree that shows the unit called `name`."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        if f"{name}</td>" in row:
            return row
    raise AssertionError(f"no row for {name}")


def head_count(html: str, name: str) -> str:
    match = re.search(r'<td class="num">(.*?)</td>', row_of(html, name))
    assert match
    return match.group(1)


async def unit(unit_id: int) -> Unit:
    found = await Unit.objects().where(Unit.id == unit_id).first()
    assert found is not None
    return found


# --------------------------------------------------------------------------- the tree


async def test_federation_admin_sees_whole_tree_with_head_counts(client, people, tree):
    await sign_in(client, "admin")
    response = await client.get("/units")
    assert response.status_code == 200
    html = response.text
    assert "共 5 个单位" in html
    for name in ("焦作市总工会", "解放区总工会", "解放区人民医院工会", "中站区总工会"):
        assert name in html
    # Own people, and in brackets the whole subtree when it differs.
    assert head_count(html, "焦作市总工会") == "2（6）"
    assert head_count(html, "解放区总工会") == "1（2）"
    assert head_count(html, "解放区人民医院工会") == "1"
    assert head_count(html, "中站区第一中学工会") == "1"
    # Depth-first order: each grassroots union comes right after its county.
    names = re.findall(r'<span class="indent lvl-\d"></span>(.*?)</td>', html)
    assert names[0] == "焦作市总工会"
    assert names.index("解放区人民医院工会") == names.index("解放区总工会") + 1
    assert names.index("中站区第一中学工会") == names.index("中站区总工会") + 1


async def test_inactive_people_are_not_counted(client, people, tree):
    await User.update({User.active: False}).where(User.id == people["cadre"].id)
    await sign_in(client, "admin")
    html = (await client.get("/units")).text
    assert head_count(html, "解放区人民医院工会") == "0"
    assert head_count(html, "焦作市总工会") == "2（5）"


async def test_unit_admin_sees_only_own_subtree(client, people, tree):
    await sign_in(client, "jf-admin")
    response = await client.get("/units")
    assert response.status_code == 200
    html = response.text
    assert "共 2 个单位" in html
    assert "解放区总工会" in html
    assert "解放区人民医院工会" in html
    assert "中站区" not in html
    assert head_count(html, "解放区总工会") == "1（2）"


# --------------------------------------------------------------------------- create


async def test_create_unit_under_parent(client, people, tree):
    await sign_in(client, "admin")
    response = await post_form(
        client,
        "/units",
        {"name": "解放区教育工会", "kind": "industry_union", "parent": str(tree["jiefang"].id)},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/units"
    created = await Unit.objects().where(Unit.name == "解放区教育工会").first()
    assert created is not None
    assert created.parent == tree["jiefang"].id
    assert created.path == f"{tree['jiefang'].path}{created.id}/"
    assert created.depth == tree["jiefang"].depth + 1
    assert created.kind == "industry_union"
    assert created.active
    event = await AuditEvent.objects().where(AuditEvent.action == "unit.create").first()
    assert event is not None
    assert event.actor == people["admin"].id
    assert (event.target_type, event.target_id) == ("unit", created.id)
    assert "解放区教育工会" in event.summary

    page = (await client.get("/units")).text
    assert "已新建单位“解放区教育工会”。" in page
    assert "解放区教育工会</td>" in page
    assert "共 6 个单位" in page


async def test_unit_admin_creates_below_own_unit(client, people, tree):
    await sign_in(client, "jf-admin")
    response = await post_form(
        client,
        "/units",
        {"name": "解放区税务局工会", "kind": "grassroots_union", "parent": str(tree["jiefang"].id)},
    )
    assert response.status_code == 302
    created = await Unit.objects().where(Unit.name == "解放区税务局工会").first()
    assert created is not None
    assert created.path.startswith(tree["jiefang"].path)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "  "}, "name", "单位名称不能为空。"),
        ({"name": "中站区总工会"}, "name", "已有名为“中站区总工会”的单位，请换一个名称。"),
        ({"name": "单" * 101}, "name", "单位名称不能超过 100 个字符。"),
        ({"kind": ""}, "kind", "请选择单位类别。"),
        ({"kind": "no_such_kind"}, "kind", "请选择单位类别。"),
        ({"parent": ""}, "parent", "请选择上级单位。"),
        ({"parent": "abc"}, "parent", "请选择上级单位。"),
    ],
)
async def test_create_unit_errors_in_chinese(client, people, tree, form, field, message):
    await sign_in(client, "admin")
    data = {"name": "新单位工会", "kind": "grassroots_union", "parent": str(tree["jiefang"].id)}
    data.update(form)
    before = await Unit.count()
    response = await post_form(client, "/units", data)
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in response.text
    assert await Unit.count() == before
    assert await AuditEvent.count() == 0


async def test_create_unit_form_keeps_what_was_typed(client, people, tree):
    await sign_in(client, "admin")
    response = await post_form(
        client,
        "/units",
        {"name": "解放区总工会", "kind": "industry_union", "parent": str(tree["zhongzhan"].id)},
    )
    assert response.status_code == 400
    html = response.text
    assert 'value="解放区总工会"' in html
    assert '<option value="industry_union" selected>' in html
    assert f'<option value="{tree["zhongzhan"].id}" selected>' in html


async def test_create_unit_refuses_inactive_parent(client, people, tree):
    await Unit.update({Unit.active: False}).where(Unit.id == tree["zhongzhan_g"].id)
    await sign_in(client, "admin")
    response = await post_form(
        client,
        "/units",
        {"name": "新单位工会", "kind": "grassroots_union", "parent": str(tree["zhongzhan_g"].id)},
    )
    assert response.status_code == 400
    assert "上级单位已停用，请先启用它。" in response.text
    assert not await Unit.exists().where(Unit.name == "新单位工会")


async def test_unit_admin_cannot_create_city_federation_or_outside_scope(client, people, tree):
    await sign_in(client, "jf-admin")
    response = await post_form(
        client,
        "/units",
        {"name": "新市总工会", "kind": "city_federation", "parent": str(tree["jiefang"].id)},
    )
    assert response.status_code == 400
    assert "请选择单位类别。" in response.text
    response = await post_form(
        client,
        "/units",
        {"name": "新单位工会", "kind": "grassroots_union", "parent": str(tree["zhongzhan"].id)},
    )
    assert response.status_code == 400
    assert "请选择上级单位。" in response.text
    assert "中站区总工会" not in response.text
    assert not await Unit.exists().where(Unit.name.like("新%"))


@pytest.mark.parametrize("parent", ["99999999999999999999", "-1", "0", "999999"])
async def test_create_unit_with_impossible_parent_id_is_a_form_error(client, people, tree, parent):
    await sign_in(client, "admin")
    response = await post_form(
        client, "/units", {"name": "新单位工会", "kind": "grassroots_union", "parent": parent}
    )
    assert response.status_code == 400
    assert "请选择上级单位。" in response.text
    assert 'value="新单位工会"' in response.text
    assert not await Unit.exists().where(Unit.name == "新单位工会")


# --------------------------------------------------------------------------- rename and move


async def test_rename_unit(client, people, tree):
    await sign_in(client, "admin")
    g = tree["jiefang_g"]
    response = await post_form(
        client,
        f"/units/{g.id}",
        {"name": "解放区第二人民医院工会", "kind": "grassroots_union", "parent": str(g.parent)},
    )
    assert response.status_code == 302
    renamed = await unit(g.id)
    assert renamed.name == "解放区第二人民医院工会"
    assert renamed.path == g.path
    event = await AuditEvent.objects().where(AuditEvent.action == "unit.rename").first()
    assert event is not None
    assert event.target_id == g.id
    assert "解放区人民医院工会" in event.summary
    assert "解放区第二人民医院工会" in event.summary
    assert not await AuditEvent.exists().where(AuditEvent.action == "unit.move")
    assert "已保存“解放区第二人民医院工会”的名称和类别。" in (await client.get("/units")).text


async def test_rename_to_taken_name_is_refused(client, people, tree):
    await sign_in(client, "admin")
    g = tree["jiefang_g"]
    response = await post_form(
        client,
        f"/units/{g.id}",
        {"name": "中站区总工会", "kind": g.kind, "parent": str(g.parent)},
    )
    assert response.status_code == 400
    assert "已有名为“中站区总工会”的单位，请换一个名称。" in response.text
    assert (await unit(g.id)).name == "解放区人民医院工会"


async def test_saving_unchanged_unit_records_nothing(client, people, tree):
    await sign_in(client, "admin")
    g = tree["jiefang_g"]
    response = await post_form(
        client, f"/units/{g.id}", {"name": g.name, "kind": g.kind, "parent": str(g.parent)}
    )
    assert response.status_code == 302
    assert await AuditEvent.count() == 0
    assert "没有改动。" in (await client.get("/units")).text


async def test_move_unit_moves_whole_subtree(client, people, tree):
    jiefang, zhongzhan = tree["jiefang"], tree["zhongzhan"]
    deep = await create_unit("解放区人民医院工会第一分会", "grassroots_union", tree["jiefang_g"])
    await sign_in(client, "admin")
    response = await post_form(
        client,
        f"/units/{jiefang.id}",
        {"name": jiefang.name, "kind": jiefang.kind, "parent": str(zhongzhan.id)},
    )
    assert response.status_code == 302
    moved = await unit(jiefang.id)
    child = await unit(tree["jiefang_g"].id)
    grandchild = await unit(deep.id)
    assert moved.parent == zhongzhan.id
    assert moved.path == f"{zhongzhan.path}{jiefang.id}/"
    assert moved.depth == 2
    assert child.path == f"{moved.path}{child.id}/"
    assert child.depth == 3
    assert child.parent == jiefang.id
    assert grandchild.path == f"{child.path}{deep.id}/"
    assert grandchild.depth == 4
    # Units outside the moved subtree are untouched.
    assert (await unit(zhongzhan.id)).path == zhongzhan.path
    assert (await unit(tree["zhongzhan_g"].id)).path == tree["zhongzhan_g"].path
    assert await AuditEvent.exists().where(
        AuditEvent.action == "unit.move", AuditEvent.target_id == jiefang.id
    )
    # The 中站区 admin now manages the moved units and their people.
    await sign_in(client, "zz-admin")
    html = (await client.get("/units")).text
    assert "解放区人民医院工会第一分会" in html
    assert head_count(html, "中站区总工会") == "1（4）"
    assert "孙学员" in (await client.get("/people")).text


async def test_move_back_up_restores_paths(client, people, tree):
    g = tree["jiefang_g"]
    await sign_in(client, "admin")
    for parent in (tree["zhongzhan_g"], tree["city"]):
        response = await post_form(
            client, f"/units/{g.id}", {"name": g.name, "kind": g.kind, "parent": str(parent.id)}
        )
        assert response.status_code == 302
        moved = await unit(g.id)
        assert moved.path == f"{parent.path}{g.id}/"
        assert moved.depth == parent.depth + 1


@pytest.mark.parametrize("target", ["jiefang", "jiefang_g"])
async def test_move_under_itself_or_descendant_is_refused(client, people, tree, target):
    jiefang = tree["jiefang"]
    await sign_in(client, "admin")
    response = await post_form(
        client,
        f"/units/{jiefang.id}",
        {"name": jiefang.name, "kind": jiefang.kind, "parent": str(tree[target].id)},
    )
    assert response.status_code == 400
    assert "不能把单位移到它自己或它的下级单位之下。" in response.text
    assert (await unit(jiefang.id)).path == jiefang.path
    assert (await unit(jiefang.id)).parent == tree["city"].id
    assert (await unit(tree["jiefang_g"].id)).path == tree["jiefang_g"].path


async def test_move_under_inactive_unit_is_refused(client, people, tree):
    await Unit.update({Unit.active: False}).where(Unit.id == tree["zhongzhan_g"].id)
    g = tree["jiefang_g"]
    await sign_in(client, "admin")
    response = await post_form(
        client,
        f"/units/{g.id}",
        {"name": g.name, "kind": g.kind, "parent": str(tree["zhongzhan_g"].id)},
    )
    assert response.status_code == 400
    assert "上级单位已停用" in response.text
    assert (await unit(g.id)).path == g.path


async def test_unit_admin_cannot_edit_own_unit(client, people, tree):
    jiefang = tree["jiefang"]
    await sign_in(client, "jf-admin")
    page = await client.get(f"/units/{jiefang.id}")
    assert page.status_code == 200
    assert "这是您所在的单位" in page.text
    response = await post_form(
        client,
        f"/units/{jiefang.id}",
        {"name": "解放区新总工会", "kind": jiefang.kind, "parent": str(tree["city"].id)},
    )
    assert response.status_code == 403
    assert "您不能修改本单位自身" in response.text
    response = await post_form(client, f"/units/{jiefang.id}/active", {"active": "0"})
    assert response.status_code == 403
    still = await unit(jiefang.id)
    assert (still.name, still.active) == ("解放区总工会", True)


async def test_unit_admin_edits_units_below(client, people, tree):
    g = tree["jiefang_g"]
    sub = await create_unit("解放区人民医院工会分会", "grassroots_union", tree["jiefang"])
    await sign_in(client, "jf-admin")
    assert "名称、类别与上级单位" in (await client.get(f"/units/{g.id}")).text
    response = await post_form(
        client, f"/units/{sub.id}", {"name": sub.name, "kind": sub.kind, "parent": str(g.id)}
    )
    assert response.status_code == 302
    assert (await unit(sub.id)).path == f"{g.path}{sub.id}/"
    response = await post_form(
        client,
        f"/units/{g.id}",
        {"name": "解放区医院工会", "kind": "grassroots_union", "parent": str(g.parent)},
    )
    assert response.status_code == 302
    assert (await unit(g.id)).name == "解放区医院工会"


async def test_unit_admin_cannot_move_unit_out_of_scope(client, people, tree):
    g = tree["jiefang_g"]
    await sign_in(client, "jf-admin")
    for parent in (tree["zhongzhan"], tree["city"]):
        response = await post_form(
            client, f"/units/{g.id}", {"name": g.name, "kind": g.kind, "parent": str(parent.id)}
        )
        assert response.status_code == 400
        assert "请选择上级单位。" in response.text
        assert (await unit(g.id)).path == g.path


async def test_unit_admin_cannot_turn_unit_into_city_federation(client, people, tree):
    g = tree["jiefang_g"]
    await sign_in(client, "jf-admin")
    response = await post_form(
        client, f"/units/{g.id}", {"name": g.name, "kind": "city_federation", "parent": ""}
    )
    assert response.status_code == 400
    assert "请选择单位类别。" in response.text
    assert (await unit(g.id)).kind == "grassroots_union"


# --------------------------------------------------------------------------- (de)activate


async def test_deactivate_refused_while_unit_has_active_children_or_people(client, people, tree):
    jiefang, g = tree["jiefang"], tree["jiefang_g"]
    await sign_in(client, "admin")
    response = await post_form(client, f"/units/{jiefang.id}/active", {"active": "0"})
    assert response.status_code == 400
    assert (
        "“解放区总工会”下还有 1 个启用的下级单位和 1 名启用的人员，请先停用或转移他们。"
        in response.text
    )
    response = await post_form(client, f"/units/{g.id}/active", {"active": "0"})
    assert response.status_code == 400
    assert "下还有 0 个启用的下级单位和 1 名启用的人员" in response.text
    assert (await unit(jiefang.id)).active
    assert (await unit(g.id)).active
    assert await AuditEvent.count() == 0


async def test_deactivate_empty_unit_then_reactivate(client, people, tree):
    g = tree["jiefang_g"]
    await User.update({User.active: False}).where(User.id == people["cadre"].id)
    await sign_in(client, "admin")
    response = await post_form(client, f"/units/{g.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert not (await unit(g.id)).active
    assert await AuditEvent.exists().where(
        AuditEvent.action == "unit.deactivate", AuditEvent.target_id == g.id
    )
    html = (await client.get("/units")).text
    assert "已停用“解放区人民医院工会”。" in html
    assert "已停用</span>" in row_of(html, "解放区人民医院工会")
    # An inactive unit is no longer offered as a parent or as a person's unit.
    assert f'<option value="{g.id}"' not in html
    assert f'<option value="{g.id}"' not in (await client.get("/people/new")).text
    edit = (await client.get(f"/units/{g.id}")).text
    assert "重新启用此单位" in edit

    response = await post_form(client, f"/units/{g.id}/active", {"active": "1"})
    assert response.status_code == 302
    assert (await unit(g.id)).active
    assert await AuditEvent.exists().where(
        AuditEvent.action == "unit.activate", AuditEvent.target_id == g.id
    )


async def test_reactivate_under_inactive_parent_is_refused(client, people, tree):
    await User.update({User.active: False}).where(User.unit.is_in([tree["zhongzhan"].id]))
    await User.update({User.active: False}).where(User.unit.is_in([tree["zhongzhan_g"].id]))
    await sign_in(client, "admin")
    for target in ("zhongzhan_g", "zhongzhan"):
        response = await post_form(client, f"/units/{tree[target].id}/active", {"active": "0"})
        assert response.status_code == 302
    response = await post_form(client, f"/units/{tree['zhongzhan_g'].id}/active", {"active": "1"})
    assert response.status_code == 400
    assert "上级单位“中站区总工会”已停用，请先启用它。" in response.text
    assert not (await unit(tree["zhongzhan_g"].id)).active


async def test_inactive_unit_under_inactive_parent_keeps_its_parent_when_renamed(
    client, people, tree
):
    zhongzhan, leaf = tree["zhongzhan"], tree["zhongzhan_g"]
    await User.update({User.active: False}).where(User.unit.is_in([zhongzhan.id, leaf.id]))
    await Unit.update({Unit.active: False}).where(Unit.id.is_in([zhongzhan.id, leaf.id]))
    await sign_in(client, "admin")
    edit = (await client.get(f"/units/{leaf.id}")).text
    # The form offers the current (inactive) parent, selected, so saving does not move the unit.
    assert f'<option value="{zhongzhan.id}" selected>' in edit
    response = await post_form(
        client,
        f"/units/{leaf.id}",
        {"name": "中站区第二中学工会", "kind": leaf.kind, "parent": str(zhongzhan.id)},
    )
    assert response.status_code == 302
    after = await unit(leaf.id)
    assert (after.name, after.path, after.parent) == ("中站区第二中学工会", leaf.path, zhongzhan.id)


async def test_root_cannot_be_deactivated(client, people, tree):
    await sign_in(client, "admin")
    response = await post_form(client, f"/units/{tree['city'].id}/active", {"active": "0"})
    assert response.status_code == 400
    assert "根单位不能停用。" in response.text
    assert (await unit(tree["city"].id)).active


# --------------------------------------------------------------------------- the database


async def test_database_refuses_to_delete_unit_with_people(db, people, tree):
    g = tree["jiefang_g"]
    with pytest.raises(DB_ERRORS):
        await Unit.delete().where(Unit.id == g.id)
    assert await Unit.exists().where(Unit.id == g.id)
    assert await User.exists().where(User.id == people["cadre"].id)


async def test_database_refuses_to_delete_unit_with_child_units(db, tree):
    with pytest.raises(DB_ERRORS):
        await Unit.delete().where(Unit.id == tree["zhongzhan"].id)
    assert await Unit.exists().where(Unit.id == tree["zhongzhan"].id)
    assert await Unit.exists().where(Unit.id == tree["zhongzhan_g"].id)


async def test_database_refuses_to_delete_person_with_audit_events(client, people, tree):
    await sign_in(client, "admin")
    response = await post_form(
        client,
        "/units",
        {"name": "新单位工会", "kind": "grassroots_union", "parent": str(tree["city"].id)},
    )
    assert response.status_code == 302
    admin_id = people["admin"].id
    assert await AuditEvent.exists().where(AuditEvent.actor == admin_id)
    with pytest.raises(DB_ERRORS):
        await User.delete().where(User.id == admin_id)
    assert await User.exists().where(User.id == admin_id)


async def test_database_deletes_an_empty_unit(db, tree):
    leaf = tree["zhongzhan_g"]
    await Unit.delete().where(Unit.id == leaf.id)
    assert not await Unit.exists().where(Unit.id == leaf.id)


# --------------------------------------------------------------------------- scope and roles


@pytest.mark.parametrize("target", ["zhongzhan", "zhongzhan_g", "city"])
async def test_unit_admin_cannot_reach_units_outside_scope(client, people, tree, target):
    foreign = tree[target]
    await sign_in(client, "jf-admin")
    hidden = "中站区" if target != "city" else "市总工会</h1>"
    response = await client.get(f"/units/{foreign.id}")
    assert response.status_code in (403, 404)
    assert hidden not in response.text
    response = await post_form(
        client,
        f"/units/{foreign.id}",
        {"name": "被改名的工会", "kind": foreign.kind, "parent": str(tree["jiefang"].id)},
    )
    assert response.status_code in (403, 404)
    assert hidden not in response.text
    response = await post_form(client, f"/units/{foreign.id}/active", {"active": "0"})
    assert response.status_code in (403, 404)
    assert hidden not in response.text
    after = await unit(foreign.id)
    assert (after.name, after.path, after.active) == (foreign.name, foreign.path, True)
    assert await AuditEvent.count() == 0


async def test_unknown_unit_is_404_in_chinese(client, people, tree):
    await sign_in(client, "admin")
    response = await client.get("/units/999999")
    assert response.status_code == 404
    assert "没有找到这个单位。" in response.text
    response = await client.get("/units/99999999999999999999")
    assert response.status_code == 404


@pytest.mark.parametrize("username", ["13800000001", "trainer"])
async def test_cadre_and_trainer_get_403_on_every_units_route(client, people, tree, username):
    await sign_in(client, username)
    g = tree["jiefang_g"]
    responses = [
        await client.get("/units"),
        await client.get(f"/units/{g.id}"),
        await post_form(
            client,
            "/units",
            {"name": "新单位工会", "kind": "grassroots_union", "parent": str(g.id)},
        ),
        await post_form(
            client, f"/units/{g.id}", {"name": "改名工会", "kind": g.kind, "parent": str(g.parent)}
        ),
        await post_form(client, f"/units/{g.id}/active", {"active": "0"}),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert "您的账号没有访问此页面的权限。" in responses[0].text
    assert (await unit(g.id)).name == g.name
    assert (await unit(g.id)).active
    assert not await Unit.exists().where(Unit.name == "新单位工会")


async def test_anonymous_is_sent_to_sign_in(client, tree):
    g = tree["jiefang_g"]
    for url, expected in [
        ("/units", "/login?next=/units"),
        (f"/units/{g.id}", f"/login?next=/units/{g.id}"),
    ]:
        response = await client.get(url)
        assert response.status_code == 302
        assert response.headers["location"] == expected
    response = await post_form(client, f"/units/{g.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")
    assert (await unit(g.id)).active
