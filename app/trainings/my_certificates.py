"""我的证书: the cadre's own certificates, each linking to its page (trainings/certificates.py)."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from app.tables import TRAINING_KINDS, Completion, User
from app.trainings.certificates import CERTIFICATE_COLUMNS


@get("/my/certificates", name="my_certificates")
async def my_certificates(request: Request) -> Template:
    """Every certificate the signed-in person earned, the newest first."""
    user: User = request.user
    rows = await (
        Completion.select(*CERTIFICATE_COLUMNS)
        .where(Completion.account == user.id)
        .order_by(Completion.completed_at, ascending=False)
        .order_by(Completion.id, ascending=False)
    )
    certificates = [{**row, "kind": TRAINING_KINDS.get(row["training_kind"], "")} for row in rows]
    return Template("trainings/my_certificates.html", context={"certificates": certificates})


route_handlers = [my_certificates]
