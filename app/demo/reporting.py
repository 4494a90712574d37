"""Demo reporting back: a round for notice 焦工文〔2023〕93号, 工作台账 entries of several
units (a few with photos), and reports submitted by some of them through the same
submission as the page, so that the city's status page, its roll-up and the unit pages have
something to show. 解放区总工会 (the demo's county admin) has entries but has not reported."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta

from faker import Faker
from PIL import Image, ImageDraw

from app.db import write_transaction
from app.reports.report import today
from app.tables import ActivityPhoto, ReportRound, Training, Unit, User, WorkActivity
from app.unit_reports.figures import REPORTING_KINDS
from app.unit_reports.photos import prepare_photo
from app.unit_reports.submission import submit_report

NOTICE_TITLE = (
    "焦作市总工会关于认真学习宣传贯彻习近平总书记重要讲话精神"
    "努力完成中国工会十八大确定的目标任务的通知"
)
NOTICE_NUMBER = "焦工文〔2023〕93号"
# kind, form, title, place ({unit}: the unit's name)
ACTIVITIES = (
    ("study", "专题学习会", "学习贯彻中国工会十八大精神专题学习会", "{unit}会议室"),
    ("study", "辅导讲座", "中国工会十八大精神辅导讲座", "焦作市工人文化宫"),
    ("study", "中心组学习", "理论学习中心组专题学习", "{unit}会议室"),
    ("study", "研讨会", "《中国工会章程（修正案）》学习研讨会", "{unit}会议室"),
    ("publicity", "新媒体", "公众号开设学习宣传贯彻专栏", ""),
    ("publicity", "报刊报道", "向工会报刊报送学习贯彻工作信息", ""),
    ("lecture", "微宣讲", "“微宣讲”进车间", "生产一线"),
    ("lecture", "宣讲团宣讲", "宣讲团进基层宣讲", "{unit}职工之家"),
    ("implementation", "维权服务", "走访慰问困难职工", ""),
    ("implementation", "基层建设", "新就业形态劳动者集中入会活动", "{unit}服务站点"),
)
SUMMARY = "组织{unit}干部学习中国工会十八大精神和《中国工会章程（修正案）》，交流学习体会。"
# Units with entries (by name), and which of them have submitted their reports.
WITH_ENTRIES = (
    "解放区总工会",
    "解放区人民医院工会",
    "山阳区总工会",
    "中站区总工会",
    "焦作市教育工会",
    "焦作市供电公司工会",
    "高新技术产业开发区工会",
)
SUBMITTED = ("山阳区总工会", "中站区总工会", "焦作市教育工会", "焦作市供电公司工会")


def _picture(n: int) -> bytes:
    """A plain picture standing in for a photo of the activity."""
    image = Image.new("RGB", (1200, 800), (200 - 30 * n, 60 + 20 * n, 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 120, 1100, 260), fill=(250, 240, 220))
    draw.rectangle((150, 360, 1050, 700), fill=(90, 90, 110))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def load_demo_reporting(seed: int = 93) -> str:
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    now = datetime.now(UTC)
    day = today().date()
    admin = await User.select(User.id).where(User.username == "admin").first()
    county = await User.select(User.id).where(User.username == "county-admin").first()
    if admin is None:
        return ""
    trainings = [t["id"] for t in await Training.select(Training.id).order_by(Training.id)]
    units = {
        u["name"]: u
        for u in await Unit.select(Unit.id, Unit.name, Unit.kind, Unit.path).where(
            Unit.name.is_in(list(WITH_ENTRIES))
        )
    }
    async with write_transaction():
        round_row = ReportRound(
            title=NOTICE_TITLE,
            doc_number=NOTICE_NUMBER,
            unit_kinds=json.dumps(list(REPORTING_KINDS)),
            trainings=json.dumps(trainings),
            credit_year=day.year,
            deadline=day + timedelta(days=14),
            created_by=admin["id"],
        )
        await round_row.save()
        entries = 0
        photos = 0
        for name in WITH_ENTRIES:
            unit = units.get(name)
            if unit is None:
                continue
            author = county["id"] if county and name.startswith("解放区") else admin["id"]
            for kind, form, title, place in rng.sample(ACTIVITIES, rng.randint(3, 6)):
                held_on = day - timedelta(days=rng.randint(5, 300))
                short = name.removesuffix("工会").removesuffix("总") or name
                activity = WorkActivity(
                    round=round_row.id,
                    unit=unit["id"],
                    kind=kind,
                    form=form,
                    held_on=held_on,
                    title=title,
                    place=place.format(unit=short),
                    participants=0
                    if kind == "publicity"  # a report or a column: no one takes part
                    else rng.choice((25, 40, 60, 80, 120, 200)),
                    speaker=fake.name() if kind in ("study", "lecture") else "",
                    summary=SUMMARY.format(unit=name) if kind == "study" else "",
                    created_by=author,
                    updated_by=author,
                    created_at=now,
                    updated_at=now,
                )
                await activity.save()
                entries += 1
                if kind == "study" and photos < 3:
                    photo = prepare_photo(_picture(photos))
                    await ActivityPhoto(
                        activity=activity.id,
                        content=photo.content,
                        filename=f"活动照片{photos + 1}.jpg",
                        width=photo.width,
                        height=photo.height,
                        created_by=author,
                    ).save()
                    photos += 1
    round_dict = await ReportRound.select().where(ReportRound.id == round_row.id).first()
    submitted = 0
    for name in SUBMITTED:
        if name in units:
            submitted += await submit_report(round_dict, units[name], admin["id"])
    return f"报送 1 次（工作台账 {entries} 条，已报送 {submitted} 个单位）。"
