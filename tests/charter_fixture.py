"""A charter-shaped document made up for the drafting tests and `bench/drafting.py`.

Its sentences are placeholders about a fictional 示例协会 (generic office tasks, made-up
activity names and numbers), built from templates: it has the shape of a charter (chapters,
articles, enumerations, quoted terms, titles, numbers, defining sentences), none of the
words of any real one. It goes through the same outline and plan as an imported document.
"""

from __future__ import annotations

import re

from app.course.documents import parse_document
from app.course.files import LessonText, ModuleText, SourceInfo
from app.course.plan import build_modules, default_plan

TITLE = "示例协会章程（测试用虚构文本）"
CHAPTERS = (
    "总则", "会员", "组织制度", "理事会", "工作机构", "活动", "经费和资产", "奖励和处分", "附则",
)  # fmt: skip
_VERBS = (
    "整理", "核对", "发布", "汇总", "安排", "维护", "编写", "组织", "收集", "统计",
    "保管", "登记", "起草", "校对", "归档", "审核", "编制", "报送", "协调", "更新",
)  # fmt: skip
_NOUNS = (
    "档案", "名单", "通知", "意见", "会议", "网站", "简报", "培训", "建议", "数据",
    "物品", "信息", "文件", "文稿", "资料", "账目", "计划", "总结", "场地", "目录",
)  # fmt: skip
_BODIES = ("会员大会", "理事会", "秘书处", "监事会", "会员小组", "工作委员会", "联络组")
_ROLES = ("议事机构", "执行机构", "办事机构", "监督机构", "活动单位", "协调机构", "联络机构")
_EVENTS = ("开放日", "读书月", "服务周", "交流会", "互助季", "志愿日", "分享会", "茶话会")
_PAPERS = ("工作细则", "会员手册", "财务办法", "活动指南", "档案办法", "议事规则", "联络办法")
_NUMBERS = ("三", "四", "五", "六", "七", "八")
_DIGITS = "〇一二三四五六七八九"
_ARTICLE = re.compile(r"第[〇一二三四五六七八九十百]+条")


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 43 → 四十三 (up to 99)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def _item(n: int) -> str:
    return _VERBS[n % len(_VERBS)] + _NOUNS[(n * 7 + n // len(_VERBS)) % len(_NOUNS)]


def _sentence(kind: int, n: int) -> str:
    """The template `kind` filled in for article `n` (deterministic)."""
    items = [_item(n * 5 + k) for k in range(4)]
    body, role = _BODIES[n % len(_BODIES)], _ROLES[(n + n // 7) % len(_ROLES)]
    event, paper = _EVENTS[(n * 3) % len(_EVENTS)], _PAPERS[(n + n // 7 * 3) % len(_PAPERS)]
    number = _NUMBERS[(n * 5) % len(_NUMBERS)]
    templates = (
        f"本条明确{items[0]}、{items[1]}、{items[2]}等事项。",
        f"{body}履行下列职责：{items[1]}、{items[2]}、{items[3]}。",
        f"{body}是示例协会的{role}，对会员大会负责。",
        f"示例协会每年开展“{event}”活动，具体时间由{body}确定。",
        f"{body}每届任期{number}年，成员可以连选连任。",
        f"示例协会按照《示例协会{paper}》办理{items[3]}事项。",
        f"会员应当做到：{items[0]}、{items[2]}、{items[3]}。",
    )
    return templates[kind % len(templates)]


def charter_text(chapters: int = 9, articles: int = 43) -> str:
    """The document as plain text: a title, then chapters of numbered articles, each
    article two placeholder sentences."""
    lines = [TITLE]
    per_chapter, extra = divmod(articles, chapters)
    n = 0
    for chapter in range(1, chapters + 1):
        name = CHAPTERS[(chapter - 1) % len(CHAPTERS)]
        lines.append(f"第{chinese_number(chapter)}章　{name}")
        for _ in range(per_chapter + (1 if chapter <= extra else 0)):
            n += 1
            first, second = _sentence(n, n), _sentence(n + 3, n)
            lines.append(f"第{chinese_number(n)}条　{first}{second}")
    return "\n".join(lines) + "\n"


def charter_modules(chapters: int = 9, articles: int = 43) -> list[ModuleText]:
    """The course modules an import makes of the document: one a chapter."""
    document = parse_document(charter_text(chapters, articles))
    source = SourceInfo(title=TITLE, doc_number="", file="sources/charter.txt")
    return build_modules(document, default_plan(document, prefix="charter"), source)


def article_of(lesson: LessonText, paragraph: int) -> str | None:
    """The article ("第五条") that paragraph `paragraph` of a lesson begins, if any."""
    match = _ARTICLE.match(lesson.paragraphs[paragraph])
    return match.group(0) if match else None


# ---------------------------------------------------------------- a second version

ARTICLE_LINE = re.compile(r"^第[〇一二三四五六七八九十]+条　")
ADDED = "示例协会设立联络小组，负责与各会员小组的日常往来，小组的组成另行规定。"


def amended_text(old: str) -> str:
    """The old text with article 2 edited, an article added after article 6 and article 9
    removed; every article renumbered in order."""
    lines = old.splitlines()
    headings = [line for line in lines[1:] if not ARTICLE_LINE.match(line)]
    bodies = [ARTICLE_LINE.sub("", line) for line in lines[1:] if ARTICLE_LINE.match(line)]
    assert len(headings) == 3 and len(bodies) == 12
    assert "对会员大会负责" in bodies[1]
    bodies[1] = bodies[1].replace("对会员大会负责", "对理事会负责并报告工作")
    removed = bodies[8]
    new_bodies = [*bodies[:6], ADDED, *bodies[6:8], *bodies[9:]]
    assert removed not in new_bodies
    # The second chapter gains the new article, the third loses article 9.
    out = [lines[0] + "（修正案）"]
    n = 0
    for heading, size in zip(headings, (4, 5, 3), strict=True):
        out.append(heading)
        for _ in range(size):
            out.append(f"第{chinese_number(n + 1)}条　{new_bodies[n]}")
            n += 1
    assert n == len(new_bodies)
    return "\n".join(out) + "\n"
