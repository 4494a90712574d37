"""Who may see a training: one rule for the training pages, enrollment, attendance,
certificates, the reports and the JSON API.

The rule
--------
1. Staff (trainer, federation_admin) see every training.
2. Anyone else sees through a unit subtree S: a unit admin's own unit's, an API token's
   unit's. A training is visible when
   - it is organised in S (by S or a unit inside it); or
   - it has a batch open to S's line: a batch opened to an ancestor of S, to S itself or
     to a unit inside S, or a batch opened to no unit (that is, to the organiser's
     subtree) of a training organised by an ancestor of S; or
   - a cadre in S has an active enrollment in it.
   A training organised above S that concerns S in none of these ways is not visible.
3. Inactive (停用) trainings are visible to people by the same rule (the pages and the
   reports list them after the active ones); the JSON API serves active trainings only.
4. An unknown id, or one outside the 32-bit id range, answers 404 "没有找到这项培训。";
   a known training that is not visible answers 403 "这项培训不在您的管理范围内。". An API
   token gets the same 404 for both, "没有找到这项培训，或它不在令牌的单位范围内。", so
   that it never learns that an id exists outside its scope.
5. Cadres see no training through these staff entry points; they reach theirs through
   their enrollments, on 我的培训.

`visible_condition` is the only place the rule is written down, as a WHERE condition on
Training (subqueries only, no join, so it fits any select, count or objects query); the
functions below build on it.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.query import Objects, Select

from app.accounts.guards import scope_path
from app.lib.parsing import valid_id
from app.tables import Batch, Enrollment, Training, Unit, User

STAFF_ROLES = ("trainer", "federation_admin")
EVERYWHERE = "/"  # the subtree of the whole tree: every unit path starts with it

NOT_FOUND = "没有找到这项培训。"
NOT_VISIBLE = "这项培训不在您的管理范围内。"
NOT_FOUND_FOR_TOKEN = "没有找到这项培训，或它不在令牌的单位范围内。"


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def person_scope(user: User) -> str:
    """The subtree S a person sees trainings (and certificates) through: the whole tree
    for staff, their own unit's subtree otherwise."""
    return EVERYWHERE if is_staff(user) else user.unit.path


def _line_ids(path: str) -> list[int]:
    """The ids of the unit at `path` and of its ancestors: "/1/4/17/" -> [1, 4, 17]."""
    return [int(part) for part in path.split("/") if part.isdigit()]


def visible_condition(scope: str, *, active_only: bool) -> Combinable:
    """The trainings visible through the subtree `scope` (EVERYWHERE: all of them), as a
    condition for `.where()`; with `active_only`, only the active ones among them."""
    if scope == EVERYWHERE:
        condition: Combinable = Training.id.is_not_null()  # every training
    else:
        line = _line_ids(scope)  # S and its ancestors
        inside = Unit.select(Unit.id).where(Unit.path.like(scope + "%"))  # S and below
        open_to_line = Batch.select(Batch.training).where(
            Batch.open_unit.is_in(line) | Batch.open_unit.is_in(inside)
        )
        open_to_organisers_subtree = Batch.select(Batch.training).where(Batch.open_unit.is_null())
        enrolled = Enrollment.select(Enrollment.training).where(
            Enrollment.active.eq(True), Enrollment.unit.is_in(inside)
        )
        condition = (
            Training.unit.is_in(inside)
            | Training.id.is_in(open_to_line)
            | (Training.unit.is_in(line) & Training.id.is_in(open_to_organisers_subtree))
            | Training.id.is_in(enrolled)
        )
    return condition & Training.active.eq(True) if active_only else condition


def visible_to(user: User) -> Combinable:
    """The trainings this person may see on the pages and in the reports: nothing for a
    cadre, inactive trainings included."""
    if not is_staff(user) and user.role != "unit_admin":
        return Training.id.is_null()  # no training
    return visible_condition(person_scope(user), active_only=False)


def visible_to_token(path: str) -> Combinable:
    """The trainings an API token scoped to the subtree at `path` may see: active only."""
    return visible_condition(path, active_only=True)


async def _find(query: Select | Objects, visible: Combinable, training_id: int, *, for_token: bool):
    """The first row of `query` for this training if it is visible; otherwise 404 for an
    unknown id, and for a known one 403 (a person) or 404 (a token)."""
    if valid_id(training_id):
        found = await query.where(Training.id == training_id, visible).first()
        if found is not None:
            return found
        if not for_token and await Training.exists().where(Training.id == training_id):
            raise PermissionDeniedException(NOT_VISIBLE)
    raise NotFoundException(NOT_FOUND_FOR_TOKEN if for_token else NOT_FOUND)


async def load_training(user: User, training_id: int) -> Training:
    """The training with its organiser unit loaded, if this person may see it."""
    return await _find(
        Training.objects(Training.unit), visible_to(user), training_id, for_token=False
    )


async def training_row(user: User, training_id: int, *columns: Column) -> dict[str, Any]:
    """The training's `columns`, if this person may see it."""
    return await _find(Training.select(*columns), visible_to(user), training_id, for_token=False)


async def token_training(path: str, training_id: int, *columns: Column) -> dict[str, Any]:
    """The training's `columns` (its id when none are given), if an API token scoped to
    the subtree at `path` may see it."""
    return await _find(
        Training.select(*(columns or (Training.id,))),
        visible_to_token(path),
        training_id,
        for_token=True,
    )


def enroll_scope(user: User, open_path: str | None, organiser_path: str) -> str | None:
    """The unit path under which this person may enroll cadres into a batch open to
    `open_path` (None: the organiser's subtree), or None when the batch is not open to them.

    Staff enroll anyone in their scope into any batch. A unit admin may use a batch opened to
    their unit, an ancestor or a descendant of it, and then only for cadres both in their own
    subtree and in the batch's (the deeper of the two paths)."""
    if is_staff(user):
        return scope_path(user)
    if user.role != "unit_admin":
        return None
    own, target = user.unit.path, open_path or organiser_path
    if own.startswith(target):
        return own
    if target.startswith(own):
        return target
    return None
