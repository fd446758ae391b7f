"""Imports flow one way: bot -> skills -> {automation, models} -> domain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports() -> str:
    """The import-linter report on the contracts in pyproject.toml (exit 0 asserted)."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_layers_contract_holds() -> None:
    report = lint_imports()
    assert "3 kept, 0 broken" in report
    assert "Imports flow one way: bot -> skills -> {automation, models} -> domain KEPT" in report


def test_shipped_code_imports_nothing_from_tests() -> None:
    """Benchmarks and fakes live in tests/; `switchboard bench` finds them by path."""
    report = lint_imports()
    assert "bot, skills, automation, models, domain import nothing from tests KEPT" in report


def test_skills_and_the_bot_edge_leave_sqlalchemy_to_the_domain() -> None:
    """Queries and transactions are domain functions; skills and bot only call them."""
    report = lint_imports()
    assert "skills and bot import nothing from sqlalchemy KEPT" in report


def session_misuse(source: str, where: str = "") -> list[str]:
    """Where code opens a transaction, or does more with a read session than hand it on.

    A read session (`with ctx.db.read() as s:`) is the unit of work of a view: it is
    passed to domain queries, never used itself (no `s.get`, `s.execute`, `s.add`).
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "transaction"
        ):
            found.append(f"{where}:{node.lineno} opens a transaction")
        if not isinstance(node, ast.With):
            continue
        for item in node.items:
            call, name = item.context_expr, item.optional_vars
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "read"
                and isinstance(name, ast.Name)
            ):
                continue
            found.extend(
                f"{where}:{used.lineno} calls {name.id}.{used.attr} on a read session"
                for statement in node.body
                for used in ast.walk(statement)
                if isinstance(used, ast.Attribute)
                and isinstance(used.value, ast.Name)
                and used.value.id == name.id
            )
    return found


def test_skills_and_the_bot_leave_transactions_to_domain_use_cases() -> None:
    """Writes are use-cases that own their transaction (STYLE.md, the middle floor); a
    skill or the chat edge parses, calls and renders, and reads through domain queries."""
    found = [
        problem
        for package in ("skills", "bot")
        for path in sorted((ROOT / package).rglob("*.py"))
        for problem in session_misuse(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_session_check_sees_what_it_forbids() -> None:
    source = (
        "def ack(ctx):\n"
        "    with ctx.db.read() as s:\n"
        "        alarm = s.get_one(Alarm, 1)\n"
        "        view = alarm_view(s, 1)\n"
        "    with ctx.db.transaction() as s:\n"
        "        acknowledge_alarm(s, 'A-1', 'alice')\n"
    )
    assert sorted(session_misuse(source, "x.py")) == [
        "x.py:3 calls s.get_one on a read session",
        "x.py:5 opens a transaction",
    ]


def test_nothing_connects_at_import_time() -> None:
    code = (
        "import sqlalchemy.engine.create as c\n"
        "def boom(*a, **k): raise SystemExit('engine created at import')\n"
        "c.create_engine = boom\n"
        "import sqlalchemy; sqlalchemy.create_engine = boom\n"
        "import domain.schema, domain.demo.seed, bot.cli, bot.bench, bot.bootstrap\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
