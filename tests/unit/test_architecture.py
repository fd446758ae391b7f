"""Imports flow one way: bot -> skills -> {automation, models} -> domain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layers_contract_holds() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


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
