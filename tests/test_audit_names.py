"""Every action the code writes to the audit log has a Chinese name, and the log can be
filtered by each kind.

The actions are read from the source with ast: the second argument of every call to the
audit log's `record` in app/ — a literal, a choice between literals (`"a" if x else "b"`),
an f-string made of such parts, or a name assigned such values in the same function.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from app.accounts.audit import ACTIONS
from app.tables import AuditEvent
from tests.conftest import login

APP = Path(__file__).resolve().parent.parent / "app"
ACTION_FORM = re.compile(r"[a-z_]+\.[a-z_]+")


class Unreadable(Exception):
    """An action argument whose possible values cannot be read from the source."""


def _values(node: ast.expr, scope: ast.AST) -> set[str]:
    """Every string the expression can be, as far as the source shows."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, scope) | _values(node.orelse, scope)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion != -1:
                    raise Unreadable(ast.unparse(node))
                parts.append(sorted(_values(part.value, scope)))
            else:
                parts.append(sorted(_values(part, scope)))
        return {"".join(p) for p in itertools.product(*parts)}
    if isinstance(node, ast.Name):
        found: set[str] = set()
        for assign in ast.walk(scope):
            if not isinstance(assign, ast.Assign):
                continue
            for target in assign.targets:
                if isinstance(target, ast.Name) and target.id == node.id:
                    found |= _values(assign.value, scope)
                elif isinstance(target, ast.Tuple) and isinstance(assign.value, ast.Tuple):
                    for element, value in zip(target.elts, assign.value.elts, strict=False):
                        if isinstance(element, ast.Name) and element.id == node.id:
                            found |= _values(value, scope)
        if not found:
            raise Unreadable(node.id)
        return found
    raise Unreadable(ast.unparse(node))


def _is_record_call(call: ast.Call, record_names: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr == "record" and ast.unparse(func.value).endswith("audit")
    return isinstance(func, ast.Name) and func.id in record_names


def written_actions() -> tuple[dict[str, list[str]], list[str]]:
    """action -> where it is written ("app/x.py:12"), and the calls whose action could not
    be read."""
    actions: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # `from app.accounts.audit import record [as name]`
        record_names = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "app.accounts.audit"
            for alias in node.names
            if alias.name == "record"
        }
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not _is_record_call(call, record_names):
                continue
            where = f"{path.relative_to(APP.parent)}:{call.lineno}"
            argument = call.args[1] if len(call.args) > 1 else None
            for keyword in call.keywords:
                if keyword.arg == "action":
                    argument = keyword.value
            if argument is None:
                unreadable.append(where)
                continue
            containing = [
                f for f in functions if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)
            ]
            scope = max(containing, key=lambda f: f.lineno) if containing else tree
            try:
                for action in _values(argument, scope):
                    actions.setdefault(action, []).append(where)
            except Unreadable:
                unreadable.append(where)
    return actions, unreadable


def test_the_scan_finds_the_actions_written_in_the_code():
    actions, _ = written_actions()
    # Literals, a choice between literals, a name set in a tuple, an f-string with a choice.
    for action in (
        "enrollment.create",
        "attendance.unmark",
        "batch.update",
        "quiz.activate",
        "session.cancel",
    ):
        assert action in actions, action


def test_every_action_written_anywhere_has_a_chinese_name():
    actions, unreadable = written_actions()
    assert unreadable == [], (
        "the action of these audit records cannot be read from the source; "
        f"write it as a literal: {unreadable}"
    )
    missing = {a: w for a, w in actions.items() if a not in ACTIONS}
    assert missing == {}, f"actions without a Chinese name in app/accounts/audit.py: {missing}"
    for action in actions:
        assert ACTION_FORM.fullmatch(action), action
    for action, name in ACTIONS.items():
        assert re.search(r"[\u4e00-\u9fff]", name), f"{action}: {name!r} is not Chinese"
        assert ACTION_FORM.fullmatch(action), action
    assert len(set(ACTIONS.values())) == len(ACTIONS), "two kinds share a name"


async def test_the_log_shows_chinese_names_and_filters_by_each_kind(client, people):
    for action, summary in (
        ("enrollment.create", "为“集中轮训”报名 3 人"),
        ("enrollment.withdraw", "取消 1 人的报名"),
        ("session.cancel", "取消面授课程 第一讲"),
        ("session.cancel", "取消面授课程 第二讲"),
    ):
        await AuditEvent(actor=people["admin"].id, action=action, summary=summary).save()
    await login(client, "admin")
    page = await client.get("/audit")
    assert page.status_code == 200
    assert "enrollment.create" not in page.text.replace('value="enrollment.create"', "")
    assert "报名" in page.text and "取消面授课程" in page.text
    # The select offers every kind by its Chinese name.
    for action, name in ACTIONS.items():
        assert f'<option value="{action}"' in page.text, action
        assert f">{name}</option>" in page.text, name

    filtered = await client.get("/audit", params={"action": "session.cancel"})
    assert filtered.status_code == 200
    rows = re.findall(r'<td data-label="内容">([^<]*)</td>', filtered.text)
    assert sorted(rows) == ["取消面授课程 第一讲", "取消面授课程 第二讲"]
    assert "共 2 条" in filtered.text
    assert '<option value="session.cancel" selected>' in filtered.text

    one = await client.get("/audit", params={"action": "enrollment.withdraw"})
    assert re.findall(r'<td data-label="内容">([^<]*)</td>', one.text) == ["取消 1 人的报名"]

    # A kind that does not exist filters nothing rather than emptying the log.
    unknown = await client.get("/audit", params={"action": "no.such"})
    assert unknown.status_code == 200
    assert "共 4 条" in unknown.text
