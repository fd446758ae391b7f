"""Audit keys: the HMAC keys that seal audit events, kept outside the database.

A key comes from the environment variable SWITCHBOARD_AUDIT_KEY (hex, 32 bytes or more;
several comma-separated, the last seals) or from the key file (`audit.key_file`, one
`<id> <hex key>` per line, newest last, mode 0600). Every key verifies; the newest seals.
A key's id is derived from the key itself, so a row records which key sealed it and the
database holds nothing that helps forge a seal.

With neither, the first event written creates the key file (with one warning), so a
fresh machine, `make demo` and tests work; production runs `switchboard audit init`
and keeps the file out of database backups.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.config import (
    AuditSettings,
    ConfigError,
    Settings,
    default_config_path,
    load_settings,
)
from domain.errors import DomainError

log = logging.getLogger(__name__)

KEY_ENV = "SWITCHBOARD_AUDIT_KEY"
_KEY_BYTES = 32
_HEADER = (
    "# Switchboard audit keys: one '<id> <hex key>' per line, newest last.\n"
    "# The newest seals new audit events; every key here verifies the events it sealed.\n"
    "# Keep this file out of database backups: whoever holds both can rewrite the trail.\n"
)


class AuditKeyError(DomainError):
    """The audit key is missing, malformed or cannot be written."""


def key_id(secret: bytes) -> str:
    """A key's public name: 12 hex digits of an HMAC of a fixed label (reveals nothing)."""
    return hmac.new(secret, b"switchboard audit key id", hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes = b""

    def mac(self, message: bytes) -> str:
        """HMAC-SHA256 of `message` with this key, as hex."""
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never print the secret
        return f"AuditKey({self.id!r})"


@dataclass(frozen=True)
class Keyring:
    """Every audit key that verifies, oldest first; the last one seals."""

    keys: tuple[AuditKey, ...]
    #: Where the keys came from, for messages: the variable's name or the file's path.
    source: str

    @property
    def sealing(self) -> AuditKey:
        return self.keys[-1]

    def get(self, kid: str) -> AuditKey | None:
        return next((k for k in self.keys if k.id == kid), None)


@dataclass(frozen=True)
class KeySource:
    """Where this process finds its audit keys."""

    key_file: Path
    env: Mapping[str, str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> KeySource:
        return cls(settings.resolve_path(settings.audit.key_file), env)

    def environ(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env


def _parse_hex(text: str, where: str) -> bytes:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise AuditKeyError(
            f"{where}: an audit key must be hex digits",
            "make one with `switchboard audit init` (or python -c 'import secrets; "
            "print(secrets.token_hex(32))')",
        ) from None
    if len(secret) < _KEY_BYTES:
        raise AuditKeyError(
            f"{where}: an audit key needs at least {_KEY_BYTES} bytes ({2 * _KEY_BYTES} hex "
            f"digits), this one has {len(secret)}",
            "make one with `switchboard audit init`",
        )
    return secret


def read_key_file(path: Path) -> tuple[AuditKey, ...]:
    """The keys in a key file, oldest first; AuditKeyError names a bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditKeyError(
            f"cannot read the audit key file {path} ({exc.strerror})",
            "check its owner and mode (0600, readable by the service user)",
        ) from None
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kid, _, hexkey = line.partition(" ")
        secret = _parse_hex(hexkey, f"{path}:{number}")
        if key_id(secret) != kid:
            raise AuditKeyError(
                f"{path}:{number}: key id {kid} does not match its key (the line was edited)",
                "restore the key file from where you keep its copy",
            )
        keys.append(AuditKey(kid, secret))
    if not keys:
        raise AuditKeyError(
            f"the audit key file {path} holds no key",
            "restore it, or on a new installation remove it and run `switchboard audit init`",
        )
    return tuple(keys)


def load_keyring(source: KeySource) -> Keyring | None:
    """The keys from the environment variable, else the key file; None when neither is."""
    env_value = source.environ().get(KEY_ENV, "").strip()
    file_keys: tuple[AuditKey, ...] = ()
    if source.key_file.exists():
        file_keys = read_key_file(source.key_file)
    if env_value:
        env_keys = []
        for part in env_value.split(","):
            secret = _parse_hex(part, KEY_ENV)
            env_keys.append(AuditKey(key_id(secret), secret))
        # Keys only in the file still verify the rows they sealed; the variable's last seals.
        extra = tuple(k for k in file_keys if k.id not in {e.id for e in env_keys})
        return Keyring((*extra, *env_keys), KEY_ENV)
    if file_keys:
        return Keyring(file_keys, str(source.key_file))
    return None


def _write_new(path: Path, text: str) -> bool:
    """Create `path` holding `text` (mode 0600) atomically; False if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # fails if another process created it first
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def new_key() -> AuditKey:
    secret = secrets.token_bytes(_KEY_BYTES)
    return AuditKey(key_id(secret), secret)


def init_key_file(path: Path) -> AuditKey:
    """`switchboard audit init`: a new key file with one key; refuses to overwrite one."""
    key = new_key()
    if path.exists() or not _write_new(path, f"{_HEADER}{key.id} {key.secret.hex()}\n"):
        raise AuditKeyError(
            f"the audit key file {path} already exists; it is not overwritten",
            "its keys verify the events they sealed; `switchboard audit rotate-key` adds one",
        )
    return key


def rotate_key_file(path: Path) -> AuditKey:
    """Add a new key to the key file; it seals from now on, the older ones still verify."""
    if not path.exists():
        raise AuditKeyError(
            f"there is no audit key file at {path} to rotate",
            "run `switchboard audit init` first",
        )
    read_key_file(path)  # a damaged file is refused, not appended to
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"{key.id} {key.secret.hex()}\n")
        f.flush()
        os.fsync(f.fileno())
    _cache.clear()
    return key


# -- the process's keyring -----------------------------------------------------------------

_lock = threading.RLock()
_source: KeySource | None = None
#: (key file, its mtime and size, the variable's value) -> keyring, so a rotation by
#: another process is seen at the next event without reading the file every time.
_cache: dict[tuple[object, ...], Keyring] = {}


def configure(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Use the keys `settings` name (the composition root calls this once)."""
    use_source(KeySource.from_settings(settings, env))


def use_source(source: KeySource | None) -> KeySource | None:
    """Seal and verify with the keys from `source` (None: the default); returns the last."""
    global _source
    with _lock:
        previous, _source = _source, source
        _cache.clear()
    return previous


#: Key sources read from the default config file (by its path), for processes whose
#: composition root did not call `configure`.
_defaults: dict[Path, KeySource] = {}


def current_source() -> KeySource:
    """The configured key source, else the one the default config file names."""
    if _source is not None:
        return _source
    path = default_config_path()
    found = _defaults.get(path)
    if found is None:
        try:
            found = KeySource.from_settings(load_settings(path))
        except ConfigError:  # the process reports its config; the default file still seals
            found = KeySource(path.parent / AuditSettings().key_file)
        _defaults[path] = found
    return found


def _stamp(source: KeySource) -> tuple[object, ...]:
    try:
        st = source.key_file.stat()
        seen: tuple[object, ...] = (st.st_mtime_ns, st.st_size)
    except OSError:
        seen = ()
    return (str(source.key_file), seen, source.environ().get(KEY_ENV, ""))


def keyring(source: KeySource | None = None) -> Keyring | None:
    """The keys that verify (no key is created here)."""
    source = source or current_source()
    stamp = _stamp(source)
    found = _cache.get(stamp)
    if found is None:
        found = load_keyring(source)
        if found is not None:
            with _lock:
                _cache.clear()
                _cache[stamp] = found
    return found


def sealing_keyring(source: KeySource | None = None) -> Keyring:
    """The keys, creating the key file (with one warning) when there is no key at all."""
    source = source or current_source()
    found = keyring(source)
    if found is not None:
        return found
    with _lock:
        key = new_key()
        if _write_new(source.key_file, f"{_HEADER}{key.id} {key.secret.hex()}\n"):
            log.warning(
                "no audit key: created %s to seal audit events; in production run "
                "`switchboard audit init` (or set %s) and keep the key out of database backups",
                source.key_file,
                KEY_ENV,
            )
    found = keyring(source)
    assert found is not None
    return found
