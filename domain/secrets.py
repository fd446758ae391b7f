"""Secrets kept out of what people read: device configuration, diffs, errors and values.

A secret goes to the device and nowhere else. What is shown (a plan, `/config show`,
`/config diff`, history, the audit) passes through here first:

- `mask_config(text)` masks the secrets inside IOS-style and Junos (`display set` or
  braces) configuration text, a unified diff of it (`+`/`-`/space, hier_config's
  indented `  + ` too), or a device's error that quotes a line, keeping the rest of
  each line readable: `snmp-server community ******** RO`.
- `is_secret_name(key)` says whether a value named `key` (`community=`, `auth_key=`,
  `password=`...) is a secret; the audit's redaction and the change views use it.
- `mask_values(values, secret)` is a change's values as they may be shown.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping

#: What a secret looks like once masked (the same width whatever its length).
MASK = "********"

#: Words that make a value's name a secret's (`community`, `auth_key`, `enable-password`).
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "key",
        "apikey",
        "psk",
        "community",
        "enable",
        "credential",
    }
)


def is_secret_name(name: str) -> bool:
    """True when a value called `name` is a secret; a misspelt secret word counts too."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    for word in words:
        word = word.removesuffix("s") if len(word) > 3 else word
        if word in SECRET_WORDS:
            return True
        # `comunity=`, `pasword=`: a typo must not keep the value in clear.
        if len(word) >= 5 and difflib.get_close_matches(word, SECRET_WORDS, n=1, cutoff=0.8):
            return True
    return False


def mask_values(values: Mapping[str, object], secret: Collection[str] = ()) -> dict[str, str]:
    """`values` as text, those named in `secret` or by a secret's name shown as MASK."""
    return {k: MASK if k in secret or is_secret_name(k) else str(v) for k, v in values.items()}


# -- configuration text ----------------------------------------------------------------------

# A value: quoted (Junos, kept quoted) or one word (without Junos's closing `;`).
_V = r'(?P<v>"(?:[^"\\\n]|\\.)*"|[^\s;"]+)'
_SP = r"[ \t]+"
_TYPE = rf"(?:[0-9]{_SP})"  # IOS's encryption type before a secret: 0, 5, 6, 7, 8, 9
_LEVEL = rf"(?:level{_SP}[0-9]+{_SP})"
#: Where a line starts: a diff's marker (`+`, `-`, space; hier_config indents it too),
#: or a refused line quoted in netmiko's "Invalid input detected at command: <line>".
_LINE = r"(?m)(?:^[ \t]*[-+]?[ \t]*|(?<=command: ))"
#: Not the end of a longer word (`message-digest-key`, `nopassword`).
_WORD = r"(?<![\w-])"

_PATTERNS = tuple(
    re.compile(p)
    for p in (
        # IOS `snmp-server community X RO`, Junos `set snmp community X authorization ...`
        rf"(?i)\bsnmp(?:-server)?{_SP}community{_SP}{_V}",
        # `snmp-server host 10.0.0.1 [traps|informs] [version 1|2c] X`
        rf"(?i)\bsnmp-server{_SP}host{_SP}\S+{_SP}(?:(?:traps|informs){_SP})?"
        rf"(?:version{_SP}(?:1|2c){_SP})?(?!version\b|traps\b|informs\b){_V}",
        # `snmp-server user U G v3 auth sha X priv aes 128 Y`
        rf"(?i)\bsnmp-server{_SP}user\b.*?{_SP}auth{_SP}\S+{_SP}{_V}",
        rf"(?i)\bsnmp-server{_SP}user\b.*?{_SP}priv{_SP}(?:aes{_SP}[0-9]+|\S+){_SP}{_V}",
        # Junos `community "x"` in braces; `community x {` / `community x;` on its own line
        rf'(?i){_WORD}community{_SP}(?P<v>"(?:[^"\\\n]|\\.)*")',
        rf"(?i){_LINE}community{_SP}(?P<v>[^\s;\"{{]+)(?=[ \t]*[{{;])",
        # `username U [privilege 15] secret|password [N] X`, `enable secret [level N] [N] X`,
        # `ppp chap password [N] X`, `password 7 X` under `line vty`; Junos `secret "x"`
        # (not the `=` of `password = x` in prose: domain/privacy.py masks its value)
        rf"(?i){_WORD}(?:secret|password){_SP}{_LEVEL}?{_TYPE}?(?!encryption\b)(?![=:](?:\s|$)){_V}",
        # `ip ospf message-digest-key 1 md5 [N] X`, `ntp authentication-key 1 md5 X`
        rf"(?i){_WORD}(?:message-digest|authentication)-key{_SP}[0-9]+{_SP}md5{_SP}{_TYPE}?{_V}",
        # `ip ospf authentication-key [N] X`, Junos `authentication-key "x"`
        rf"(?i){_WORD}authentication-key{_SP}(?![0-9]+{_SP}md5\b){_TYPE}?{_V}",
        # Junos `encrypted-password "x"`, `pre-shared-key ascii-text "x"`
        rf"(?i){_WORD}encrypted-password{_SP}{_V}",
        rf"(?i){_WORD}pre-shared-key{_SP}(?:(?:ascii-text|hexadecimal){_SP})?{_V}",
        # `key-string [N] X` (key chains)
        rf"(?i){_WORD}key-string{_SP}{_TYPE}?{_V}",
        # `key N X` (`tacacs-server key 7 X`, `server-private ... key 7 X`), Junos `key "x"`
        rf"(?i){_WORD}key{_SP}[0-9]{_SP}{_V}",
        rf'(?i){_WORD}key{_SP}(?P<v>"(?:[^"\\\n]|\\.)*")',
        # `tacacs-server key X`, `radius-server host ... key X`, `crypto isakmp key X address`
        rf"(?i)\b(?:tacacs|radius|isakmp)\S*\b[^\n]*?{_WORD}key{_SP}(?![0-9]{_SP}){_V}",
        # `key X` on its own line (`tacacs server T` / ` key X`); `key 1` of a chain is an id
        rf"(?i){_LINE}key{_SP}(?!chain\b)(?![0-9]+[ \t]*$)(?!{_TYPE}){_V}",
    )
)


def _masked(match: re.Match[str]) -> str:
    value = match.group("v")
    shown = f'"{MASK}"' if value.startswith('"') else MASK
    start, end = match.span("v")
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + shown + whole[end - offset :]


def mask_config(text: str) -> str:
    """Configuration text, a diff or a device's error with every secret in it masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(_masked, text)
    return text


def mask_lines(lines: Iterable[str]) -> list[str]:
    """`mask_config` line by line (a diff kept as a list of lines)."""
    return [mask_config(line) for line in lines]
