"""Piccolo tables.

Foreign keys to units and people restrict deletion: people and units are
deactivated, never deleted, so nothing a person did disappears with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from piccolo.columns import (
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:
    from piccolo.columns import Serial

    class Row(Table):
        """What the type checker sees of every table: the `id` primary key Piccolo adds."""

        id: ClassVar[Serial]
else:
    Row = Table

UNIT_KINDS = {
    "city_federation": "市总工会",
    "county_federation": "县（市、区）总工会",
    "zone_union": "高新区工会",
    "industry_union": "产业工会",
    "municipal_grassroots_union": "市属基层工会",
    "grassroots_union": "基层工会",
}

ROLES = {
    "cadre": "学员",
    "trainer": "培训管理员",
    "unit_admin": "单位管理员",
    "federation_admin": "市总工会管理员",
}


class Unit(Row, tablename="unit"):
    """A union organisation in the tree; `path` is the materialised path, e.g. "/1/4/17/"."""

    name = Varchar(length=100, unique=True)
    kind = Varchar(length=40)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    path = Varchar(length=400, index=True, default="")
    depth = Integer(default=0)
    sort_order = Integer(default=0)
    code = Varchar(length=40, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Row, tablename="account"):
    """A person who signs in: a cadre or a member of staff."""

    username = Varchar(length=50, unique=True)
    name = Varchar(length=50)
    role = Varchar(length=20, default="cadre", index=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)
    position = Varchar(length=50, default="")
    phone = Varchar(length=20, default="")
    gender = Varchar(length=2, default="")
    staff_no = Varchar(length=50, default="")
    password_hash = Text(default="")
    must_change_password = Boolean(default=True)
    active = Boolean(default=True)
    large_font = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)


class AuditEvent(Row, tablename="audit_event"):
    """Who did what to which object, and when."""

    actor = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    action = Varchar(length=50, index=True)
    target_type = Varchar(length=30, default="")
    target_id = Integer(null=True, default=None)
    summary = Text(default="")
    ip = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class LoginAttempt(Row, tablename="login_attempt"):
    """One sign-in attempt; kept in the database so throttling holds across workers."""

    username = Varchar(length=50, index=True)
    ip = Varchar(length=64, index=True)
    succeeded = Boolean(default=False)
    # Refused before the password was checked (account locked or address throttled).
    refused = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class SessionRecord(Row, tablename="session_record"):
    """Server-side session data, shared by every worker."""

    key = Varchar(length=128, unique=True)
    data = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)


class Upload(Row, tablename="upload"):
    """An uploaded file waiting between its preview and its confirmation."""

    kind = Varchar(length=30)
    filename = Varchar(length=255)
    content = Bytea()
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class SiteSetting(Row, tablename="site_setting"):
    """Facts about this installation, such as whether it holds demo data."""

    key = Varchar(length=50, unique=True)
    value = Text(default="")


class Module(Row, tablename="course_module"):
    """A course module, loaded from its file in `course/`.

    `file_hash` is the fingerprint of its file when last loaded (see `app/lib/seeding.py`);
    `from_browser`: published through the course import pages, so a different file of the
    same name, or none, does not replace it unless `peixun init --take-files` asks for it."""

    slug = Varchar(length=80, unique=True)
    title = Varchar(length=200)
    sort_order = Integer(default=0)
    source_title = Text(default="")
    doc_number = Varchar(length=100, default="")
    source_file = Varchar(length=255, default="")
    note = Text(default="")
    active = Boolean(default=True)
    file_hash = Varchar(length=64, default="")
    from_browser = Boolean(default=False)


class Lesson(Row, tablename="lesson"):
    """A lesson: official text, word for word, with the trainer's 学习要点 kept apart."""

    key = Varchar(length=200, unique=True)  # "module-slug/lesson-slug"
    module = ForeignKey(Module, on_delete=OnDelete.restrict, index=True)
    slug = Varchar(length=100)
    source_ref = Varchar(length=100)
    title = Varchar(length=300)
    sort_order = Integer(default=0)
    body = Text(default="")  # paragraphs separated by blank lines
    key_points = Text(default="")
    characters = Integer(default=0)
    active = Boolean(default=True)


class LessonProgress(Row, tablename="lesson_progress"):
    """How far one person has read one lesson; one row per person and lesson."""

    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    lesson = ForeignKey(Lesson, on_delete=OnDelete.restrict, index=True)
    first_opened_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    active_seconds = Integer(default=0)
    read_at = Timestamptz(null=True, default=None)


