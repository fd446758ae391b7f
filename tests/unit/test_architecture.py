"""Imports flow one way: bot -> skills -> {automation, models} -> domain."""

from __future__ import annotations

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
