"""The skill registry: a decorator that records a command's metadata, nothing more.

    @command("order approve", args=OrderRef)
    def approve(ctx: Context, args: OrderRef) -> Reply:
        '''Approve a pending order; someone other than the requester must do it.'''

Who may run a command is not said here: it is the command's row in the policy table
(`domain/policy.py`), and a command the table does not name cannot be registered.

The docstring's first line is the help. Arguments come from the text (already split
by shlex) into a typed `Args` model: positional words fill the fields marked
`positional()` in order, `key=value` fills the field of that name, `--flag` sets a
bool field. Access is enforced by the router, never inside a command.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic import Field as PydanticField
from pydantic.fields import FieldInfo

from domain import policy
from domain.config import Role
from domain.db import INT_MAX, INT_MIN
from domain.words import a
from skills.context import Context
from skills.reply import Reply


class Args(BaseModel):
    """Base of every command's arguments."""

    # Built on first use: a process loads every skill but runs one command.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _fits_the_database(cls, value: Any) -> Any:
        """Every whole number a command takes (a page, a limit, a backup id) is one the
        database can hold; a larger one is refused here, once for every command."""
        for number in value if isinstance(value, list | tuple) else (value,):
            if isinstance(number, bool) or not isinstance(number, int):
                continue
            if not INT_MIN <= number <= INT_MAX:
                digits = len(str(abs(number)))
                written = str(number) if digits <= 24 else f"{a(str(digits))}-digit number"
                if number > INT_MAX:
                    raise ValueError(f"{written} is too large; at most {INT_MAX}")
                raise ValueError(f"{written} is too small; at least {INT_MIN}")
        return value


class NoArgs(Args):
    pass


def positional(default: Any = ..., *, metavar: str | None = None, description: str = "") -> Any:
    """A field filled by position; a list field takes all remaining words."""
    return PydanticField(
        default, description=description, json_schema_extra={"positional": True, "metavar": metavar}
    )


def key_values(description: str = "") -> Any:
    """A dict field that takes every key=value word no other field claims."""
    return PydanticField(
        default_factory=dict, description=description, json_schema_extra={"key_values": True}
    )


class ArgumentError(Exception):
    """The text does not fit the command's arguments."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, tuple)


def _is_bool(annotation: Any) -> bool:
    return annotation is bool


def _not_loaded(ctx: Context, args: Any) -> Reply:
    raise RuntimeError("a command from the index runs only after Registry.load()")


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    fn: Callable[[Context, Any], Reply]
    roles: frozenset[Role]
    args: type[Args]
    help: str
    description: str = ""
    #: The skill module that defines it.
    module: str = ""
    #: Usage as the index recorded it, for a command whose module is not loaded yet.
    usage_text: str = ""

    @property
    def loaded(self) -> bool:
        return self.fn is not _not_loaded

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def allows(self, roles: frozenset[Role]) -> bool:
        """Admins may run everything; anyone else needs one of the command's roles."""
        return policy.allowed(roles, self.roles)

    @property
    def slash(self) -> str:
        return "/" + self.path[0]

    def key_value_field(self) -> str | None:
        return next(
            (n for n, f in self.args.model_fields.items() if _extra(f).get("key_values")), None
        )

    def positionals(self) -> list[tuple[str, FieldInfo]]:
        return [(n, f) for n, f in self.args.model_fields.items() if _extra(f).get("positional")]

    @property
    def usage(self) -> str:
        if not self.loaded:
            return self.usage_text
        parts = ["/" + self.name]
        for name, info in self.args.model_fields.items():
            meta = _extra(info)
            label = meta.get("metavar") or name
            if meta.get("key_values"):
                parts.append("[key=value...]")
            elif meta.get("positional"):
                many = "..." if _is_list(info.annotation) else ""
                parts.append(f"<{label}>{many}" if info.is_required() else f"[<{label}>{many}]")
            elif _is_bool(info.annotation):
                parts.append(f"[--{name.replace('_', '-')}]")
            else:
                word = f"{name}={(meta.get('metavar') or name).upper()}"
                parts.append(word if info.is_required() else f"[{word}]")
        return " ".join(parts)

    def parse(self, words: Sequence[str]) -> Args:
        """Fill the argument model from the words after the command path."""
        fields = self.args.model_fields
        data: dict[str, Any] = {}
        # A single-valued positional may also be named (title=...), as a form's answers are.
        rest = []
        for word in words:
            key, eq, value = word.partition("=")
            info = fields.get(key) if eq else None
            if info and _extra(info).get("positional") and not _is_list(info.annotation):
                data[key] = value
            else:
                rest.append(word)
        slots = [(n, f) for n, f in self.positionals() if n not in data]
        i = 0
        for word in rest:
            if word.startswith("--") and len(word) > 2:
                name = word[2:].replace("-", "_")
                if name not in fields or not _is_bool(fields[name].annotation):
                    raise ArgumentError(f"unknown option {word}", self.usage)
                data[name] = True
                continue
            key, eq, value = word.partition("=")
            if (
                eq
                and key.isidentifier()
                and key in fields
                and not _extra(fields[key]).get("positional")
            ):
                data[key] = value
                continue
            extra = self.key_value_field()
            if eq and key.isidentifier() and key not in fields and extra is not None:
                data.setdefault(extra, {})[key] = value
                continue
            if eq and key.isidentifier() and key not in fields and not slots[i:]:
                raise ArgumentError(f"unknown argument {key}=", self.usage)
            if i >= len(slots):
                raise ArgumentError(f"unexpected {word!r}", self.usage)
            name, info = slots[i]
            if _is_list(info.annotation):
                data.setdefault(name, []).append(word)
            else:
                data[name] = word
                i += 1
        try:
            return self.args.model_validate(data)
        except ValidationError as exc:
            raise ArgumentError(_first_problem(exc, self), self.usage) from None