class Bank(Row, tablename="bank"):
    """A question bank; the shipped ones are loaded from `question_banks/`. `file_hash`: the
    fingerprint of its file's title and module when last loaded."""

    slug = Varchar(length=80, unique=True)
    title = Varchar(length=200)
    module = ForeignKey(Module, null=True, on_delete=OnDelete.restrict)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    file_hash = Varchar(length=64, default="")


class Question(Row, tablename="question"):
    """A question's lasting identity: its key within its bank. Its content is in versions.
    `file_hash`: the fingerprint of the question in its bank file when last loaded."""

    bank = ForeignKey(Bank, on_delete=OnDelete.restrict, index=True)
    key = Varchar(length=64)  # unique within the bank (index in a migration)
    sort_order = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    file_hash = Varchar(length=64, default="")


class QuestionVersion(Row, tablename="question_version"):
    """One version of a question, never changed once written: an edit adds a version, so
    papers that froze an older one keep it."""

    question = ForeignKey(Question, on_delete=OnDelete.restrict, index=True)
    version = Integer(default=1)
    is_current = Boolean(default=True, index=True)
    type = Varchar(length=20)
    stem = Text()
    options = Text(default="[]")  # JSON list
    answer = Text(default="[]")  # JSON list of letters, or ["对"] / ["错"]
    blanks = Text(default="[]")  # JSON list of lists of accepted texts
    explanation = Text(default="")
    source_ref = Varchar(length=100, default="", index=True)
    difficulty = Integer(null=True, default=None)
    tags = Text(default="[]")  # JSON list
    evidence = Text(default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class Quiz(Row, tablename="quiz"):
    """A quiz: draw rules and the rules of taking it. Loaded from `question_banks/quizzes/`
    or made by a trainer in the browser."""

    slug = Varchar(length=80, unique=True)
    title = Varchar(length=200)
    module = ForeignKey(Module, null=True, on_delete=OnDelete.restrict)
    rules = Text(default="[]")  # JSON list of draw rules
    time_limit_minutes = Integer(default=0)  # 0: untimed
    full_marks = Integer(default=100)
    pass_mark = DoublePrecision(default=80.0)
    max_attempts = Integer(default=0)  # 0: unlimited
    counted_attempt = Varchar(length=20, default="highest")
    review = Varchar(length=20, default="answers")
    shuffle_questions = Boolean(default=True)
    shuffle_options = Boolean(default=True)
    partial_credit = Boolean(default=False)
    opens_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    published = Boolean(default=True)
    active = Boolean(default=True)
    source_file = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    file_hash = Varchar(length=64, default="")  # its file's definition when last loaded
    # Active 补考/延期 (QuizOverride rows not revoked), kept by the code that grants and
    # revokes them: starting an attempt reads a cadre's override only when this is not 0.
    override_count = Integer(default=0)


class QuizOverride(Row, tablename="quiz_override"):
    """A trainer's 补考/延期 of one quiz for one cadre: extra attempts, extra minutes for the
    attempts started while it stands, a later closing date (`app/quizzes/allowance.py` is the
    rule). One row per quiz and cadre (a unique index in a migration): granting again updates
    it (and takes back a revocation); revoking keeps it with when and by whom; the audit log
    keeps every old and new value."""

    quiz = ForeignKey(Quiz, on_delete=OnDelete.restrict)  # first in the unique index
    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    extra_attempts = Integer(default=0)
    extra_minutes = Integer(default=0)
    closes_at = Timestamptz(null=True, default=None)
    reason = Varchar(length=200, default="")
    granted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)


class Attempt(Row, tablename="attempt"):
    """One cadre's attempt at a quiz, with its paper frozen when it started.

    `paper` holds the questions as shown (versions, option order, answers); it never leaves
    the server before the attempt is finished. At most one attempt per cadre and quiz is in
    progress (a partial unique index in a migration)."""

    quiz = ForeignKey(Quiz, null=True, on_delete=OnDelete.restrict, index=True)
    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    practice = Boolean(default=False)  # untimed practice, not counted
    practice_source = Varchar(length=100, default="")  # "mistakes" or a bank slug
    status = Varchar(length=20, default="in_progress", index=True)
    paper = Text(default="[]")  # JSON list of paper items
    started_at = Timestamptz(default=TimestamptzNow())
    deadline_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    finished_by = Varchar(length=20, default="")  # "cadre", "deadline", "sweep", "quiz_started"
    awarded = DoublePrecision(null=True, default=None)
    total = DoublePrecision(null=True, default=None)
    score = DoublePrecision(null=True, default=None)
    passed = Boolean(null=True, default=None)
    page_leaves = Integer(default=0)


