"""Trainings, batches and enrollment: who may set them up, who may enroll whom, capacity,
the uploaded list, and what a cadre sees of their progress."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.accounts.roster_files import ImportFileError, SourceRow
from app.tables import (
    AuditEvent,
    Batch,
    Completion,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    Quiz,
    Training,
    TrainingModule,
    Upload,
    User,
)
from app.trainings.access import enroll_scope
from app.trainings.enrollment_check import (
    COLUMNS,
    Account,
    check_enrollment_rows,
    read_enrollment_table,
)
from app.trainings.forms import batch_problems, training_problems
from app.trainings.progress import recompute
from tests.conftest import login, make_user, post_form
from tests.test_quizzes import answer_all, start

MODULE = "xuexi-daodu"
QUIZ = "xuexi-daodu-quiz"


async def _module_id(slug: str = MODULE) -> int:
    return (await Module.select(Module.id).where(Module.slug == slug).first())["id"]


async def _quiz_id(slug: str = QUIZ) -> int:
    return (await Quiz.select(Quiz.id).where(Quiz.slug == slug).first())["id"]


async def make_training(
    unit, *, kind: str = "special", module: int | None = None, quiz: int | None = None
) -> Training:
    training = Training(
        title="学习贯彻工会十八大精神专题培训", kind=kind, unit=unit.id, final_quiz=quiz
    )
    await training.save()
    if module:
        await TrainingModule(training=training.id, module=module).save()
    return training


async def make_batch(training: Training, name: str = "第一期", **fields) -> Batch:
    batch = Batch(training=training.id, name=name, **fields)
    await batch.save()
    return batch


async def enrolled_ids(training: Training) -> set[int]:
    rows = await Enrollment.select(Enrollment.account).where(
        Enrollment.training == training.id, Enrollment.active.eq(True)
    )
    return {r["account"] for r in rows}


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode("utf-8")


# ---------------------------------------------------------------- pure rules


def test_training_form_problems_name_each_field_in_chinese():
    form = {"title": "", "kind": "x", "unit": "9", "credit_hours": "-1", "modules": ["7"]}
    _, errors = training_problems(form, unit_ids={1}, module_ids={1}, quiz_ids=set())
    assert errors["title"] == "请填写培训名称。"
    assert "培训类型" in errors["kind"] and "主办单位" in errors["unit"]
    assert "学时" in errors["credit_hours"] and "课程模块" in errors["modules"]
    rotation = {"title": "轮训", "kind": "rotation", "unit": "1", "attendance_share": "120"}
    values, errors = training_problems(rotation, unit_ids={1}, module_ids=set(), quiz_ids=set())
    assert list(errors) == ["attendance_share"]
    good = {**rotation, "attendance_share": "75", "credit_hours": "8"}
    values, errors = training_problems(good, unit_ids={1}, module_ids=set(), quiz_ids=set())
    assert not errors and values["attendance_share"] == 0.75 and values["credit_hours"] == 8


def test_batch_form_checks_dates_and_capacity():
    _, errors = batch_problems(
        {"name": "第一期", "starts_on": "2024-03-05", "ends_on": "2024-03-01", "capacity": "-2"},
        unit_ids=set(),
    )
    assert errors["ends_on"] == "结束日期不能早于开始日期。"
    assert "名额" in errors["capacity"]
    _, errors = batch_problems({"name": "第一期", "capacity": "3"}, unit_ids=set(), enrolled=5)
    assert "已报名 5 人" in errors["capacity"]
    values, errors = batch_problems(
        {"name": "第一期", "starts_on": "2024-03-01", "ends_on": "2024-03-01", "open_unit": "4"},
        unit_ids={4},
    )
    assert not errors and values["starts_on"] == date(2024, 3, 1) and values["open_unit"] == 4


class _Person:
    def __init__(self, role: str, path: str) -> None:
        self.role = role
        self.unit = type("U", (), {"path": path})()


def test_a_batch_is_open_to_its_unit_its_ancestors_and_descendants_only():
    admin = _Person("unit_admin", "/1/2/")
    assert enroll_scope(admin, "/1/2/", "/1/") == "/1/2/"
    assert enroll_scope(admin, "/1/", "/1/") == "/1/2/"  # opened to an ancestor
    assert enroll_scope(admin, "/1/2/3/", "/1/") == "/1/2/3/"  # to a descendant: only it
    assert enroll_scope(admin, "/1/4/", "/1/") is None  # a sibling's batch
    assert enroll_scope(admin, None, "/1/") == "/1/2/"  # the organiser's subtree
    assert enroll_scope(admin, None, "/1/4/") is None
    assert enroll_scope(_Person("cadre", "/1/2/"), None, "/1/") is None
    assert enroll_scope(_Person("federation_admin", "/1/"), "/1/4/", "/1/4/") == "/"


def _account(id: int, name: str, phone: str, **fields) -> Account:
    values = dict(
        username=phone, staff_no="", role="cadre", active=True, unit_name="解放区总工会",
        unit_path="/1/2/",
    )  # fmt: skip
    return Account(id=id, name=name, phone=phone, **{**values, **fields})


def _row(n: int, **values: str) -> SourceRow:
    return SourceRow(n, {column: values.get(column, "") for column in COLUMNS})


def test_every_bad_row_of_a_list_is_named():
    accounts = [
        _account(1, "孙学员", "13800000001"),
        _account(2, "周学员", "13800000002", unit_path="/1/4/"),
        _account(3, "吴停用", "13800000003", active=False),
        _account(4, "郑已报", "13800000004"),
        _account(5, "王管理", "13800000005", role="unit_admin"),
    ]
    rows = [
        _row(2, 姓名="孙学员", 手机号="138 0000 0001"),
        _row(3, 姓名="周学员", 手机号="13800000002"),
        _row(4, 姓名="吴停用", 手机号="13800000003"),
        _row(5, 姓名="郑已报", 手机号="13800000004"),
        _row(6, 姓名="孙学员", 手机号="13800000001"),
        _row(7, 姓名="李无名", 手机号="13900000009"),
        _row(8, 姓名="王管理", 手机号="13800000005"),
        _row(9, 姓名="孙学员", 手机号="13800000001", 单位="中站区总工会"),
        _row(10, 姓名="张三", 手机号="12345"),
    ]
    plan = check_enrollment_rows(
        rows, accounts, scope="/1/2/", enrolled={4}, batch_name="第一期", capacity=0,
        batch_enrolled=0,
    )  # fmt: skip
    assert [d.row for d in plan.drafts] == [2]
    messages = {p.row: p.message for p in plan.problems}
    assert "不在您可以报名的范围内" in messages[3] and "中站" not in messages[3]
    assert "已停用" in messages[4]
    assert "已经报名" in messages[5]
    assert "与第 2 行是同一人" in messages[6]
    assert "没有找到" in messages[7]
    assert "不是学员账号" in messages[8]
    assert "单位“中站区总工会”" in messages[9]
    assert "不是有效的 11 位手机号码" in messages[10]
    assert all(m.startswith(f"第 {row} 行") for row, m in messages.items())
    assert not plan.ok


def test_a_list_larger_than_the_room_left_is_refused_at_the_first_row_over():
    accounts = [_account(i, f"学员{'甲乙丙'[i - 1]}", f"1380000000{i}") for i in (1, 2, 3)]
    rows = [_row(i + 1, 姓名=a.name, 手机号=a.phone) for i, a in enumerate(accounts, 1)]
    plan = check_enrollment_rows(
        rows, accounts, scope="/", enrolled=set(), batch_name="第二期", capacity=5,
        batch_enrolled=3,
    )  # fmt: skip
    assert [p.row for p in plan.problems] == [4]
    assert "期次“第二期”名额 5 人" in plan.problems[0].message
    assert "还可报名 2 人" in plan.problems[0].message


def test_the_list_needs_a_name_and_a_way_to_find_the_person():
    rows = read_enrollment_table("名单.csv", _csv("培训名单", "姓名,工号,所在单位", "孙学员,A01,"))
    assert rows[0].row == 3 and rows[0].values["工号"] == "A01"
    with pytest.raises(ImportFileError, match="缺少手机号"):
        read_enrollment_table("名单.csv", _csv("姓名,单位", "孙学员,解放区总工会"))
    with pytest.raises(ImportFileError, match="只支持"):
        read_enrollment_table("名单.txt", b"x")


# ---------------------------------------------------------------- trainings


async def test_creating_a_training_requires_the_trainer_role(client, people, tree, content):
    module = await _module_id()
    data = {
        "title": "专题培训",
        "kind": "special",
        "unit": str(tree["city"].id),
        "modules": [str(module)],
        "credit_hours": "4",
    }
    for account in ("jf-admin", "13800000001"):
        await login(client, account)
        assert (await client.get("/trainings/new")).status_code == 403
        assert (await post_form(client, "/trainings/new", data)).status_code == 403
        await post_form(client, "/logout")
    assert await Training.count() == 0

    await login(client, "trainer")
    refused = await post_form(client, "/trainings/new", {**data, "title": "", "modules": []})
    assert refused.status_code == 400
    assert "请填写培训名称。" in refused.text and "至少选择一个课程模块" in refused.text
    assert await Training.count() == 0

    quiz = await _quiz_id()
    created = await post_form(client, "/trainings/new", {**data, "final_quiz": str(quiz)})
    assert created.status_code in (302, 303), created.text
    training = await Training.objects().first()
    assert created.headers["location"] == f"/trainings/{training.id}"
    assert (training.title, training.final_quiz, training.credit_hours) == ("专题培训", quiz, 4)
    assert await TrainingModule.count().where(TrainingModule.training == training.id) == 1
    assert await AuditEvent.exists().where(AuditEvent.action == "training.create")
    page = await client.get(f"/trainings/{training.id}")
    assert page.status_code == 200 and "学习导读" in page.text and "结业测验" in page.text

    edited = await post_form(
        client,
        f"/trainings/{training.id}/edit",
        {**data, "kind": "rotation", "attendance_share": "75", "active": "1"},
    )
    assert edited.status_code in (302, 303)
    training = await Training.objects().first()
    assert training.kind == "rotation" and training.attendance_share == 0.75
    assert training.final_quiz is None


async def test_batches_are_validated_and_kept_as_typed(client, people, tree):
    training = await make_training(tree["city"])
    await login(client, "trainer")
    url = f"/trainings/{training.id}/batches/new"
    assert "第一期" in (await client.get(url)).text
    form = {
        "name": "第一期",
        "starts_on": "2024-03-05",
        "ends_on": "2024-03-01",
        "place": "市工人文化宫",
    }
    refused = await post_form(client, url, form)
    assert refused.status_code == 400
    assert "结束日期不能早于开始日期。" in refused.text and "市工人文化宫" in refused.text
    saved = await post_form(client, url, {**form, "ends_on": "2024-03-06", "capacity": "30"})
    assert saved.status_code in (302, 303)
    batch = await Batch.objects().first()
    assert (batch.starts_on, batch.ends_on, batch.capacity) == (
        date(2024, 3, 5),
        date(2024, 3, 6),
        30,
    )
    page = await client.get(f"/trainings/{training.id}")
    assert "0 / 30" in page.text
    assert f"/trainings/{training.id}/batches/{batch.id}/sessions" not in page.text  # special


# ---------------------------------------------------------------- enrolling


async def test_enrolling_a_unit_enrolls_exactly_its_active_cadres(client, people, tree, content):
    nurse = await make_user("13800000011", tree["jiefang_g"], name="吴护士", phone="13800000011")
    gone = await make_user(
        "13800000012", tree["jiefang"], name="郑停用", phone="13800000012", active=False
    )
    training = await make_training(tree["city"], module=await _module_id())
    batch = await make_batch(training)
    await login(client, "trainer")
    query = f"?unit={tree['jiefang'].id}&batch={batch.id}"
    confirm = await client.get(f"/trainings/{training.id}/enroll/unit{query}")
    assert confirm.status_code == 200
    assert "确认报名 2 人" in confirm.text and "郑停用" in confirm.text
    done = await post_form(
        client,
        f"/trainings/{training.id}/enroll/unit",
        {"unit": str(tree["jiefang"].id), "batch": str(batch.id)},
    )
    assert done.status_code in (302, 303)
    assert await enrolled_ids(training) == {people["cadre"].id, nurse.id}
    assert gone.id not in await enrolled_ids(training)
    listing = await client.get(done.headers["location"])
    assert "已报名 2 人，跳过已停用的 1 人" in listing.text
    assert "孙学员" in listing.text and "吴护士" in listing.text

    # The stored progress is computed at once: the module's lessons are required.
    lessons = await Lesson.count().where(
        Lesson.module == await _module_id(), Lesson.active.eq(True)
    )
    rows = await Enrollment.select().where(Enrollment.training == training.id)
    assert lessons > 0 and {r["lessons_required"] for r in rows} == {lessons}
    assert {r["unit"] for r in rows} == {tree["jiefang_g"].id}

    again = await post_form(
        client,
        f"/trainings/{training.id}/enroll/unit",
        {"unit": str(tree["jiefang"].id), "batch": str(batch.id)},
    )
    assert await Enrollment.count() == 2
    assert "都已报名或已停用" in (await client.get(again.headers["location"])).text


async def test_capacity_is_never_exceeded(client, people, tree):
    third = await make_user("13800000013", tree["jiefang"], name="冯学员", phone="13800000013")
    training = await make_training(tree["city"])
    batch = await make_batch(training, capacity=2)
    await login(client, "trainer")
    accounts = [str(people["cadre"].id), str(people["other_cadre"].id), str(third.id)]
    refused = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(batch.id), "account": accounts},
    )
    assert refused.status_code == 400
    assert "期次“第一期”名额 2 人，已报名 0 人，还可报名 2 人，本次要报名 3 人" in refused.text
    assert await Enrollment.count() == 0

    ok = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(batch.id), "account": accounts[:2]},
    )
    assert ok.status_code in (302, 303)
    assert await Enrollment.count() == 2
    full = await post_form(
        client,
        f"/trainings/{training.id}/enroll/unit",
        {"unit": str(tree["jiefang"].id), "batch": str(batch.id)},
    )
    assert "名额 2 人，已报名 2 人" in (await client.get(full.headers["location"])).text
    assert await Enrollment.count() == 2
    page = await client.get(f"/trainings/{training.id}/batches/{batch.id}/edit")
    assert page.status_code == 200
    lower = await post_form(
        client,
        f"/trainings/{training.id}/batches/{batch.id}/edit",
        {"name": "第一期", "capacity": "1"},
    )
    assert lower.status_code == 400 and "名额不能少于 2" in lower.text


async def test_a_unit_admin_enrolls_only_its_own_cadres_into_batches_open_to_it(
    client, people, tree
):
    training = await make_training(tree["city"])
    ours = await make_batch(training, "第一期", open_unit=tree["jiefang"].id)
    theirs = await make_batch(training, "第二期", open_unit=tree["zhongzhan"].id)
    await login(client, "jf-admin")
    listing = await client.get("/trainings")
    assert training.title in listing.text

    other = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(ours.id), "account": [str(people["other_cadre"].id)]},
    )
    assert other.status_code == 400 and "不在您可以报名的范围内" in other.text
    assert "中站区第一中学工会" not in other.text
    closed = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(theirs.id), "account": [str(people["cadre"].id)]},
    )
    assert closed.status_code == 403
    by_unit = await post_form(
        client,
        f"/trainings/{training.id}/enroll/unit",
        {"unit": str(tree["zhongzhan"].id), "batch": str(ours.id)},
    )
    assert by_unit.status_code in (403, 404)
    confirm = await client.get(
        f"/trainings/{training.id}/enroll/unit?unit={tree['jiefang'].id}&batch={theirs.id}"
    )
    assert confirm.status_code == 403
    assert await Enrollment.count() == 0

    ok = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(ours.id), "account": [str(people["cadre"].id)]},
    )
    assert ok.status_code in (302, 303)
    assert await enrolled_ids(training) == {people["cadre"].id}
    enroll_page = await client.get(f"/trainings/{training.id}/enroll")
    assert "第一期" in enroll_page.text and "第二期" not in enroll_page.text


async def test_a_unit_admin_sees_only_trainings_and_enrollments_of_its_subtree(
    client, people, tree
):
    city = await make_training(tree["city"])
    await make_batch(city)  # open to the organiser's subtree: everyone under the city
    zhongzhan = Training(title="中站区集中轮训", kind="rotation", unit=tree["zhongzhan"].id)
    await zhongzhan.save()
    for person, unit in ((people["cadre"], "jiefang_g"), (people["other_cadre"], "zhongzhan_g")):
        await Enrollment(
            training=city.id, account=person.id, unit=tree[unit].id, completed_at=datetime.now(UTC)
        ).save()
    await login(client, "jf-admin")
    listing = await client.get("/trainings")
    assert city.title in listing.text and "中站区集中轮训" not in listing.text
    assert (await client.get(f"/trainings/{zhongzhan.id}")).status_code == 403
    enrollments = await client.get(f"/trainings/{city.id}/enrollments")
    assert "孙学员" in enrollments.text and "周学员" not in enrollments.text
    overview = await client.get(f"/trainings/{city.id}")
    assert overview.status_code == 200 and "100.0%" in overview.text


async def test_deactivated_cadres_are_refused_and_nothing_changes(client, people, tree):
    gone = await make_user("13800000014", tree["jiefang_g"], name="陈停用", active=False)
    training = await make_training(tree["city"])
    batch = await make_batch(training)
    await login(client, "trainer")
    refused = await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(batch.id), "account": [str(people["cadre"].id), str(gone.id)]},
    )
    assert refused.status_code == 400
    assert "“陈停用”的账号已停用，不能报名" in refused.text
    assert await Enrollment.count() == 0


async def test_an_uploaded_list_with_a_bad_row_writes_nothing_and_names_the_row(
    client, people, tree
):
    await make_user(
        "13800000015", tree["jiefang_g"], name="褚停用", phone="13800000015", active=False
    )
    training = await make_training(tree["city"])
    batch = await make_batch(training)
    await login(client, "trainer")
    url = f"/trainings/{training.id}/enroll/upload"
    bad = _csv(
        "姓名,手机号,单位",
        "孙学员,13800000001,解放区人民医院工会",
        "褚停用,13800000015,",
        "孙学员,13800000001,",
    )
    preview = await post_form(
        client, url, {"batch": str(batch.id)}, files={"file": ("名单.csv", bad, "text/csv")}
    )
    assert preview.status_code == 400
    assert "第 3 行：“褚停用”的账号已停用" in preview.text
    assert "第 4 行：“孙学员”与第 2 行是同一人" in preview.text
    assert await Enrollment.count() == 0 and await Upload.count() == 0

    good = _csv("姓名,手机号", "孙学员,13800000001", "周学员,13800000002")
    preview = await post_form(
        client, url, {"batch": str(batch.id)}, files={"file": ("名单.csv", good, "text/csv")}
    )
    assert preview.status_code == 200 and "确认报名 2 人" in preview.text
    upload = await Upload.objects().first()
    assert upload.kind == "enrollment" and await Enrollment.count() == 0
    confirmed = await post_form(client, f"{url}/{upload.id}", {"batch": str(batch.id)})
    assert confirmed.status_code in (302, 303)
    assert await enrolled_ids(training) == {people["cadre"].id, people["other_cadre"].id}
    assert await Upload.count() == 0
    again = await post_form(client, f"{url}/{upload.id}", {"batch": str(batch.id)})
    assert again.status_code == 404


async def test_an_uploaded_list_beyond_the_capacity_is_refused(client, people, tree):
    training = await make_training(tree["city"])
    batch = await make_batch(training, capacity=1)
    await login(client, "trainer")
    good = _csv("姓名,手机号", "孙学员,13800000001", "周学员,13800000002")
    preview = await post_form(
        client,
        f"/trainings/{training.id}/enroll/upload",
        {"batch": str(batch.id)},
        files={"file": ("名单.csv", good, "text/csv")},
    )
    assert preview.status_code == 400
    assert "第 3 行：从这一行起超出名额：期次“第一期”名额 1 人" in preview.text
    assert await Enrollment.count() == 0


async def test_withdrawing_and_enrolling_again_reactivates_the_same_enrollment(
    client, people, tree
):
    training = await make_training(tree["city"])
    batch = await make_batch(training)
    await login(client, "jf-admin")
    pick = f"/trainings/{training.id}/enroll/pick"
    form = {"batch": str(batch.id), "account": [str(people["cadre"].id)]}
    await post_form(client, pick, form)
    enrollment = await Enrollment.objects().first()
    withdrawn = await post_form(
        client, f"/trainings/{training.id}/enrollments/{enrollment.id}/withdraw"
    )
    assert withdrawn.status_code in (302, 303)
    assert (await Enrollment.objects().first()).active is False
    assert await AuditEvent.exists().where(AuditEvent.action == "enrollment.withdraw")
    page = await client.get(f"/trainings/{training.id}/enroll/pick?batch={batch.id}")
    assert f'value="{people["cadre"].id}"' in page.text  # may be picked again
    await post_form(client, pick, form)
    rows = await Enrollment.select().where(Enrollment.training == training.id)
    assert len(rows) == 1 and rows[0]["id"] == enrollment.id and rows[0]["active"] is True


# ---------------------------------------------------------------- the cadre's side


async def test_a_cadre_sees_their_training_and_what_they_lack(client, people, tree, content):
    training = await make_training(tree["city"], module=await _module_id(), quiz=await _quiz_id())
    batch = await make_batch(training, place="市工人文化宫")
    await Enrollment(
        training=training.id, batch=batch.id, account=people["cadre"].id, unit=tree["jiefang_g"].id
    ).save()
    await recompute(training.id)
    lessons = await Lesson.count().where(
        Lesson.module == await _module_id(), Lesson.active.eq(True)
    )
    await login(client, "13800000001")
    redirected = await client.get("/trainings")
    assert redirected.status_code in (302, 303)
    assert redirected.headers["location"] == "/my/trainings"
    for url in ("/my/trainings", "/"):
        page = await client.get(url)
        assert training.title in page.text
        assert f"还有 {lessons} 篇课文未学完" in page.text
        assert "结业测验未参加" in page.text
        assert f"/course/{MODULE}" in page.text and f"/quizzes/{QUIZ}" in page.text
    assert (await client.get(f"/trainings/{training.id}")).status_code == 403


async def test_reading_every_lesson_and_passing_the_final_quiz_completes_the_training(
    client, people, tree, content
):
    module = await _module_id()
    training = await make_training(tree["city"], module=module, quiz=await _quiz_id())
    batch = await make_batch(training)
    await login(client, "trainer")
    await post_form(
        client,
        f"/trainings/{training.id}/enroll/pick",
        {"batch": str(batch.id), "account": [str(people["cadre"].id)]},
    )
    await post_form(client, "/logout")
    now = datetime.now(UTC)
    for lesson in await Lesson.select(Lesson.id).where(Lesson.module == module):
        await LessonProgress(
            account=people["cadre"].id, lesson=lesson["id"], read_at=now, active_seconds=600
        ).save()
    await recompute(training.id)
    enrollment = await Enrollment.objects().first()
    assert enrollment.lessons_read == enrollment.lessons_required > 0
    assert enrollment.completed_at is None

    await login(client, "13800000001")
    attempt_id = await start(client)
    await answer_all(client, attempt_id)
    submitted = await post_form(client, f"/attempts/{attempt_id}/submit")
    assert submitted.status_code in (302, 303)

    enrollment = await Enrollment.objects().first()
    assert enrollment.completed_at is not None and enrollment.quiz_passed
    completion = await Completion.objects().where(Completion.enrollment == enrollment.id).first()
    assert completion is not None
    page = await client.get("/my/trainings")
    assert "已完成培训" in page.text and f"/my/certificates/{completion.id}" in page.text
    assert "还需要" not in page.text


async def test_only_cadres_are_listed_for_picking(client, people, tree):
    training = await make_training(tree["city"])
    await make_batch(training)
    await login(client, "trainer")
    page = await client.get(f"/trainings/{training.id}/enroll/pick?q=学员")
    assert "孙学员" in page.text and "周学员" in page.text
    assert "赵解放" not in (await client.get(f"/trainings/{training.id}/enroll/pick")).text
    assert await User.count().where(User.role == "cadre") == 2
