"""结业证书: the cadre's own, staff viewing and printing them by unit, public verification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.tables import Batch, Completion, Enrollment, Training, User
from app.trainings.certificates import mask_name, normalize_code, qr_svg
from tests.conftest import login, make_user, post_form


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳晓明", "欧阳*明"),
        ("司马相如", "司马*如"),
        ("买买提·艾力", "买买*力"),
        ("王", "王"),
        ("", ""),
        (" 李 四 ", "李*"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_codes_are_read_as_printed():
    assert normalize_code(" abcd efgh jk ") == "ABCDEFGHJK"


async def make_completion(training: Training, batch_id: int, person: User, code: str) -> int:
    enrollment = Enrollment(
        training=training.id, batch=batch_id, account=person.id, unit=person.unit
    )
    await enrollment.save()
    completion = Completion(
        training=training.id,
        account=person.id,
        enrollment=enrollment.id,
        completed_at=datetime(2024, 5, 20, 2, 0, tzinfo=UTC),
        hours=12.5,
        score=92.0,
        code=code,
    )
    await completion.save()
    return completion.id


@pytest.fixture
async def certificates(tree, people) -> dict:
    training = Training(
        title="学习贯彻中国工会十八大精神集中轮训", kind="rotation", unit=tree["city"].id
    )
    await training.save()
    batch = Batch(training=training.id, name="第二期")
    await batch.save()
    return {
        "training": training,
        "cadre": await make_completion(training, batch.id, people["cadre"], "SUNXUEYUAN"),
        "other": await make_completion(training, batch.id, people["other_cadre"], "ZHOUXUEYUA"),
    }


async def test_a_cadre_sees_their_own_certificate_ready_to_print(client, people, certificates):
    await login(client, people["cadre"].username)
    response = await client.get(f"/my/certificates/{certificates['cadre']}")
    assert response.status_code == 200
    text = response.text
    for fact in (
        "结业证书",
        "孙学员",
        "解放区人民医院工会",
        "学习贯彻中国工会十八大精神集中轮训",
        "集中轮训",
        "第二期",
        "12.5",
        "2024年05月20日",
        "SUNXUEYUAN",
        "焦作市总工会",
    ):
        assert fact in text, fact
    assert '<svg viewBox="0 0' in text and 'class="qr"' in text
    assert "http://testserver.local/verify/SUNXUEYUAN" in text
    assert qr_svg("http://testserver.local/verify/SUNXUEYUAN", "扫码验证这张结业证书") in text
    assert "周学员" not in text


async def test_a_cadre_cannot_open_anothers_certificate(client, people, certificates):
    await login(client, people["cadre"].username)
    response = await client.get(f"/my/certificates/{certificates['other']}")
    assert response.status_code == 404
    assert "周学员" not in response.text and "ZHOUXUEYUA" not in response.text
    assert (await client.get("/my/certificates/99999999999")).status_code == 404


async def test_a_cadre_cannot_open_the_staff_certificate_pages(client, people, certificates):
    training = certificates["training"].id
    await login(client, people["cadre"].username)
    for url in (
        f"/trainings/{training}/certificates/{certificates['cadre']}",
        f"/trainings/{training}/certificates",
        f"/trainings/{training}/certificates?unit={people['cadre'].unit}",
    ):
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "没有权限" in response.text


async def test_the_verification_page_needs_no_sign_in_and_masks_the_name(
    client, people, certificates
):
    response = await client.get("/verify/SUNXUEYUAN")
    assert response.status_code == 200
    assert "证书真实有效" in response.text
    assert "孙*员" in response.text
    assert "孙学员" not in response.text
    assert "解放区人民医院工会" in response.text
    assert "学习贯彻中国工会十八大精神集中轮训" in response.text
    assert "2024年05月20日" in response.text and "12.5 学时" in response.text
    assert "peixun_session" not in response.headers.get("set-cookie", "")
    assert not client.cookies.get("peixun_session")
    # Lower case, as typed from the paper, is fine too.
    assert (await client.get("/verify/sunxueyuan")).status_code == 200


async def test_an_unknown_code_says_so(client, people, certificates):
    for code in ("NOSUCHCODE", "x", "%E4%B8%AD"):
        response = await client.get(f"/verify/{code}")
        assert response.status_code == 404
        assert "未找到这张证书" in response.text
        assert "孙" not in response.text


async def test_the_verification_page_works_signed_in_too(client, people, certificates):
    await login(client, people["other_cadre"].username)
    response = await client.get("/verify/SUNXUEYUAN")
    assert response.status_code == 200
    assert "孙*员" in response.text


async def test_the_unit_print_page_holds_only_that_subtrees_certificates(
    client, tree, people, certificates
):
    training = certificates["training"].id
    await login(client, "trainer")
    response = await client.get(f"/trainings/{training}/certificates?unit={tree['jiefang'].id}")
    assert response.status_code == 200
    assert response.text.count('<article class="certificate">') == 1
    assert "孙学员" in response.text and "周学员" not in response.text
    assert response.text.count('class="qr"') == 1

    everyone = await client.get(f"/trainings/{training}/certificates?unit={tree['city'].id}")
    assert everyone.text.count('<article class="certificate">') == 2

    choice = await client.get(f"/trainings/{training}/certificates")
    assert choice.status_code == 200
    assert "解放区人民医院工会" in choice.text and "中站区第一中学工会" in choice.text
    assert '<article class="certificate">' not in choice.text


async def test_unit_admins_print_and_view_only_their_subtree(client, tree, people, certificates):
    training = certificates["training"].id
    await login(client, "jf-admin")
    own = await client.get(f"/trainings/{training}/certificates?unit={tree['jiefang'].id}")
    assert own.status_code == 200
    assert "孙学员" in own.text
    outside = await client.get(f"/trainings/{training}/certificates?unit={tree['zhongzhan'].id}")
    assert outside.status_code == 403
    assert "周学员" not in outside.text
    above = await client.get(f"/trainings/{training}/certificates?unit={tree['city'].id}")
    assert above.status_code == 403
    choice = await client.get(f"/trainings/{training}/certificates")
    assert "解放区人民医院工会" in choice.text and "中站区" not in choice.text

    mine = await client.get(f"/trainings/{training}/certificates/{certificates['cadre']}")
    assert mine.status_code == 200 and "孙学员" in mine.text
    theirs = await client.get(f"/trainings/{training}/certificates/{certificates['other']}")
    assert theirs.status_code == 403 and "周学员" not in theirs.text


async def test_a_unit_admin_cannot_reach_a_training_of_another_county(
    client, tree, people, certificates
):
    zhongzhan_training = Training(title="中站区专题培训", kind="special", unit=tree["zhongzhan"].id)
    await zhongzhan_training.save()
    await login(client, "jf-admin")
    response = await client.get(f"/trainings/{zhongzhan_training.id}/certificates")
    assert response.status_code == 403  # known but not visible (app/trainings/access.py)
    # A certificate id of one training is not reached under another.
    url = f"/trainings/{zhongzhan_training.id}/certificates/{certificates['cadre']}"
    assert (await client.get(url)).status_code == 403


async def test_staff_certificate_page_checks_the_training(client, tree, people, certificates):
    other = Training(title="另一项培训", kind="special", unit=tree["city"].id)
    await other.save()
    await login(client, "admin")
    url = f"/trainings/{other.id}/certificates/{certificates['cadre']}"
    assert (await client.get(url)).status_code == 404
    right = f"/trainings/{certificates['training'].id}/certificates/{certificates['cadre']}"
    assert (await client.get(right)).status_code == 200


async def test_a_cadre_in_a_deeper_unit_is_printed_with_the_county(
    client, tree, people, certificates
):
    from app.accounts.units import create_unit

    deeper = await create_unit("解放区某街道工会", "grassroots_union", tree["jiefang"])
    person = await make_user("13800000009", deeper, name="欧阳晓明")
    batch = await Batch.select().where(Batch.training == certificates["training"].id).first()
    await make_completion(certificates["training"], batch["id"], person, "OUYANGXIAO")
    await login(client, "jf-admin")
    url = f"/trainings/{certificates['training'].id}/certificates?unit={tree['jiefang'].id}"
    response = await client.get(url)
    assert response.text.count('<article class="certificate">') == 2
    await post_form(client, "/logout")
    assert "欧阳*明" in (await client.get("/verify/OUYANGXIAO")).text
