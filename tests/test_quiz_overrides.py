"""补考与延期: a trainer gives a cadre, or an uploaded list of cadres, extra attempts, extra
minutes or a later closing date for a quiz; the cadre sees it and may use it; the quiz's own
rules decide everything else."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.quizzes.core import correct_response
from app.tables import Attempt, AuditEvent, Quiz, QuizOverride, Upload
from tests.conftest import login, make_user, post_form
from tests.test_quizzes import FETCH, answer_all, fields, paper, save, start

QUIZ = "xuexi-daodu-quiz"  # 20 minutes, 3 attempts, highest score counts
PAGE = f"/admin/quizzes/{QUIZ}/overrides"
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
async def no_overrides_left(db):
    """Overrides refer to quizzes and people, which the next test's clean-up deletes."""
    yield
    await QuizOverride.delete(force=True)


async def signed_in(username: str) -> AsyncTestClient:
    client = AsyncTestClient(app=create_app())
    client.follow_redirects = False
    await login(client, username)
    return client


@pytest.fixture
async def cadre(client, people, content):
    await login(client, "13800000001")
    return client


@pytest.fixture
async def trainer(people, content):
    return await signed_in("trainer")


def local(moment: datetime) -> str:
    """A moment as a datetime field in the browser sends it (Beijing time)."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


async def grant(client, who: str = "13800000001", **values: str):
    form = {"who": who, "extra_attempts": "", "extra_minutes": "", "closes_at": ""}
    return await post_form(client, PAGE, {**form, "reason": "因公出差补考", **values})


async def finish(client, attempt_id: int, right: bool = True) -> None:
    await answer_all(client, attempt_id, right=right)
    done = await post_form(client, f"/attempts/{attempt_id}/submit", {"confirm": "1"})
    assert done.status_code in (302, 303)


async def refused(client) -> str:
    """Starting is refused: the quiz page's message."""
    response = await post_form(client, f"/quizzes/{QUIZ}")
    assert response.headers["location"] == f"/quizzes/{QUIZ}"
    return (await client.get(f"/quizzes/{QUIZ}")).text


async def deadline_of(attempt_id: int) -> datetime:
    row = await Attempt.select(Attempt.started_at, Attempt.deadline_at).where(
        Attempt.id == attempt_id
    )
    return row[0]["deadline_at"] - row[0]["started_at"]


async def test_a_cadre_who_used_every_attempt_can_start_again_only_after_a_grant(cadre, trainer):
    await Quiz.update({Quiz.max_attempts: 1}).where(Quiz.slug == QUIZ)
    await finish(cadre, await start(cadre))
    assert "最多可以作答 1 次，您已经用完了" in await refused(cadre)

    granted = await grant(trainer, extra_attempts="1")
    assert granted.status_code in (302, 303)
    page = (await cadre.get(f"/quizzes/{QUIZ}")).text
    assert "您已获准补考" in page and "可再作答 1 次" in page and "因公出差补考" in page
    assert "最多作答 2 次（含为您增加的 1 次）" in page
    scores = (await cadre.get("/my/scores")).text
    assert "您已获准补考" in scores and "还可作答 <strong>1</strong> 次" in scores

    await finish(cadre, await start(cadre))
    assert "最多可以作答 2 次，您已经用完了" in await refused(cadre)
    event = await AuditEvent.select().where(AuditEvent.action == "quiz_override.grant").first()
    assert "孙学员" in event["summary"] and "增加 1 次" in event["summary"]
    assert "因公出差补考" in event["summary"]


async def test_extra_minutes_give_a_later_deadline_to_a_new_attempt_only(cadre, trainer):
    first = await start(cadre)
    assert await deadline_of(first) == timedelta(minutes=20)
    await grant(trainer, extra_minutes="10")
    page = (await cadre.get(f"/quizzes/{QUIZ}")).text
    assert "限时 <strong>30</strong> 分钟（含为您延长的 10 分钟）" in page
    assert "每次作答延长 10 分钟" in page
    assert await deadline_of(first) == timedelta(minutes=20)  # a deadline never changes
    await finish(cadre, first)
    second = await start(cadre)
    assert await deadline_of(second) == timedelta(minutes=30)
    other = await signed_in("13800000002")  # nobody else gets the extra time
    assert await deadline_of(await start(other)) == timedelta(minutes=20)


