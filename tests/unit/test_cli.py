"""The command line: every contract command exists; bad input gets one clear line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from domain.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = [
    ["demo"],
    ["serve"],
    ["console"],
    ["chat"],
    ["seed"],
    ["db", "upgrade"],
    ["db", "current"],
    ["config", "check"],
    ["lab", "start"],
    ["lab", "stop"],
    ["lab", "status"],
    ["fraud", "train"],
    ["fraud", "evaluate"],
    ["fraud", "score"],
    ["billing", "rate"],
    ["billing", "run"],
    ["digest", "preview"],
    ["slack", "manifest"],
    ["bench"],
]


#: Libraries only some commands need; a chat command must start without them.
HEAVY = (
    "sklearn",
    "scipy",
    "polars",
    "matplotlib",
    "napalm",
    "nornir",
    "netmiko",
    "paramiko",
    "uvicorn",
    "starlette",
    "slack_bolt",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("words", CONTRACT, ids=" ".join)
def test_every_contract_command_has_help(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*words, "--help"])
    assert exc.value.code == 0
    assert "usage: switchboard" in capsys.readouterr().out


def test_digest_preview_prints_the_digest_and_writes_its_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "digest.db"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{db}")
    chart = tmp_path / "chart.png"
    code, out, err = run(
        capsys,
        "digest",
        "preview",
        "--name",
        "engineer-daily",
        "--out",
        str(chart),
    )
    assert code == 0, err
    assert "Engineer daily digest" in out and f"chart written to {chart}" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = tmp_path / "no-such-folder" / "c.png"
    code, _, err = run(
        capsys, "digest", "preview", "--name", "engineer-daily", "--out", str(missing)
    )
    assert code == 1 and err.startswith(f"error: cannot write {missing}")
    code, _, err = run(capsys, "digest", "preview", "--name", "nope")
    assert code == 1 and err.startswith("error: no digest 'nope'")


def test_a_payment_file_is_recorded_and_bad_lines_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "pay.db"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{db}")
    csv = tmp_path / "payments.csv"
    csv.write_text("reference,account,amount,received_at,method\nP1,BA000,10,2026-11-02,upi\n")
    code, out, err = run(capsys, "billing", "payments", str(csv))
    assert code == 1
    assert out == "" and "nothing of it was recorded" in err
    assert "row 2: no billing account 'BA000'" in err
    binary = tmp_path / "payments.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe")
    code, _, err = run(capsys, "billing", "payments", str(binary))
    assert code == 1 and err.startswith(f"error: {binary}: row 1, column 5 (field 1): not UTF-8")
    code, out, _ = run(capsys, "billing", "dunning", "--as-of", "2026-11-20")
    assert code == 0 and "0 account(s) moved on 2026-11-20" in out


def test_config_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--config", str(ROOT / "config.yaml"), "config", "check")
    assert code == 0
    assert out.startswith("OK: ")
    assert "alice, bob, carol, dave, erin, root" in out


def test_config_check_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("server:\n  port: lots\nslak: {}\n")
    code, out, err = run(capsys, "--config", str(bad), "config", "check")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert (
        lines[0] == f"{bad}: server.port: Input should be a valid integer, unable to parse "
        "string as an integer (got 'lots')"
    )
    assert lines[1] == f"{bad}: slak: unknown key"
    assert lines[2].startswith("hint: ")


def test_unknown_scale_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "seed", "--scale", "huge", "--database", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert code == 1
    assert err.splitlines() == ["error: unknown scale 'huge'", "hint: use one of: demo, large"]


def test_bad_arguments_are_one_line_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "seed", "--as-of", "yesterday")
    assert code == 1
    assert err.splitlines() == [
        "switchboard seed: argument --as-of: 'yesterday' is not a date (use YYYY-MM-DD)",
        "hint: see `switchboard seed --help`",
    ]
    code, _, err = run(capsys, "frobnicate")
    assert code == 1 and "invalid choice: 'frobnicate'" in err.splitlines()[0]


def test_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "db", "upgrade", "--database", "postgresql://nobody:secret@127.0.0.1:1/none"
    )
    assert code == 1
    first, hint = err.splitlines()
    assert first.startswith(
        "error: cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:1/none: "
    )
    assert "secret" not in err
    assert hint.startswith("hint: check database.url")


def test_db_upgrade_then_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    head = head_revision()
    code, out, _ = run(capsys, "db", "upgrade", "--database", url)
    assert code == 0 and f"upgraded from empty to {head}" in out
    code, out, _ = run(capsys, "db", "current", "--database", url)
    assert code == 0 and f"revision {head}, up to date" in out


def test_console_script_runs_with_a_broken_config_from_the_environment(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("database: [\n")
    exe = Path(sys.executable).with_name("switchboard")
    result = subprocess.run(
        [str(exe), "config", "check"],
        capture_output=True,
        text=True,
        env={"SWITCHBOARD_CONFIG": str(bad), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(f"{bad}:2:1: not valid YAML")
    assert "Traceback" not in result.stderr


def test_serve_without_slack_secrets_serves_the_rest_and_says_so(tmp_path: Path) -> None:
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"database:\n  url: sqlite:///{tmp_path / 's.db'}\n")
    exe = Path(sys.executable).with_name("switchboard")
    proc = subprocess.Popen(
        [str(exe), "--config", str(cfg), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SWITCHBOARD_AUDIT_KEY": "5a" * 32},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == (
            "Slack is not configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET unset): "
            f"serving webhooks, /healthz and /metrics only, on http://127.0.0.1:{port}\n"
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not answer /healthz")
        request = urllib.request.Request(url + "/slack/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 503
        assert refused.value.read() == (
            b"Slack is not configured on this server "
            b"(SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET unset)\n"
        )
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


def test_audit_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlalchemy as sa

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 'a.db'}\nusers:\n  zed: {{roles: [admin]}}\n"
    )
    for text in ("/ops whoami", "/ops help"):
        assert run(capsys, "--config", str(cfg), "chat", "--as", "zed", text)[0] == 0
    code, out, _ = run(capsys, "--config", str(cfg), "audit", "verify")
    assert code == 0
    assert out.startswith("OK: 2 audit events, the chain is intact (sealed with key "), out
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET outcome = 'refused' WHERE id = 1"))
    engine.dispose()
    code, _, err = run(capsys, "--config", str(cfg), "audit", "verify")
    assert code == 1
    assert err.splitlines()[0] == (
        "audit event 1 is broken: its contents do not match its seal (the row was changed)"
    )


def test_a_chat_command_starts_without_the_heavy_libraries(tmp_path: Path) -> None:
    """`switchboard chat` imports the CLI, the composition root and every skill module
    (each registers its commands): none may load a heavy library at import time, or every
    one-line command pays seconds for it. Loading counts, not timing, keep it so."""
    code = (
        "import sys\n"
        "import bot.cli, bot.bootstrap\n"
        "bot.bootstrap.load_skills()\n"
        "code = bot.cli.main(['chat', '--as', 'alice', '/ops whoami'])\n"
        "print('modules:', *sorted({m.split('.')[0] for m in sys.modules}))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "SWITCHBOARD_CONFIG": str(ROOT / "config.yaml"),
            "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
        },
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "You are Alice" in result.stdout
    loaded = set(result.stdout.splitlines()[-1].removeprefix("modules:").split())
    assert "skills" in loaded and "bot" in loaded
    assert sorted(loaded & set(HEAVY)) == [], "move these imports into the functions that use them"


def test_serve_with_several_processes_believes_no_forwarded_address_by_default(
    tmp_path: Path,
) -> None:
    """`server.processes: 2` starts uvicorn's workers itself: X-Forwarded-For from a local
    client must not pick a fresh alert rate-limit bucket per request there either."""
    import json as json_
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database:\n  url: sqlite:///{tmp_path / 's.db'}\n"
        "server:\n  processes: 2\n"
        "alerts:\n  token: t0ken-for-tests\n  rate_limit_per_minute: 1\n  rate_limit_burst: 1\n"
        "scheduler:\n  enabled: false\n"
    )
    exe = Path(sys.executable).with_name("switchboard")
    proc = subprocess.Popen(
        [str(exe), "--config", str(cfg), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SWITCHBOARD_AUDIT_KEY": "5a" * 32},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not answer /healthz")
        body = json_.dumps({"alerts": [{"name": "LinkDown"}]}).encode()
        answers = []
        for n in range(6):
            request = urllib.request.Request(
                url + "/alerts",
                data=body,
                method="POST",
                headers={
                    "Authorization": "Bearer t0ken-for-tests",
                    "Content-Type": "application/json",
                    "X-Forwarded-For": f"198.51.100.{n + 1}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as resp:
                    answers.append(resp.status)
            except urllib.error.HTTPError as refused:
                answers.append(refused.code)
        # One bucket for 127.0.0.1 in each of the two processes: at most two get through.
        assert answers.count(202) <= 2 and answers.count(429) >= 4, answers
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
