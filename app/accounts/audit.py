"""The audit log of administrative actions, and its page for federation staff.

ACTIONS names every action the code records, in Chinese, in one place; the page shows
these names and filters by them. tests/test_audit_names.py reads every `record` call in
app/ and fails when an action has no name here.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.params import FromQuery
from litestar.response import Template
from piccolo.table import Table

from app.accounts.guards import requires_role
from app.lib.pagination import Page
from app.tables import AuditEvent

ACTIONS = {
    "password.change": "修改密码",
    "unit.create": "新建单位",
    "unit.rename": "修改单位",
    "unit.move": "移动单位",
    "unit.deactivate": "停用单位",
    "unit.activate": "启用单位",
    "person.create": "新建人员",
    "person.update": "修改人员",
    "person.deactivate": "停用人员",
    "person.activate": "启用人员",
    "person.reset_password": "重置密码",
    "cadres.import": "导入干部",
    "cadres.password_list": "下载初始密码清单",
    "users.create": "创建账号（命令行）",
    "cadres.import_cli": "导入干部（命令行）",
    "course.import": "导入文件发布课程",
    "bank.create": "新建题库",
    "bank.import": "导入题目",
    "question.deactivate": "停用题目",
    "question.activate": "启用题目",
    "bank.draft_accept": "采用出题助手的题目",
    "bank.draft_reject": "不采用出题助手的题目",
    "question.review_confirm": "确认待复核的题目",
    "course.amendment_publish": "发布“本次修改了什么”",
    "quiz.create": "新建测验",
    "quiz.update": "修改测验",
    "quiz.deactivate": "停用测验",
    "quiz.activate": "启用测验",
    "quiz_override.grant": "授予补考与延期",
    "quiz_override.update": "修改补考与延期",
    "quiz_override.revoke": "撤销补考与延期",
    "quiz_override.import": "上传补考与延期名单",
    "training.create": "新建培训",
    "training.update": "修改培训",
    "batch.create": "新建期次",
    "batch.update": "修改期次",
    "enrollment.create": "报名",
    "enrollment.withdraw": "取消报名",
    "session.create": "新增面授课程",
    "session.update": "修改面授课程",
    "session.cancel": "取消面授课程",
    "session.restore": "恢复面授课程",
    "session.delete": "删除面授课程",
    "attendance.mark": "标记出席",
    "attendance.unmark": "取消出席",
    "checkin.failed": "签到码错误",
    "credit_requirement.create": "设置年度学时要求",
    "credit_requirement.update": "修改年度学时要求",
    "credit_requirement.delete": "删除年度学时要求",
    "report_round.create": "发起报送",
    "report_round.update": "修改报送",
    "report_round.close": "结束报送",
    "report_round.reopen": "重新开放报送",
    "work_activity.create": "登记工作台账",
    "work_activity.update": "修改工作台账",
    "work_activity.remove": "删除工作台账",
    "activity_photo.add": "上传台账照片",
    "activity_photo.remove": "删除台账照片",
    "unit_report.upload": "上传修改后的报告",
    "unit_report.submit": "报送学习贯彻情况报告",
    "unit_report.return": "退回报告修改",
    "api_token.create": "新建接口令牌",
    "api_token.revoke": "撤销接口令牌",
}


async def record(
    connection: ASGIConnection[Any, Any, Any, Any] | None,
    action: str,
    target: Table | None,
    summary: str,
    actor_id: int | None = None,
) -> None:
    """Store who did `action` on `target`; call it inside the transaction that made the change."""
    if connection is not None and actor_id is None:
        actor_id = connection.user.id
    client = connection.client if connection is not None else None
    await AuditEvent.insert(
        AuditEvent(
            actor=actor_id,
            action=action,
            target_type=type(target).__name__.lower() if target is not None else "",
            target_id=target.id if target is not None else None,
            summary=summary,
            ip=client.host if client else "",
        )
    )


@get("/audit", name="audit", guards=[requires_role("federation_admin")])
async def audit_page(
    request: Request, page: FromQuery[int] = 1, action: FromQuery[str] = ""
) -> Template:
    query = AuditEvent.select(
        AuditEvent.all_columns(),
        AuditEvent.actor.name.as_alias("actor_name"),
        AuditEvent.actor.username.as_alias("actor_username"),
    )
    count = AuditEvent.count()
    if action not in ACTIONS:
        action = ""  # an unknown kind filters nothing rather than showing an empty log
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    pager = Page(number=page, total=await count)
    events = (
        await query.order_by(AuditEvent.id, ascending=False).offset(pager.offset).limit(pager.size)
    )
    return Template(
        "audit/list.html",
        context={"events": events, "pager": pager, "actions": ACTIONS, "action": action},
    )


route_handlers = [audit_page]