class Answer(Row, tablename="answer"):
    """The cadre's answer to one question of a paper; one row per attempt and position."""

    attempt = ForeignKey(Attempt, on_delete=OnDelete.restrict, index=True)
    position = Integer()
    question_version = ForeignKey(QuestionVersion, on_delete=OnDelete.restrict, index=True)
    response = Text(default="[]")  # JSON, as the cadre gave it (letters as shown)
    choice = Varchar(length=40, default="")  # chosen options in the bank's letters, for statistics
    saved_at = Timestamptz(default=TimestamptzNow())
    correct = Boolean(null=True, default=None)  # set when the attempt is graded
    awarded = DoublePrecision(null=True, default=None)


class AttemptEvent(Row, tablename="attempt_event"):
    """Something noticed during an attempt, such as the cadre leaving the page."""

    attempt = ForeignKey(Attempt, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)  # "leave", "return"
    created_at = Timestamptz(default=TimestamptzNow())


class Mistake(Row, tablename="mistake"):
    """A question the cadre once got wrong, in their 错题本 until marked as mastered."""

    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    question = ForeignKey(Question, on_delete=OnDelete.restrict)
    question_version = ForeignKey(QuestionVersion, on_delete=OnDelete.restrict)
    attempt = ForeignKey(Attempt, on_delete=OnDelete.restrict)
    wrong_count = Integer(default=1)
    last_wrong_at = Timestamptz(default=TimestamptzNow())
    mastered_at = Timestamptz(null=True, default=None)


TRAINING_KINDS = {"special": "专题培训", "rotation": "集中轮训"}