class _Clock:
    """`datetime` as the quiz pages see it, at a moment the test chooses."""

    at: datetime

    @classmethod
    def patch(cls, monkeypatch, moment: datetime) -> None:
        class Moved(datetime):
            @classmethod
            def now(cls, tz=None):
                return moment

        for module in ("app.quizzes.definitions", "app.quizzes.attempts"):
            monkeypatch.setattr(f"{module}.datetime", Moved)


async def test_a_later_closing_date_lets_a_cadre_start_and_answer_after_the_quiz_closed(
    cadre, trainer, monkeypatch
):
    now = datetime.now(UTC)
    closed = now - timedelta(hours=1)
    await Quiz.update({Quiz.closes_at: closed}).where(Quiz.slug == QUIZ)
    assert "测验已于" in await refused(cadre)
    extended = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    assert (await grant(trainer, closes_at=local(extended))).status_code in (302, 303)
    page = (await cadre.get(f"/quizzes/{QUIZ}")).text
    assert f"截止 {extended.astimezone(BEIJING):%Y-%m-%d %H:%M}" in page
    assert "您已获准延期" in page and "开始答题" in page

    attempt_id = await start(cadre)
    row = await Attempt.select(Attempt.deadline_at).where(Attempt.id == attempt_id).first()
    assert row["deadline_at"] == extended  # the override's closing cuts the 20 minutes
    items = await paper(attempt_id)
    saved = await save(
        cadre, attempt_id, fields(items[0], correct_response(items[0])), **{"headers": FETCH}
    )
    assert saved.status_code == 200  # after the quiz's own closing

    # In the grace after the override's closing, answers still count; after it, not.
    _Clock.patch(monkeypatch, extended + timedelta(seconds=30))
    in_grace = await save(
        cadre, attempt_id, fields(items[1], correct_response(items[1])), headers=FETCH
    )
    assert in_grace.status_code == 200
    _Clock.patch(monkeypatch, extended + timedelta(seconds=90))
    late = await save(
        cadre, attempt_id, fields(items[2], correct_response(items[2])), headers=FETCH
    )
    assert late.status_code == 409 and "作答时间已到" in late.json()["message"]
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "expired" and row["score"] == pytest.approx(
        items[0].points + items[1].points
    )
    assert "测验已于" in await refused(cadre)


async def test_the_counted_attempt_still_follows_the_quiz_rule(cadre, trainer):
    await Quiz.update({Quiz.max_attempts: 1, Quiz.counted_attempt: "first"}).where(
        Quiz.slug == QUIZ
    )
    first = await start(cadre)
    await finish(cadre, first, right=False)
    await grant(trainer, extra_attempts="1")
    second = await start(cadre)
    await finish(cadre, second, right=True)
    page = (await cadre.get(f"/quizzes/{QUIZ}")).text
    counted = re.search(r"计入成绩</span></td>\s*<td>([^<]+)</td>\s*<td><a href=\"([^\"]+)", page)
    assert counted.group(1) == "不合格" and counted.group(2) == f"/attempts/{first}/result"


async def test_revoking_takes_it_away_for_attempts_not_yet_started(cadre, trainer):
    await Quiz.update({Quiz.max_attempts: 1}).where(Quiz.slug == QUIZ)
    await finish(cadre, await start(cadre))
    await grant(trainer, extra_attempts="2", extra_minutes="10")
    started = await start(cadre)
    override = await QuizOverride.select(QuizOverride.id).first()
    revoked = await post_form(trainer, f"{PAGE}/{override['id']}/revoke")
    assert revoked.status_code in (302, 303)
    listing = (await trainer.get(PAGE)).text
    assert "已撤销" in listing and "（0 人有效）" in listing
    assert (await Quiz.select(Quiz.override_count).where(Quiz.slug == QUIZ))[0][
        "override_count"
    ] == 0
    # The attempt already started keeps its time and can be finished.
    assert await deadline_of(started) == timedelta(minutes=30)
    assert await start(cadre) == started
    await finish(cadre, started)
    page = await refused(cadre)
    assert "最多可以作答 1 次" in page and "您已获准" not in page
    event = await AuditEvent.select().where(AuditEvent.action == "quiz_override.revoke").first()
    assert "撤销“孙学员”" in event["summary"] and "增加 2 次" in event["summary"]
    again = await post_form(trainer, f"{PAGE}/{override['id']}/revoke")
    assert again.status_code in (302, 303)
    assert await AuditEvent.count().where(AuditEvent.action == "quiz_override.revoke") == 1


