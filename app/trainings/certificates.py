"""结业证书: a cadre's own certificate, staff viewing and printing them by unit, and the
public page that verifies a certificate by its code (no sign-in: `/verify/` is excluded
from the session authentication in `app.asgi`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

import segno
from litestar import Request, Router, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from piccolo.query.functions.aggregate import Count

from app.accounts.guards import requires_role
from app.accounts.units import tree_order
from app.lib.parsing import valid_id
from app.tables import TRAINING_KINDS, Completion, Training, Unit, User
from app.trainings.access import person_scope, training_row

_DIGITS = re.compile(r"[0-9]{1,10}")
_CODE = re.compile(r"[A-Z0-9]{4,20}")

CERTIFICATE_COLUMNS = (
    Completion.id,
    Completion.code,
    Completion.completed_at,
    Completion.hours,
    Completion.score,
    Completion.training,
    Completion.account,
    Completion.account.name.as_alias("name"),
    Completion.enrollment.unit.name.as_alias("unit_name"),
    Completion.enrollment.unit.path.as_alias("unit_path"),
    Completion.enrollment.batch.name.as_alias("batch_name"),
    Completion.training.title.as_alias("training_title"),
    Completion.training.kind.as_alias("training_kind"),
    Completion.training.unit.name.as_alias("organiser"),
)
# What the staff pages show of the training (who may see it: app/trainings/access.py).
TRAINING_COLUMNS = (Training.id, Training.title, Training.kind)


def mask_name(name: str) -> str:
    """A name with its middle hidden, for the public verification page (pure).

    Two characters keep the first (张*); three keep the first and the last (张*明); four or
    more keep the first two and the last, since four-character names usually start with a
    compound surname (欧阳*明). The hidden part is always one "*", so its length shows nothing.
    """
    name = "".join(name.split())
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if len(name) == 3:
        return name[0] + "*" + name[-1]
    return name[:2] + "*" + name[-1]


def qr_svg(text: str, title: str) -> str:
    """An inline SVG QR code for `text`, sized by CSS (it has a viewBox and no size)."""
    return segno.make(text, error="m").svg_inline(
        scale=4, omitsize=True, svgclass="qr", lineclass="qr-line", title=title
    )


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _prepared(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    """A certificate row with what its page shows: the kind in Chinese, the QR code."""
    url = _absolute(request, request.app.route_reverse("verify", code=row["code"]))
    return {
        **row,
        "kind": TRAINING_KINDS.get(row["training_kind"], ""),
        "verify_url": url,
        "qr": qr_svg(url, "扫码验证这张结业证书"),
    }


async def _certificate(**conditions: Any) -> dict[str, Any] | None:
    query = Completion.select(*CERTIFICATE_COLUMNS)
    for column, value in conditions.items():
        query = query.where(getattr(Completion, column) == value)
    return await query.first()


def _one_page(request: Request, row: dict[str, Any], back: str = "") -> Template:
    return Template(
        "trainings/certificate.html",
        context={"certificates": [_prepared(request, row)], "single": True, "back": back},
    )


@get("/my/certificates/{completion_id:int}", name="certificate")
async def my_certificate(request: Request, completion_id: FromPath[int]) -> Template:
    user: User = request.user
    row = None
    if valid_id(completion_id):
        row = await _certificate(id=completion_id, account=user.id)
    if row is None:
        raise NotFoundException("没有找到这张证书。")
    return _one_page(request, row, back=request.app.route_reverse("my_certificates"))


staff_only = requires_role("trainer", "unit_admin")


@get(
    "/trainings/{training_id:int}/certificates/{completion_id:int}",
    name="training_certificate",
    guards=[staff_only],
)
async def training_certificate(
    request: Request, training_id: FromPath[int], completion_id: FromPath[int]
) -> Template:
    user: User = request.user
    await training_row(user, training_id, Training.id)
    row = None
    if valid_id(completion_id):
        row = await _certificate(id=completion_id, training=training_id)
    if row is None:
        raise NotFoundException("没有找到这张证书。")
    if not row["unit_path"].startswith(person_scope(user)):
        raise PermissionDeniedException("这张证书不在您的管理范围内。")
    back = request.app.route_reverse("training_certificates", training_id=training_id)
    return _one_page(request, row, back=back)


@get(
    "/trainings/{training_id:int}/certificates",
    name="training_certificates",
    guards=[staff_only],
)
async def training_certificates(
    request: Request,
    training_id: FromPath[int],
    unit_id: Annotated[str, QueryParameter(name="unit")] = "",
) -> Template:
    """Every certificate of a unit's subtree, one per printed page; without `unit`, the units
    to choose from, with how many certificates each subtree has."""
    user: User = request.user
    training = await training_row(user, training_id, *TRAINING_COLUMNS)
    scope = person_scope(user)
    if not _DIGITS.fullmatch(unit_id):
        return await _unit_choice(training, scope)
    unit = await Unit.objects().where(Unit.id == int(unit_id)).first()
    if unit is None:
        raise NotFoundException("没有找到这个单位。")
    if not unit.path.startswith(scope):
        raise PermissionDeniedException("这个单位不在您的管理范围内。")
    rows = (
        await Completion.select(*CERTIFICATE_COLUMNS)
        .where(
            Completion.training == training_id,
            Completion.enrollment.unit.path.like(unit.path + "%"),
        )
        .order_by(Completion.enrollment.unit.path)
        .order_by(Completion.account.name)
        .order_by(Completion.id)
    )
    return Template(
        "trainings/certificate.html",
        context={
            "certificates": [_prepared(request, row) for row in rows],
            "single": False,
            "training": training,
            "unit": unit,
            "back": request.app.route_reverse("training_certificates", training_id=training_id),
        },
    )


async def _unit_choice(training: dict[str, Any], scope: str) -> Template:
    units = tree_order(
        await Unit.select(
            Unit.id, Unit.name, Unit.parent, Unit.path, Unit.depth, Unit.sort_order
        ).where(Unit.path.like(scope + "%"))
    )
    counts = await (
        Completion.select(
            Completion.enrollment.unit.as_alias("unit"), Count(Completion.id).as_alias("n")
        )
        .where(
            Completion.training == training["id"],
            Completion.enrollment.unit.path.like(scope + "%"),
        )
        .group_by(Completion.enrollment.unit)
    )
    direct = {row["unit"]: row["n"] for row in counts}
    paths = {u["id"]: u["path"] for u in units}
    subtree: dict[str, int] = {}
    for unit_id, n in direct.items():
        path = paths.get(unit_id, "")
        for unit in units:
            if path.startswith(unit["path"]):
                subtree[unit["path"]] = subtree.get(unit["path"], 0) + n
    top = min((u["depth"] for u in units), default=0)
    rows = [
        {**u, "level": u["depth"] - top, "count": subtree.get(u["path"], 0)}
        for u in units
        if subtree.get(u["path"], 0)
    ]
    return Template(
        "trainings/certificate_units.html",
        context={"training": training, "units": rows, "total": sum(direct.values())},
    )


def normalize_code(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()[:20]


@get("/verify/{code:str}", name="verify", exclude_from_auth=True)
async def verify(request: Request, code: FromPath[str]) -> Template:
    code = normalize_code(code)
    row = await _certificate(code=code) if _CODE.fullmatch(code) else None
    headers = {"X-Robots-Tag": "noindex"}
    if row is None:
        return Template(
            "trainings/certificate_verify.html",
            context={"certificate": None, "code": code},
            status_code=404,
            headers=headers,
        )
    certificate = {
        **row,
        "masked_name": mask_name(row["name"]),
        "kind": TRAINING_KINDS.get(row["training_kind"], ""),
    }
    return Template(
        "trainings/certificate_verify.html",
        context={"certificate": certificate, "code": code},
        headers=headers,
    )


router = Router(
    path="/",
    route_handlers=[my_certificate, training_certificate, training_certificates, verify],
)