class Training(Row, tablename="training"):
    """A 专题培训 or 集中轮训, run by a unit for the cadres of its subtree."""

    title = Varchar(length=200)
    kind = Varchar(length=20, default="special")  # TRAINING_KINDS
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)  # the organiser
    description = Text(default="")
    final_quiz = ForeignKey(Quiz, null=True, on_delete=OnDelete.restrict)
    credit_hours = DoublePrecision(default=0.0)  # 学时 for completing it
    attendance_share = DoublePrecision(default=0.8)  # 集中轮训: share of sessions to attend
    active = Boolean(default=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingModule(Row, tablename="training_module"):
    """A course module a training requires: every lesson of it read."""

    training = ForeignKey(Training, on_delete=OnDelete.restrict, index=True)
    module = ForeignKey(Module, on_delete=OnDelete.restrict)


class Batch(Row, tablename="batch"):
    """One 期次 of a training, with its dates, place and capacity."""

    training = ForeignKey(Training, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)  # e.g. 第一期
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    place = Varchar(length=200, default="")
    capacity = Integer(default=0)  # 0: no limit
    # Unit admins under this unit may enroll their cadres; null: the organiser's subtree.
    open_unit = ForeignKey(Unit, null=True, on_delete=OnDelete.restrict)
    sort_order = Integer(default=0)


class Enrollment(Row, tablename="enrollment"):
    """A cadre enrolled in a training (and a batch), with the progress last computed.

    The progress columns are stored facts, recomputed on the events that change them
    (a lesson read, an attempt finished, an attendance), so rosters read them directly."""

    training = ForeignKey(Training, on_delete=OnDelete.restrict, index=True)
    batch = ForeignKey(Batch, null=True, on_delete=OnDelete.restrict, index=True)
    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)  # the cadre's unit then
    active = Boolean(default=True)
    enrolled_at = Timestamptz(default=TimestamptzNow())
    enrolled_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    lessons_required = Integer(default=0)
    lessons_read = Integer(default=0)
    quiz_score = DoublePrecision(null=True, default=None)  # the counted attempt's score
    quiz_passed = Boolean(default=False)
    sessions_total = Integer(default=0)
    sessions_attended = Integer(default=0)
    hours = DoublePrecision(default=0.0)  # 学时 earned so far
    completed_at = Timestamptz(null=True, default=None, index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class ClassSession(Row, tablename="class_session"):
    """A class of a 集中轮训 batch; cadres check in with the code shown in the room."""

    batch = ForeignKey(Batch, on_delete=OnDelete.restrict, index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz(null=True, default=None)
    place = Varchar(length=200, default="")
    topic = Varchar(length=200, default="")
    hours = DoublePrecision(default=0.0)
    checkin_code = Varchar(length=20, default="")
    code_expires_at = Timestamptz(null=True, default=None)
    # 已取消: no check-ins, left out of the completion rule; its attendance is kept.
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Varchar(length=200, default="")


class Attendance(Row, tablename="attendance"):
    """A cadre present at a class session: checked in by code, or marked by the trainer."""

    session = ForeignKey(ClassSession, on_delete=OnDelete.restrict, index=True)
    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    present = Boolean(default=True)
    method = Varchar(length=20, default="code")  # "code", "trainer"
    marked_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class Completion(Row, tablename="completion"):
    """A cadre met a training's completion rule: when, and the evidence (lessons read, the
    attempt passed, the sessions attended). Its certificate is verified by `code`."""

    training = ForeignKey(Training, on_delete=OnDelete.restrict, index=True)
    account = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    enrollment = ForeignKey(Enrollment, on_delete=OnDelete.restrict)
    completed_at = Timestamptz(default=TimestamptzNow())
    evidence = Text(default="{}")  # JSON
    hours = DoublePrecision(default=0.0)
    score = DoublePrecision(null=True, default=None)
    code = Varchar(length=20, unique=True)  # the certificate's verification code


class ApiToken(Row, tablename="api_token"):
    """A token for the read-only JSON API, scoped to a unit's subtree."""

    name = Varchar(length=100)
    token_hash = Varchar(length=128, unique=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


# Drafted questions (出题助手) ----------------------------------------------------------


class DraftRejection(Row, tablename="draft_rejection"):
    """A drafted question a trainer rejected for a bank, so it is not offered again:
    `draft_key` is `app/banks/draft_pages.draft_key` (sha256 of type, stem and answer)."""

    bank = ForeignKey(Bank, on_delete=OnDelete.restrict, index=True)
    draft_key = Varchar(length=64)
    rejected_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    rejected_at = Timestamptz(default=TimestamptzNow())


class Amendment(Row, tablename="amendment"):
    """A document imported as a new version of one imported before (`app/course/versions.py`):
    both versions stay in `course/sources`, named as `Module.source_file` names them.
    `change_module`: the slug of the module “本次修改了什么” once published."""

    title = Varchar(length=300)
    old_source = Varchar(length=255)
    new_source = Varchar(length=255, unique=True)
    change_module = Varchar(length=80, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class QuestionReview(Row, tablename="question_review"):
    """A question whose 出处 an amendment changed or removed: left out of new papers until a
    trainer confirms it or saves a new version of it (`app/banks/reviews.py`)."""

    question = ForeignKey(Question, on_delete=OnDelete.restrict, index=True)
    amendment = ForeignKey(Amendment, on_delete=OnDelete.restrict)
    reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)


class ContentGeneration(Row, tablename="content_generation"):
    """A counter the database itself raises (triggers, see the migration of 2026-12-05) on
    every change to questions, their versions, banks and reviews: a process keeps the
    question pool it read while the counter it read with it is unchanged
    (`app/quizzes/definitions.quiz_pool`), whichever process made the change."""

    name = Varchar(length=40, unique=True)
    generation = Integer(default=0)


# 学时 (credit hours) -----------------------------------------------------------------


class CreditEntry(Row, tablename="credit_entry"):
    """One row of the 学时台账: 学时 a cadre earned (or, negative, a correction), written on
    the event that earned it (`app/trainings/credits.py`), never computed in a report.

    `key` says what it is for ("reading:{module}", "quiz:{quiz}", "session:{session}",
    "training:{training}"); the rows of one account, year and key are numbered by
    `sequence` (a unique index in a migration), so the same credit is never written twice.
    `year`: the year it was earned in Beijing time. `corrects`: the entry a correction
    takes back. `evidence`: JSON (lessons and minutes, the attempt and score, the session,
    the completion)."""

    account = ForeignKey(User, on_delete=OnDelete.restrict)  # first in credit_entry_once
    year = Integer()
    source = Varchar(length=20)  # app/trainings/credit_rules.SOURCES
    key = Varchar(length=60)
    sequence = Integer(default=1)
    hours = DoublePrecision(default=0.0)
    earned_at = Timestamptz(default=TimestamptzNow())
    training = ForeignKey(Training, null=True, on_delete=OnDelete.restrict)
    # NO ACTION: checked at the end of a statement, so the whole ledger can be emptied at once.
    corrects = ForeignKey("self", null=True, on_delete=OnDelete.no_action)
    evidence = Text(default="{}")
    note = Text(default="")


class CreditRequirement(Row, tablename="credit_requirement"):
    """年度学时要求: the 学时 a person must earn in a year. `role` and `unit_kind` narrow it
    ("": any); the most specific one that matches applies (`credit_rules.requirement_for`).
    One row per year, role and unit kind (a unique index in a migration)."""

    year = Integer()
    hours = DoublePrecision(default=0.0)
    role = Varchar(length=20, default="")
    unit_kind = Varchar(length=40, default="")
    note = Varchar(length=200, default="")
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    updated_at = Timestamptz(default=TimestamptzNow())


# ------------------------------------------------------------------ reporting back (报送)

ACTIVITY_KINDS = {  # part 三 of notice 焦工文〔2023〕93号, in its order
    "publicity": "舆论宣传",
    "study": "学习培训",
    "lecture": "理论宣讲",
    "implementation": "落地见效",
}


class ReportRound(Row, tablename="report_round"):
    """报送: federation staff ask the units of some kinds (`unit_kinds`, a JSON list of
    UNIT_KINDS keys) to report on a notice (`title`, `doc_number`) by `deadline`. The
    figures count the trainings listed in `trainings` (JSON list of ids) and the 学时 of
    `credit_year`. Several rounds may be open at once; a closed one takes no reports."""

    title = Varchar(length=200)
    doc_number = Varchar(length=60, default="")
    unit_kinds = Text(default="[]")
    trainings = Text(default="[]")
    credit_year = Integer()
    deadline = Date()
    note = Text(default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class WorkActivity(Row, tablename="work_activity"):
    """One entry of a unit's 工作台账 for a round: an activity of a kind the notice names
    (ACTIVITY_KINDS), with its form (专题学习会, 微宣讲, …). Editable until a report of the
    round covering the unit is submitted; removing it sets `removed_at` (audited)."""

    round = ForeignKey(ReportRound, on_delete=OnDelete.restrict)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)
    form = Varchar(length=40, default="")
    held_on = Date()
    title = Varchar(length=200)
    place = Varchar(length=200, default="")
    participants = Integer(default=0)
    speaker = Varchar(length=100, default="")
    summary = Text(default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    updated_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)
    removed_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)


class ActivityPhoto(Row, tablename="activity_photo"):
    """A photo of an activity, as stored after checking: a JPEG re-encoded from the upload
    (turned upright, at most 1600 px, without its EXIF data such as where it was taken)."""

    activity = ForeignKey(WorkActivity, on_delete=OnDelete.restrict, index=True)
    content = Bytea()
    filename = Varchar(length=255, default="")
    width = Integer(default=0)
    height = Integer(default=0)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class UnitReport(Row, tablename="unit_report"):
    """A unit's report in a round (one per round and unit, a unique index in a migration).
    `document`: the .docx the unit uploaded after editing the draft (or, once submitted
    without one, the draft as it was). Submitting stores the figures (`figures`, JSON of
    `unit_reports.figures.ReportFigures`) and the document as they were; returning it for
    changes (federation staff) opens it again."""

    round = ForeignKey(ReportRound, on_delete=OnDelete.restrict)
    unit = ForeignKey(Unit, on_delete=OnDelete.restrict)
    status = Varchar(length=20, default="draft")  # draft, submitted
    figures = Text(default="")
    document = Bytea(null=True, default=None)
    document_name = Varchar(length=255, default="")
    uploaded_at = Timestamptz(null=True, default=None)
    uploaded_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    returned_at = Timestamptz(null=True, default=None)
    returned_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    return_note = Text(default="")


class ReturnedReport(Row, tablename="returned_report"):
    """A submission that federation staff returned for changes, kept as it was submitted
    (its figures and document), with who returned it, when and why."""

    report = ForeignKey(UnitReport, on_delete=OnDelete.restrict, index=True)
    figures = Text(default="")
    document = Bytea(null=True, default=None)
    document_name = Varchar(length=255, default="")
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    returned_at = Timestamptz(default=TimestamptzNow())
    returned_by = ForeignKey(User, null=True, on_delete=OnDelete.restrict)
    note = Text(default="")
