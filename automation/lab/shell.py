"""The lab's CLI: FakeNOS's shell with a stateful IOS-style configuration mode.

Exec and enable modes answer show commands from the device itself (`automation.lab.show`:
show version, interfaces, running-config, ... from its inventory row and DeviceConfig),
and anything else from FakeNOS's platform commands; `configure terminal`, config lines,
`end`, `exit` and `write memory` act on the device's DeviceConfig.
EOS devices also have configuration sessions with a commit timer (`automation.lab.sessions`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fakenos.plugins.shell.cmd_shell import CMDShell

from automation.lab import sessions
from automation.lab.config import DeviceConfig
from automation.lab.show import Chassis, show_command

INVALID = "% Invalid input detected at '^' marker."


class LabShell(CMDShell):
    def __init__(
        self, *args: Any, device: DeviceConfig, chassis: Chassis | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.device = device
        self.chassis = chassis  # model, serial, ...: what show version says it is
        self.context: str | None = None  # the config section we are in
        self.in_config = False
        self.config_lines = 0
        self.session: str | None = None  # the EOS configuration session we are in
        self.dropped = threading.Event()

    # cmd.Cmd dispatches "show ..." to do_show when it exists; route everything here.
    def onecmd(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return False
        if self.in_config:
            return self._config(line)
        return self._exec(line)

    def _prompt(self, suffix: str) -> None:
        self.prompt = f"{self.base_prompt}{sessions.mode(self, suffix)}"

    def _exec(self, line: str) -> bool:
        enabled = self.prompt.endswith("#")
        words = line.lower()
        if words in ("exit", "logout", "quit"):
            return True
        answered = sessions.exec_command(self, line, enabled)
        if answered is not None:
            return answered
        if words in ("configure terminal", "conf t", "configure"):
            if not enabled:
                self.writeline(INVALID)
                return False
            self.in_config = True
            self.context = None
            self.config_lines = 0
            self.writeline("Enter configuration commands, one per line.  End with CNTL/Z.")
            self._prompt("(config)#")
            return False
        shown = show_command(line, self.device, self.chassis, enabled=enabled)
        if shown is not None:
            self.writeline(shown)
            return False
        if enabled and words in (
            "write memory",
            "write mem",
            "wr",
            "copy running-config startup-config",
        ):
            self.device.save()
            self.writeline("Building configuration...\n[OK]")
            return False
        return bool(self.default(line))

    def _config(self, line: str) -> bool:
        if self.session is not None:
            answered = sessions.session_command(self, line)
            if answered is not None:
                return answered
        lowered = line.lower()
        if lowered in ("end", "\x1a"):
            self.in_config = False
            self.context = None
            self._prompt("#")
            return False
        if lowered == "exit":
            if self.context is None:
                self.in_config = False
                self._prompt("#")
            else:
                self.context = None
                self._prompt("(config)#")
            return False
        if lowered.startswith("do "):
            return self._exec(line[3:])
        if lowered.startswith(("show ", "write", "copy ")):
            self.writeline(f"{line}\n{INVALID}")  # exec commands need `do` here, as on IOS
            return False
        faults = self.device.faults
        if faults.slow_line_s:
            time.sleep(faults.slow_line_s)  # a device slow to take its configuration
        self.config_lines += 1
        if faults.drop_after_lines is not None and self.config_lines > faults.drop_after_lines:
            if faults.drop_once:
                faults.drop_after_lines = None
            self.dropped.set()
            return True  # the session ends mid-change, as when a device reboots
        if (faults.reject is not None and faults.reject.search(line)) or not line.isprintable():
            self.writeline(f"{line}\n{INVALID}")
            return False
        context = sessions.editing(self).apply(line, self.context)
        if context != self.context:
            self.context = context
            self._prompt(
                "(config-if)#"
                if context and context.startswith("interface")
                else "(config-line)#"
                if context and context.startswith("line")
                else "(config-router)#"
                if context and context.startswith("router")
                else "(config)#"
                if context is None
                else "(config-sub)#"
            )
        return False
