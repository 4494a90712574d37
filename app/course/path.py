"""学习路径: the one next step a cadre is offered, decided from facts (pure).

The path runs in course order: each module's lessons, then that module's quizzes, then the
training's final quiz, then the certificate. The first thing on it not yet done is the next
step. A quiz that can no longer be taken (closed, or every attempt used) is passed over, so
the path never stops at a door that will not open. The home page, 我的培训 and every other
“继续学习” ask `next_step`, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LESSON = "lesson"
MODULE_QUIZ = "module_quiz"
FINAL_QUIZ = "final_quiz"
CERTIFICATE = "certificate"


@dataclass(frozen=True)
class LessonFacts:
    slug: str
    title: str
    read: bool


@dataclass(frozen=True)
class QuizFacts:
    slug: str
    title: str
    passed: bool  # by the attempt that counts
    can_take: bool  # an attempt in progress, or the quiz open with attempts left


@dataclass(frozen=True)
class ModuleFacts:
    slug: str
    title: str
    lessons: tuple[LessonFacts, ...]  # in course order
    quizzes: tuple[QuizFacts, ...] = ()


@dataclass(frozen=True)
class PathFacts:
    """What is known of one cadre on one path: a training's modules, or the whole course."""

    modules: tuple[ModuleFacts, ...]  # in course order
    final_quiz: QuizFacts | None = None
    completed: bool = False
    certificate: int | None = None  # the completion's id, once there is one


@dataclass(frozen=True)
class Step:
    """Where the button goes: a named route with its path parameters."""

    kind: str  # LESSON, MODULE_QUIZ, FINAL_QUIZ or CERTIFICATE
    label: str  # the button's words
    title: str  # what it opens
    route: str
    params: tuple[tuple[str, Any], ...]

    @property
    def path_params(self) -> dict[str, Any]:
        return dict(self.params)


def next_step(facts: PathFacts) -> Step | None:
    """The first thing on the path not yet done, or None when nothing is left to open
    (a completed training without a certificate, or only attendance missing)."""
    if facts.completed:
        if facts.certificate is None:
            return None
        return Step(
            CERTIFICATE,
            "查看证书",
            "结业证书",
            "certificate",
            (("completion_id", facts.certificate),),
        )
    started = any(lesson.read for module in facts.modules for lesson in module.lessons)
    for module in facts.modules:
        for lesson in module.lessons:
            if not lesson.read:
                return Step(
                    LESSON,
                    "继续学习" if started else "开始学习",
                    lesson.title,
                    "lesson",
                    (("module_slug", module.slug), ("lesson_slug", lesson.slug)),
                )
        for quiz in module.quizzes:
            if not quiz.passed and quiz.can_take:
                return Step(
                    MODULE_QUIZ, "开始测验", quiz.title, "quiz", (("quiz_slug", quiz.slug),)
                )
    final = facts.final_quiz
    if final is not None and not final.passed and final.can_take:
        return Step(FINAL_QUIZ, "参加结业测验", final.title, "quiz", (("quiz_slug", final.slug),))
    return None