async def test_granting_again_updates_the_one_override_and_audits_old_and_new(trainer):
    await grant(trainer, extra_attempts="1", reason="因公出差")
    await grant(trainer, extra_attempts="2", reason="因病")
    rows = await QuizOverride.select()
    assert len(rows) == 1 and rows[0]["extra_attempts"] == 2 and rows[0]["reason"] == "因病"
    event = await AuditEvent.select().where(AuditEvent.action == "quiz_override.update").first()
    assert "增加次数 1→2" in event["summary"] and "原因“因公出差”→“因病”" in event["summary"]
    listing = (await trainer.get(PAGE)).text
    assert "孙学员" in listing and "解放区人民医院工会" in listing and "李培训" in listing


async def test_a_bad_grant_is_shown_with_its_fields_and_writes_nothing(trainer):
    response = await grant(trainer, extra_attempts="abc", reason="")
    assert response.status_code == 400
    assert "应为 0 到 20 之间的整数" in response.text and "请填写原因" in response.text
    missing = await grant(trainer, who="没有这个人", extra_attempts="1")
    assert missing.status_code == 400 and "没有找到“没有这个人”" in missing.text
    assert (
        await QuizOverride.count() == 0
        and await AuditEvent.count().where(AuditEvent.action.like("quiz_override%")) == 0
    )


async def test_cadres_of_the_same_name_are_offered_to_choose_from(trainer, tree):
    twin = await make_user("13800000009", tree["jiefang_g"], name="孙学员", phone="13800000009")
    response = await grant(trainer, who="孙学员", extra_attempts="1")
    assert response.status_code == 400 and "找到 2 位学员" in response.text
    assert "13800000009" in response.text
    chosen = await post_form(
        trainer,
        PAGE,
        {"who": "孙学员", "account": str(twin.id), "extra_attempts": "1", "reason": "因病"},
    )
    assert chosen.status_code in (302, 303)
    assert (await QuizOverride.select(QuizOverride.account))[0]["account"] == twin.id


async def test_after_close_answers_wait_for_a_cadre_with_a_later_closing(cadre, trainer):
    await Quiz.update({Quiz.review: "after_close"}).where(Quiz.slug == QUIZ)
    other = await signed_in("13800000002")
    mine, theirs = await start(cadre), await start(other)
    await finish(cadre, mine, right=False)
    await finish(other, theirs, right=False)
    await Quiz.update({Quiz.closes_at: datetime.now(UTC) - timedelta(hours=1)}).where(
        Quiz.slug == QUIZ
    )

    async def explained(client, attempt_id: int) -> bool:
        page = (await client.get(f"/attempts/{attempt_id}/result")).text
        return any(i.explanation and i.explanation in page for i in await paper(attempt_id))

    assert await explained(cadre, mine) and await explained(other, theirs)
    await grant(trainer, closes_at=local(datetime.now(UTC) + timedelta(days=2)))
    # While one cadre may still answer, nobody's review shows the answers.
    assert not await explained(cadre, mine) and not await explained(other, theirs)


# ---------------------------------------------------------------- an uploaded list


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


HEADER = "姓名,手机号,工号,增加次数,延长分钟,截止时间,原因"


