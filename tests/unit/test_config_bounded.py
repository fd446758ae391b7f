"""Hostile and broken config files are refused in one line, quickly: alias bombs, deep
nesting, bad UTF-8, oversized files and database URLs that cannot work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from domain.config import PROJECT_ROOT, ConfigError, load_settings
from domain.db import Database, check_database_url, safe_url
from domain.errors import DatabaseUnavailable

SHIPPED = PROJECT_ROOT / "config.yaml"
HINT = "hint: fix the lines above, then run `switchboard config check`"

#: Nine lists of nine aliases: a few hundred bytes that expand to 9**9 strings.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "config.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_settings(path, env=env or {})
    return exc.value.problems


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config", str(path), "config", "check"])
    out, err = capsys.readouterr()
    return code, out, err


def test_billion_laughs_is_refused_in_one_line_well_under_a_second(tmp_path: Path) -> None:
    path = write(tmp_path, BILLION_LAUGHS)
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_CONFIG"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        timeout=2 + 3,  # a hang fails here; the figure below is the real bound
        cwd=PROJECT_ROOT,
        env=env,
    )
    took = time.monotonic() - started
    assert took < 2, f"config check took {took:.1f} s"
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{path}:6:8: refused: aliases expand it past 100,000 values (an alias bomb?)",
        HINT,
    ]


def test_billion_laughs_through_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BILLION_LAUGHS)
    started = time.monotonic()
    code, out, err = check(path, capsys)
    assert time.monotonic() - started < 10  # the old loader hung past 60 s
    assert (code, out) == (1, "")
    assert err.splitlines()[0].startswith(f"{path}:6:8: refused: aliases expand it past")


def test_too_many_aliases_is_refused_even_when_each_is_small(tmp_path: Path) -> None:
    users = "".join(f"  u{i}: *base\n" for i in range(101))
    path = write(tmp_path, f"x: &base {{roles: [engineer]}}\nusers:\n{users}")
    assert problems(path) == [f"{path}:103:9: refused: more than 100 aliases (*name)"]


def test_a_few_anchors_and_merges_still_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "users:\n"
        "  alice: &engineer {roles: [engineer]}\n"
        "  bob: *engineer\n"
        "  carol: {<<: *engineer, display_name: Carol}\n",
    )
    users = load_settings(path, env={}).users
    assert users["bob"].roles == users["alice"].roles == users["carol"].roles
    assert users["carol"].display_name == "Carol"


@pytest.mark.parametrize(
    ("nest", "col"),
    [
        ("[" * 5000 + "]" * 5000, 28),  # flow lists
        ("{a: " * 5000 + "1" + "}" * 5000, 82),  # flow mappings
    ],
)
def test_deep_nesting_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nest: str, col: int
) -> None:
    path = write(tmp_path, f"server: {nest}\n")
    started = time.monotonic()
    code, out, err = check(path, capsys)
    # Refused at depth 20, not parsed to the end (the old loader ran past 60 s); how fast
    # is the benchmark's business, this only rules out a hang on a busy machine.
    assert time.monotonic() - started < 10
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:1:{col}: refused: nested more than 20 levels deep",
        HINT,
    ]


def test_nesting_a_real_config_uses_is_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "automation:\n  change_windows:\n    - days: [mon, tue]\n"
        "      start: '01:00'\n      end: '03:00'\n",
    )
    assert load_settings(path, env={}).automation.change_windows[0].days == ("mon", "tue")


def test_bad_utf8_names_the_file_line_and_byte_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, b"server:\n  port: 3000\n# caf\xe9 \xff\n")
    code, out, err = check(path, capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:3: not UTF-8: byte 0xe9 at offset 26; save the file as UTF-8",
        HINT,
    ]


def test_an_oversized_file_is_not_read_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "# " + "x" * 2_000_000 + "\n")
    assert problems(path) == [f"{path}: larger than 1,048,576 bytes; that is not a config file"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("garbage", "is not a database URL"),
        ("mysql://sb@127.0.0.1/sb", "unsupported database 'mysql'"),
        ("postgresql+nosuch://127.0.0.1/sb", "unknown driver 'postgresql+nosuch'"),
        (
            "postgresql+psycopg2://127.0.0.1/sb",
            "the driver of 'postgresql+psycopg2' is not installed",
        ),
        ("postgresql://sb:hunter2@127.0.0.1:notaport/sb", "its port is not a number"),
        ("  ", "is empty"),
    ],
)
def test_a_bad_database_url_is_one_line_naming_the_setting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    reason: str,
) -> None:
    use = "use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
    # From the environment: the line names the key and the variable.
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    code, out, err = check(SHIPPED, capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{SHIPPED}: database.url (from SWITCHBOARD_DATABASE_URL): {reason}; {use}",
        HINT,
    ]
    assert "hunter2" not in err
    # Written in the file: the line names the key.
    path = write(tmp_path, f"database:\n  url: '{url}'\n")
    code, out, err = check(path, capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"{path}: database.url: {reason}; {use}", HINT]
    assert "hunter2" not in err


def test_a_bad_database_url_given_to_a_command_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+nosuch://sb:hunter2@127.0.0.1/sb"
    code = main(["--config", str(SHIPPED), "billing", "rate", "--database", url])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: database URL postgresql+nosuch://sb:***@127.0.0.1/sb: unknown driver "
        "'postgresql+nosuch'; use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db",
        "hint: check database.url in config.yaml (or SWITCHBOARD_DATABASE_URL)",
    ]


def test_opening_a_database_checks_its_url_first() -> None:
    with pytest.raises(DatabaseUnavailable, match="unsupported database 'mysql'"):
        Database("mysql://sb@127.0.0.1/sb")
    with pytest.raises(DatabaseUnavailable, match="its port is not a number"):
        Database("postgresql://sb:hunter2@127.0.0.1:x/sb")


def test_good_urls_pass_and_passwords_stay_hidden_even_when_unparsable() -> None:
    assert check_database_url("sqlite:///var/x.db").get_backend_name() == "sqlite"
    assert check_database_url("postgresql://sb@127.0.0.1/sb").drivername == "postgresql+psycopg"
    assert safe_url("postgresql://sb:hunter2@127.0.0.1:x/sb") == (
        "postgresql://sb:***@127.0.0.1:x/sb"
    )
