"""The console REPL, driven through its standard input like a person at a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from domain.config import PROJECT_ROOT


def test_console_session(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("switchboard")
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "SWITCHBOARD_CONFIG": str(PROJECT_ROOT / "config.yaml"),
        "COLUMNS": "160",
    }
    typed = "help\n/ops whoami\n/order approve O-1\n/order show\n\nexit\n"
    result = subprocess.run(
        [str(exe), "console", "--as", "carol"],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Switchboard console as carol (care_agent)" in out
    assert "/order show <order>" in out and "/order approve" not in out.split("whoami")[0]
    assert "You are Carol Dsouza" in out
    assert "/order approve needs the manager role; you have care_agent" in out
    assert "missing <order>" in out and "usage: /order show <order>" in out
    assert "Traceback" not in out + result.stderr
