"""One rule for who sees a training (app/trainings/access.py), driven through every entry
point: the training, batch, enrollment and attendance pages, certificates, the reports
and their downloads, and the JSON API.

The tree: city → county A (解放区) → grassroots under A; county B (中站区). The viewers: the
admin of county A, an API token scoped to county A, and for the trainer-only pages a
trainer (staff see every training). The trainings, one per case:

- foreign: organised by county B, its batch open only to B (not visible);
- inactive: organised in A, 停用 (visible to people, not served by the API);
- above: organised by the city, its batch open only to B, and only a withdrawn enrollment
  of a cadre of A (not visible: it does not concern A);
- citywide: organised by the city, its batch open to no unit, i.e. to the whole city
  (visible);
- unknown and out_of_range: ids that name no training (404 everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.tables import Batch, ClassSession, Completion, Enrollment, Training, User
from app.trainings.access import NOT_FOUND, NOT_FOUND_FOR_TOKEN, NOT_VISIBLE
from tests.conftest import login, make_user, post_form
from tests.test_api import bearer, make_token

UNKNOWN = 2**31 - 1  # in the id range, but no row has it
OUT_OF_RANGE = 2**31
DENIED = "您的账号没有访问此页面的权限。"  # the guard of the trainer-only pages


@dataclass(frozen=True)
class Case:
    training: int
    batch: int
    session: int
    completion: int
    enrollment: int
    title: str


async def _training(
    title: str,
    unit,
    cadre: User,
    code: str,
    *,
    open_unit=None,
    active: bool = True,
) -> Case:
    """A 集中轮训 with one batch, one class session and one completed enrollment."""
    training = Training(title=title, kind="rotation", unit=unit.id, active=active)
    await training.save()
    batch = Batch(
        training=training.id, name="第一期", open_unit=open_unit.id if open_unit else None
    )
    await batch.save()
    session = ClassSession(
        batch=batch.id,
        starts_at=datetime.now(UTC) + timedelta(days=1),
        topic="工会法",
        hours=3.0,
    )
    await session.save()
    done = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    enrollment = Enrollment(
        training=training.id,
        batch=batch.id,
        account=cadre.id,
        unit=cadre.unit,
        completed_at=done,
        hours=3.0,
    )
    await enrollment.save()
    completion = Completion(
        training=training.id,
        account=cadre.id,
        enrollment=enrollment.id,
        completed_at=done,
        hours=3.0,
        code=code,
    )
    await completion.save()
    return Case(training.id, batch.id, session.id, completion.id, enrollment.id, title)


async def _world(tree, people) -> dict[str, Case]:
    a_cadre, b_cadre = people["cadre"], people["other_cadre"]  # in A's and B's grassroots
    cases = {
        "foreign": await _training(
            "中站区自办轮训", tree["zhongzhan"], b_cadre, "FOREIGN1", open_unit=tree["zhongzhan"]
        ),
        "inactive": await _training(
            "解放区停用轮训", tree["jiefang"], a_cadre, "INACTIVE1", active=False
        ),
        "above": await _training(
            "市总面向中站区轮训", tree["city"], b_cadre, "ABOVE1", open_unit=tree["zhongzhan"]
        ),
        "citywide": await _training("市总全市轮训", tree["city"], a_cadre, "CITYWIDE1"),
    }
    # A cadre of A once enrolled in `above`, then withdrawn: that does not make it concern A.
    gone = await make_user("13800000031", tree["jiefang_g"], name="吴撤回", phone="13800000031")
    await Enrollment(
        training=cases["above"].training,
        batch=cases["above"].batch,
        account=gone.id,
        unit=tree["jiefang_g"].id,
        active=False,
    ).save()
    city = cases["citywide"]
    # Ids that name no training; the batch, completion and enrollment are real ones (of the
    # citywide training), to show that the training is checked first.
    for name, training_id in (("unknown", UNKNOWN), ("out_of_range", OUT_OF_RANGE)):
        cases[name] = Case(
            training_id, city.batch, UNKNOWN, city.completion, city.enrollment, "（无此培训）"
        )
    return cases


# Person: the admin of county A. Token: scoped to county A. Staff: a trainer.
PERSON = {"foreign": 403, "inactive": 200, "above": 403, "citywide": 200}
TOKEN = {"citywide": 200}
STAFF = {"foreign": 200, "inactive": 200, "above": 200, "citywide": 200}


def _assert_refused(response, status: int, case: Case, what: str, *, token: bool = False):
    assert response.status_code == status, (what, response.status_code, response.text[:300])
    if token:
        assert response.json() == {"error": NOT_FOUND_FOR_TOKEN}, what
    else:
        assert (NOT_VISIBLE if status == 403 else NOT_FOUND) in response.text, what
    assert case.title not in response.text, what


@pytest.mark.parametrize(
    "name", ["foreign", "inactive", "above", "citywide", "unknown", "out_of_range"]
)
async def test_one_rule_decides_who_sees_a_training_at_every_entry_point(
    client, tree, people, name
):
    cases = await _world(tree, people)
    case = cases[name]
    t, b, s, c, e = case.training, case.batch, case.session, case.completion, case.enrollment
    a = tree["jiefang"].id
    person, token, staff = PERSON.get(name, 404), TOKEN.get(name, 404), STAFF.get(name, 404)

    # ---------------------------------------------------------------- the admin of county A
    await login(client, "jf-admin")
    pages = [
        f"/trainings/{t}",
        f"/trainings/{t}/enroll",
        f"/trainings/{t}/enroll/unit?unit={a}&batch={b}",
        f"/trainings/{t}/enroll/pick?batch={b}",
        f"/trainings/{t}/enrollments",
        f"/trainings/{t}/certificates",
        f"/trainings/{t}/certificates?unit={a}",
        f"/trainings/{t}/certificates/{c}",
        f"/reports?training={t}",
        *(
            f"/reports/trainings/{t}/{page}{suffix}"
            for page in ("summary", "roster", "reminders")
            for suffix in ("", ".xlsx", ".csv")
        ),
    ]
    for url in pages:
        response = await client.get(url)
        if person == 200:
            assert response.status_code == 200, (url, response.text[:300])
        else:
            _assert_refused(response, person, case, url)

    # The lists: visible ones only, the inactive ones after the active ones.
    for url in ("/trainings?status=all", "/reports"):
        text = (await client.get(url)).text
        assert (case.title in text) == (person == 200), url
        if name == "inactive":
            assert text.index(cases["citywide"].title) < text.index(case.title), url

    # Forms: refused before anything is read when the training is not visible; otherwise
    # they reach the form's own checks (an empty choice, an unknown upload).
    forms = [
        (f"/trainings/{t}/enroll/pick", {"batch": str(b)}, 400, "请至少选择一名干部"),
        (f"/trainings/{t}/enroll/upload", {"batch": str(b)}, 400, "请选择要上传的名单文件"),
        (f"/trainings/{t}/enroll/upload/{UNKNOWN}", {"batch": str(b)}, 404, "没有找到这次上传"),
        (f"/trainings/{t}/enroll/unit", {"unit": str(a), "batch": str(b)}, 302, None),
        (f"/trainings/{t}/enrollments/{e}/withdraw", {}, 302, None),
    ]
    for url, data, reached, message in forms:
        response = await post_form(client, url, data)
        if person == 200:
            assert response.status_code == reached, (url, response.text[:300])
            assert message is None or message in response.text, url
        else:
            _assert_refused(response, person, case, url)

    # The trainer-only pages are closed to a unit admin whatever the training.
    trainer_pages = [
        f"/trainings/{t}/edit",
        f"/trainings/{t}/batches/new",
        f"/trainings/{t}/batches/{b}/edit",
        f"/trainings/{t}/batches/{b}/sessions",
        f"/sessions/{s}/code",
        f"/sessions/{s}/attendance",
    ]
    for url in trainer_pages:
        response = await client.get(url)
        assert response.status_code == 403 and DENIED in response.text, url
    await post_form(client, "/logout")

    # ---------------------------------------------------------------- staff see every training
    await login(client, "trainer")
    for url in [*trainer_pages, f"/trainings/{t}", f"/trainings/{t}/certificates/{c}"]:
        response = await client.get(url)
        assert response.status_code == staff, (url, response.text[:300])
        if staff == 404 and not url.startswith("/sessions/"):
            assert NOT_FOUND in response.text, url
    await post_form(client, "/logout")

    # ---------------------------------------------------------------- an API token of county A
    headers = bearer(await make_token(tree["jiefang"], people["admin"]))
    for tail in ("batches", "summary", "roster"):
        url = f"/api/v1/trainings/{t}/{tail}"
        response = await client.get(url, headers=headers)
        if token == 200:
            assert response.status_code == 200, (url, response.text[:300])
            assert response.json()["training_id"] == t
        else:  # the same answer as for an id that names nothing
            _assert_refused(response, token, case, url, token=True)
    listing = (await client.get("/api/v1/trainings", headers=headers)).json()["items"]
    assert (t in {item["id"] for item in listing}) == (token == 200)
    assert {item["title"] for item in listing} == {"市总全市轮训"}