async def test_an_uploaded_list_is_checked_previewed_and_granted_all_at_once(trainer, tree):
    await make_user("13800000015", tree["jiefang_g"], name="褚停用", phone="13800000015",
                    active=False)  # fmt: skip
    bad = _csv(
        HEADER,
        "孙学员,13800000001,,1,,,因公出差",
        "褚停用,13800000015,,1,,,因病",
        "周学员,13800000002,,abc,,,",
    )
    preview = await post_form(
        trainer, f"{PAGE}/upload", files={"file": ("补考.csv", bad, "text/csv")}
    )
    assert preview.status_code == 400
    assert "第 3 行“手机号”：“褚停用”的账号已停用" in preview.text
    assert "第 4 行“增加次数”：应为 0 到 20 之间的整数" in preview.text
    assert "第 4 行“原因”：请填写原因" in preview.text
    assert "没有授予任何人" in preview.text
    assert await QuizOverride.count() == 0 and await Upload.count() == 0

    good = _csv(HEADER, "孙学员,13800000001,,1,,,因公出差", "周学员,13800000002,,,10,,因病")
    preview = await post_form(
        trainer, f"{PAGE}/upload", files={"file": ("补考.csv", good, "text/csv")}
    )
    assert preview.status_code == 200 and "确认授予 2 人" in preview.text
    assert await QuizOverride.count() == 0
    upload = await Upload.objects().first()
    confirmed = await post_form(trainer, f"{PAGE}/upload/{upload.id}")
    assert confirmed.status_code in (302, 303)
    rows = {
        r["account.name"]: r
        for r in await QuizOverride.select(
            QuizOverride.account.name, QuizOverride.extra_attempts, QuizOverride.extra_minutes
        )
    }
    assert rows["孙学员"]["extra_attempts"] == 1 and rows["周学员"]["extra_minutes"] == 10
    assert await AuditEvent.count().where(AuditEvent.action == "quiz_override.grant") == 2
    assert await AuditEvent.count().where(AuditEvent.action == "quiz_override.import") == 1
    again = await post_form(trainer, f"{PAGE}/upload/{upload.id}")
    assert again.status_code == 404


async def test_a_list_that_went_bad_before_confirming_grants_nobody(trainer, people):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "增加次数", "截止时间", "原因"])
    sheet.append(["孙学员", "13800000001", 1, None, "因公出差"])
    sheet.append(["周学员", "13800000002", 2, None, "因病"])
    content = io.BytesIO()
    book.save(content)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    preview = await post_form(
        trainer, f"{PAGE}/upload", files={"file": ("补考.xlsx", content.getvalue(), xlsx)}
    )
    assert preview.status_code == 200 and "确认授予 2 人" in preview.text
    people["other_cadre"].active = False
    await people["other_cadre"].save()
    upload = await Upload.objects().first()
    confirmed = await post_form(trainer, f"{PAGE}/upload/{upload.id}")
    assert (
        confirmed.status_code == 409 and "第 3 行“手机号”：“周学员”的账号已停用" in confirmed.text
    )
    assert await QuizOverride.count() == 0  # not even the good row
    assert await Upload.count() == 1


# ---------------------------------------------------------------- who may


async def test_cadres_and_unit_admins_are_refused_the_trainer_pages(cadre, people):
    assert (await cadre.get(PAGE)).status_code == 403
    assert (await grant(cadre, extra_attempts="1")).status_code == 403
    admin = await signed_in("jf-admin")
    assert (await admin.get(PAGE)).status_code == 403
    assert (await grant(admin, extra_attempts="1")).status_code == 403
    assert await QuizOverride.count() == 0


async def test_a_trainer_grants_only_to_cadres_in_their_scope(trainer, people, tree):
    await make_user("jf-trainer", tree["jiefang"], "trainer", "郑解放")
    local_trainer = await signed_in("jf-trainer")
    await grant(trainer, who="13800000002", extra_attempts="1")  # the city's trainer may
    outside = await QuizOverride.select(QuizOverride.id).first()

    assert (await grant(local_trainer, who="13800000002", extra_attempts="1")).status_code == 400
    by_id = await post_form(
        local_trainer,
        PAGE,
        {"account": str(people["other_cadre"].id), "extra_attempts": "1", "reason": "因病"},
    )
    assert by_id.status_code == 403
    assert (await post_form(local_trainer, f"{PAGE}/{outside['id']}/revoke")).status_code == 403
    assert "周学员" not in (await local_trainer.get(PAGE)).text
    upload = _csv(HEADER, "周学员,13800000002,,1,,,因病")
    preview = await post_form(
        local_trainer, f"{PAGE}/upload", files={"file": ("补考.csv", upload, "text/csv")}
    )
    assert preview.status_code == 400 and "不在您的管理范围内" in preview.text
    assert (await grant(local_trainer, extra_attempts="1")).status_code in (302, 303)
    rows = await QuizOverride.select(QuizOverride.revoked_at)
    assert len(rows) == 2 and all(r["revoked_at"] is None for r in rows)


async def test_every_form_needs_its_csrf_token(trainer):
    form = {"who": "13800000001", "extra_attempts": "1", "reason": "因公出差"}
    response = await trainer.post(PAGE, data=form)
    assert response.status_code == 403 and "页面已过期" in response.text
    assert await QuizOverride.count() == 0