def _first_problem(exc: ValidationError, cmd: Command) -> str:
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else "arguments"
    info = cmd.args.model_fields.get(name)
    label = (_extra(info).get("metavar") if info else None) or name
    if err["type"] == "missing":
        return f"missing <{label}>"
    bound = err.get("ctx") or {}
    given = f"{label}={err.get('input')}"
    if err["type"] == "less_than_equal":
        return f"{given} is too large; at most {bound['le']}"
    if err["type"] == "less_than":
        return f"{given} is too large; it must be below {bound['lt']}"
    if err["type"] == "greater_than_equal":
        return f"{given} is too small; at least {bound['ge']}"
    if err["type"] == "greater_than":
        return f"{given} is too small; it must be above {bound['gt']}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{label}: {msg}"


class DuplicateCommand(Exception):
    pass


@dataclass
class Registry:
    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)

    def add(self, cmd: Command) -> None:
        if cmd.path in self.commands and self.commands[cmd.path].loaded:
            other = self.commands[cmd.path].fn
            raise DuplicateCommand(
                f"/{cmd.name} is registered twice: {other.__module__}.{other.__qualname__} "
                f"and {cmd.fn.__module__}.{cmd.fn.__qualname__}"
            )
        self.commands[cmd.path] = cmd

    def find(self, words: Sequence[str]) -> tuple[Command | None, int]:
        """The command with the longest path that starts `words`, and its length."""
        lowered = [w.lower() for w in words]
        for n in range(min(len(lowered), 4), 0, -1):
            cmd = self.commands.get(tuple(lowered[:n]))
            if cmd is not None:
                return cmd, n
        return None, 0

    def load(self, cmd: Command) -> Command:
        """The command with its function and arguments, importing its skill if needed."""
        if cmd.loaded:
            return cmd
        importlib.import_module(cmd.module)  # its decorators fill REGISTRY
        for source in (self, REGISTRY):
            loaded = source.commands.get(cmd.path)
            if loaded is not None and loaded.loaded:
                self.commands[cmd.path] = loaded
                return loaded
        raise LookupError(f"/{cmd.name} is not in {cmd.module} any more")

    def index(self) -> list[dict[str, Any]]:
        """What help, access and routing need of each command, without its module."""
        return [
            {
                "path": list(c.path),
                "module": c.module,
                "roles": sorted(c.roles),
                "help": c.help,
                "description": c.description,
                "usage": c.usage,
            }
            for c in self
        ]

    def add_indexed(self, entries: Iterable[dict[str, Any]]) -> None:
        """Commands from an index: found, listed and checked at once, loaded when run."""
        for e in entries:
            path = tuple(e["path"])
            if path in self.commands:
                continue
            self.commands[path] = Command(
                path=path,
                fn=_not_loaded,
                # From the policy table, never from the index: the index is a cache.
                roles=policy.command_roles(" ".join(path)),
                args=NoArgs,
                help=e["help"],
                description=e["description"],
                module=e["module"],
                usage_text=e["usage"],
            )

    def visible_to(self, roles: frozenset[Role]) -> list[Command]:
        return [c for c in self if c.allows(roles)]

    def under(self, word: str) -> list[Command]:
        return [c for p, c in sorted(self.commands.items()) if p[0] == word.lower()]

    def slash_commands(self) -> list[str]:
        return sorted({c.slash for c in self.commands.values()})

    def __iter__(self) -> typing.Iterator[Command]:
        return iter(sorted(self.commands.values(), key=lambda c: c.path))


#: The registry the decorator fills; bootstrap loads every skill module into it.
REGISTRY = Registry()

F = TypeVar("F", bound=Callable[..., Reply])


def command(path: str, *, args: type[Args] = NoArgs) -> Callable[[F], F]:
    """Register a skill command. Records metadata only; the function is unchanged.
    Its roles are its row in the policy table."""

    def register(fn: F) -> F:
        doc = inspect.getdoc(fn) or ""
        # The help is the docstring's first paragraph, however many lines it wraps over.
        first, _, rest = doc.partition("\n\n")
        help_line = " ".join(first.split())
        if not help_line:
            raise ValueError(f"{fn.__qualname__}: the docstring's first line is the help; add one")
        words = tuple(path.lower().split())
        REGISTRY.add(
            Command(
                path=words,
                fn=fn,
                roles=policy.command_roles(" ".join(words)),
                args=args,
                help=help_line.strip(),
                description=rest.strip(),
                module=fn.__module__,
            )
        )
        return fn

    return register
