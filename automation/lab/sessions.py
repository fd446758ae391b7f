"""EOS configuration sessions in the lab: edit a copy, commit it (with a timer), confirm or abort.

Exec mode (enabled):
    configure session NAME                   enter (or resume) session NAME: lines edit a copy
                                             of the running config, not the running config
    configure session NAME commit            commit it now, or confirm its pending commit timer
    configure session NAME commit timer T    commit now; it reverts by itself after T
                                             (hh:mm:ss) unless confirmed before
    configure session NAME abort             discard it, or revert its pending commit now
    show configuration sessions [detail]     the sessions and a pending commit timer
    show session-config named NAME diffs     what committing NAME would change
In a session: `commit`, `commit timer hh:mm:ss`, `abort`, `show session-config diffs`;
`end` (or `exit` at the top) leaves the session uncommitted, to come back to.

The revert is a timer thread on the device's `DeviceConfig`: it happens whether or not the
SSH session that committed is still there. One commit timer at a time, as on EOS.

`write memory` while a commit timer runs saves the running config as it is, pending change
included, and a timer that runs out reverts the running config only (our reading of EOS,
not checked on a switch). Switchboard's driver therefore saves only after it confirms.

Only platforms in `SESSION_PLATFORMS` have sessions; elsewhere the commands stay unknown.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from automation.lab.config import DeviceConfig

if TYPE_CHECKING:
    from automation.lab.shell import LabShell

SESSION_PLATFORMS = frozenset({"arista_eos"})

INVALID = "% Invalid input detected at '^' marker."

_CONFIGURE_SESSION = re.compile(
    r"^configure session (?P<name>\S+)(?: (?P<action>commit|abort)(?: timer (?P<timer>\S+))?)?$",
    re.I,
)
_COMMIT = re.compile(r"^commit(?: timer (?P<timer>\S+))?$", re.I)
_TIMER = re.compile(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$")


def supported(shell: LabShell) -> bool:
    return shell.nos.name in SESSION_PLATFORMS


def editing(shell: LabShell) -> DeviceConfig:
    """What config lines change: the session's copy inside a session, else the running config."""
    if shell.session is None:
        return shell.device
    return shell.device.sessions[shell.session]


def mode(shell: LabShell, suffix: str) -> str:
    """The prompt suffix, naming the session as EOS does: `(config-s-NAME-if)#`."""
    if shell.session is None or not suffix.startswith("(config"):
        return suffix
    return f"(config-s-{shell.session}{suffix.removeprefix('(config')}"


def exec_command(shell: LabShell, line: str, enabled: bool) -> bool | None:
    """Answer a session command typed in exec mode; None when the line is not one."""
    if not supported(shell):
        return None
    words = " ".join(line.split())
    lowered = words.lower()
    if lowered in ("show configuration sessions", "show configuration sessions detail"):
        return _answer(shell, enabled, _sessions_table(shell.device))
    diffs = re.fullmatch(r"show session-config named (\S+) diffs", words, re.I)
    if diffs:
        return _answer(shell, enabled, _diffs(shell.device, diffs.group(1)))
    match = _CONFIGURE_SESSION.match(words)
    if match is None:
        return None
    if not enabled:
        return _answer(shell, enabled, "")
    name, action = match.group("name"), (match.group("action") or "").lower()
    if not action:
        return _enter(shell, name)
    if action == "abort":
        if match.group("timer"):
            return _answer(shell, enabled, INVALID)
        return _answer(shell, enabled, _abort(shell.device, name))
    if name not in shell.device.sessions:
        pending = shell.device.pending
        if pending is not None and pending.session == name and not match.group("timer"):
            shell.device.confirm(name)
            return False
        return _answer(shell, enabled, f"% No session named {name} to commit")
    return _commit(shell, name, match.group("timer"))


def session_command(shell: LabShell, line: str) -> bool | None:
    """Answer a line typed inside a session; None when it is a config line for its copy."""
    name = shell.session
    assert name is not None
    if name not in shell.device.sessions:
        shell.writeline(f"% Session {name} was committed or aborted elsewhere")
        _leave(shell)
        return False
    words = " ".join(line.split())
    lowered = words.lower()
    if lowered in ("end", "\x1a") or (lowered == "exit" and shell.context is None):
        _leave(shell)  # the session stays, uncommitted
        return False
    if lowered == "abort":
        del shell.device.sessions[name]
        _leave(shell)
        return False
    if lowered == "show session-config diffs":
        shell.writeline(_diffs(shell.device, name))
        return False
    commit = _COMMIT.match(words)
    if commit:
        return _commit(shell, name, commit.group("timer"))
    return None


def _answer(shell: LabShell, enabled: bool, text: str) -> bool:
    shell.writeline(text if enabled else INVALID)
    return False


def _enter(shell: LabShell, name: str) -> bool:
    device = shell.device
    if device.pending is not None and device.pending.session == name:
        shell.writeline(f"% Session {name} has a commit timer pending; commit or abort it")
        return False
    with device.lock:
        if name not in device.sessions:
            device.sessions[name] = device.candidate()
    shell.in_config = True
    shell.context = None
    shell.config_lines = 0
    shell.session = name
    shell._prompt("(config)#")
    return False


def _leave(shell: LabShell) -> None:
    shell.in_config = False
    shell.context = None
    shell.session = None
    shell._prompt("#")


def _commit(shell: LabShell, name: str, timer: str | None) -> bool:
    device = shell.device
    seconds = None
    if timer is not None:
        seconds = _seconds(timer)
        if seconds is None:
            shell.writeline(INVALID)
            return False
    try:
        device.commit(device.sessions[name], name, seconds)
    except ValueError as exc:
        shell.writeline(f"% Cannot commit session {name}: {exc}")
        return False
    device.sessions.pop(name, None)
    _leave(shell)
    if device.faults.drop_after_commit:
        shell.dropped.set()
        return True  # the change cut the management session off
    return False


def _abort(device: DeviceConfig, name: str) -> str:
    if device.revert(name):
        return ""
    if device.sessions.pop(name, None) is not None:
        return ""
    return f"% No session named {name} to abort"


def _seconds(timer: str) -> float | None:
    match = _TIMER.match(timer)
    if match is None:
        return None
    h, m, s = (int(g) for g in match.groups())
    total = h * 3600 + m * 60 + s
    return float(total) if total else None


def _sessions_table(device: DeviceConfig) -> str:
    rows = [f"  {name:<24} pending" for name in device.sessions]
    pending = device.pending
    if pending is not None:
        left = int(pending.seconds_left)
        rows.append(
            f"  {pending.session:<24} pendingCommitTimer "
            f"(reverts in {left // 3600:02d}:{left // 60 % 60:02d}:{left % 60:02d})"
        )
    head = ["", f"  {'Name':<24} State", f"  {'-' * 24} {'-' * 40}"]
    return "\n".join(head + rows)


def _diffs(device: DeviceConfig, name: str) -> str:
    session = device.sessions.get(name)
    if session is None:
        return f"% No session named {name}"
    running = device.text().splitlines()
    candidate = session.text().splitlines()
    lines = difflib.unified_diff(
        running[4:],  # past "Building configuration" and the size line, which always differ
        candidate[4:],
        "system:/running-config",
        f"session:/{name}-session-config",
        lineterm="",
    )
    return "\n".join(lines)
