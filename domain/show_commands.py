"""The grammar of read-only device commands: what `/device run` may send.

An allowlist entry (`devices.show_allowlist` in config.yaml) names a show command and the
arguments it takes:

    show version
    show interfaces [<interface>|status|description]
    show running-config [interface <interface>]
    show ip route [vrf <word>] [<address> [<mask>]|<prefix>]

Plain words are keywords. `<kind>` is a value checked by its kind (PLACEHOLDERS):
`<interface>` (GigabitEthernet0/0/1, Gi0/1, Ethernet1, ge-0/0/0.0, also written
`GigabitEthernet 0/0/1`), `<address>` (IPv4), `<prefix>` (IPv4/len), `<mask>` (a
contiguous IPv4 netmask), `<number>` and `<word>` (a name: letters, digits, `.`, `_`,
`-`, at most 64). `[a|b]` is optional, at most one of a or b; `{a|b}` is exactly one.
Every entry starts with `show` and a keyword; `file`, `redirect`, `tee` and `append`
cannot be keywords. A bad entry is a one-line config error (`check_entry`).

What someone types is tokenised and matched against every entry (`ShowGrammar.parse`):

- Keywords are matched without regard to case and may be abbreviated as on IOS, when
  the abbreviation fits one keyword at that point: `sh ip int br` is
  `show ip interface brief`; `sh in` (interfaces or inventory) is refused as ambiguous.
- At most one output modifier: `| include|exclude|begin|section <regex>` (also
  abbreviated: `| inc`, `| sec`). The regex is the rest of the line (as on IOS), at most
  MAX_PATTERN characters, must compile, and may not hold `|`: one modifier keeps a
  command meaning the same everywhere, where IOS reads everything after `include` as the
  regex and EOS or NX-OS read a second `|` as another pipe. Nor `?` (IOS answers it with
  help), quotes (each platform reads them differently) or the operators below.
- Refused, naming the word: anything outside printable ASCII (every line break of any
  kind: \\n, \\r, \\v, \\f, U+0085, U+2028, U+2029, ...; control and invisible
  characters), redirection (`>`, `>>`, `<`, `| redirect`, `| tee`, `| append`, `file`,
  `flash:`-style URLs), chaining (`;`, `&`, `&&`, `||`, backticks, `$(`), and any word the
  grammar does not know at that point, with a hint saying what is allowed there.

What reaches a device is the command rebuilt from the tokens (`ShowCommand.base`): full
lowercase keywords, checked values, single spaces; never the text as typed, and never
the modifier. The modifier runs here, on the output once its secrets are masked
(`ShowCommand.keep`, with IOS's meaning: `include`/`exclude` keep the lines the regex
finds or not, `begin` starts at the first line it finds, `section` keeps each line it
finds with the lines indented under it). So a regex only ever sees `********` where a
secret was, and cannot tell a right guess of one from a wrong one.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from domain.errors import PolicyViolation

#: The longest command accepted, modifier included.
MAX_COMMAND = 200
#: The longest regex after `| include` and the like.
MAX_PATTERN = 80
#: Most words in one command.
MAX_WORDS = 24
#: Longest stretch of typed text an error message repeats back.
SHOWN = 40

MODIFIERS = ("include", "exclude", "begin", "section")
#: Pipe commands that write the output somewhere (IOS, EOS, NX-OS).
WRITING_MODIFIERS = ("redirect", "tee", "append")
#: Words no entry may hold: they name or write files.
FORBIDDEN_KEYWORDS = frozenset({"file", *WRITING_MODIFIERS})
MODIFIER_HINT = "| include|exclude|begin|section <regex>"

CHAINING = ("&&", "||", ";", "&", "`", "$(")
REDIRECTION = (">>", ">", "<")
#: Operators, longest first so that `>>` is one token and `||` is not two pipes.
OPERATORS = ("&&", "||", ">>", "$(", "|", ";", "&", "`", ">", "<")
#: Line breaks in every form Python's str.splitlines() knows, named in refusals.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
#: Names unicodedata does not give.
CONTROL_NAMES = {
    "\0": "NUL",
    "\b": "BACKSPACE",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\v": "VERTICAL TAB",
    "\f": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x1c": "FILE SEPARATOR",
    "\x1d": "GROUP SEPARATOR",
    "\x1e": "RECORD SEPARATOR",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
#: What a regex may hold besides letters, digits and spaces.
PATTERN_PUNCTUATION = frozenset(".*+^$[](){}\\-_/,=@#%~!:")
#: A word that names a file system or a remote file: flash:, bootflash:x, tftp://...
_URL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:")


class CommandRefused(PolicyViolation):
    """A command the grammar does not allow; `word` is what was refused."""

    def __init__(self, word: str, message: str, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.word = word


@dataclass(frozen=True)
class ShowCommand:
    """A read-only command as it is sent: normalised words and at most one modifier."""

    words: tuple[str, ...]
    modifier: str | None = None
    pattern: str | None = None

    @property
    def base(self) -> str:
        """The command without its modifier: what is sent to the device."""
        return " ".join(self.words)

    def keep(self, text: str) -> str:
        """What the modifier leaves of a command's output (all of it when there is none)."""
        if self.modifier is None or self.pattern is None:
            return text
        return apply_modifier(text, self.modifier, self.pattern)

    def __str__(self) -> str:
        if self.modifier is None:
            return self.base
        return f"{self.base} | {self.modifier} {self.pattern}"


def apply_modifier(text: str, modifier: str, pattern: str) -> str:
    """`text` as `| modifier pattern` leaves it on IOS; the regex is searched in each line.

    `include` keeps the lines it finds, `exclude` the others, `begin` everything from
    the first line it finds; `section` keeps every line it finds together with the lines
    indented deeper under it (a top-level `router ospf 1` with its body, and on IOS also
    a matching line inside another section, with what is under that line).
    """
    regex = re.compile(pattern)
    lines = text.splitlines()
    if modifier == "include":
        kept = [x for x in lines if regex.search(x)]
    elif modifier == "exclude":
        kept = [x for x in lines if not regex.search(x)]
    elif modifier == "begin":
        start = next((i for i, x in enumerate(lines) if regex.search(x)), len(lines))
        kept = lines[start:]
    elif modifier == "section":
        kept = []
        under: int | None = None  # the indent of the line whose body is being kept
        for line in lines:
            indent = len(line) - len(line.lstrip(" \t")) if line.strip() else 0
            if under is not None and indent > under:
                kept.append(line)
                continue
            under = None
            if regex.search(line):
                kept.append(line)
                under = indent
    else:
        raise ValueError(f"{modifier!r} is not an output modifier: {', '.join(MODIFIERS)}")
    return "\n".join(kept)


# -- placeholders ------------------------------------------------------------------------------

_INTERFACE = re.compile(r"[A-Za-z][A-Za-z-]{0,40}[0-9]+(?:[/.][A-Za-z]{0,8}[0-9]+){0,6}")
_INTERFACE_TYPE = re.compile(r"[A-Za-z][A-Za-z-]{0,40}")
_INTERFACE_NUMBER = re.compile(r"[0-9]+(?:[/.][A-Za-z]{0,8}[0-9]+){0,6}")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NUMBER = re.compile(r"[0-9]{1,10}")


def _address(token: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(token))
    except ValueError:
        return None


def _prefix(token: str) -> str | None:
    if "/" not in token:
        return None
    address, _, length = token.partition("/")
    if _address(address) is None or not _NUMBER.fullmatch(length) or int(length) > 32:
        return None
    return f"{address}/{int(length)}"


def _mask(token: str) -> str | None:
    if _address(token) is None:
        return None
    try:
        ipaddress.IPv4Network(f"0.0.0.0/{token}")
    except ValueError:
        return None
    return token


def _matching(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    return lambda token: token if pattern.fullmatch(token) else None


@dataclass(frozen=True)
class Placeholder:
    """A kind of value an entry takes: how it is checked, and how a hint describes it."""

    name: str
    noun: str
    examples: str
    check: Callable[[str], str | None] = field(compare=False)

    @property
    def example(self) -> str:
        """One value of this kind, as a hint shows it (the first of `examples`)."""
        return re.split(r",? \(|, ", self.examples, maxsplit=1)[0]

    @property
    def short(self) -> str:
        """The kind with one example, for a list of what may come next."""
        return f"{self.noun} ({self.example})" if self.examples else self.noun

    def take(self, tokens: Sequence[str], i: int) -> tuple[str, int] | None:
        """The checked value at tokens[i] and how many tokens it used, or None."""
        value = self.check(tokens[i])
        if value is not None:
            return value, 1
        # `GigabitEthernet 0/0/1`, as IOS takes it, is GigabitEthernet0/0/1.
        if (
            self.name == "interface"
            and i + 1 < len(tokens)
            and _INTERFACE_TYPE.fullmatch(tokens[i])
            and _INTERFACE_NUMBER.fullmatch(tokens[i + 1])
        ):
            return tokens[i] + tokens[i + 1], 2
        return None


#: Value kinds, in the order they are tried where several fit at one point.
PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder(
            "interface",
            "an interface name",
            "Gi0/1, GigabitEthernet0/0/1, Ethernet1, ge-0/0/0.0",
            _matching(_INTERFACE),
        ),
        Placeholder("address", "an IPv4 address", "10.0.0.1", _address),
        Placeholder("prefix", "an IPv4 prefix", "10.0.0.0/24", _prefix),
        Placeholder("mask", "a netmask", "255.255.255.0", _mask),
        Placeholder("number", "a number", "100", _matching(_NUMBER)),
        Placeholder(
            "word", "a name", "MGMT (letters, digits, '.', '_', '-'; at most 64)", _matching(_WORD)
        ),
    )
}


# -- allowlist entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyword:
    word: str

    def __str__(self) -> str:
        return self.word


@dataclass(frozen=True)
class Slot:
    kind: str

    def __str__(self) -> str:
        return f"<{self.kind}>"


Element = Keyword | Slot

#: Most forms one entry may expand to (each optional part doubles them).
MAX_FORMS = 256
_ENTRY_TOKEN = re.compile(r"\s*(?:(<[^<>\s]*>)|([\[\]{}|])|([^\s\[\]{}|<>]+)|(\S))")
_KEYWORD = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def check_entry(entry: str) -> str:
    """An allowlist entry as written, or ValueError with one line saying what is wrong."""
    forms(entry)
    return entry


def forms(entry: str) -> list[tuple[Element, ...]]:
    """Every sequence of keywords and slots an entry allows."""
    tokens: list[str] = []
    pos = 0
    text = entry.strip()
    while pos < len(text):
        match = _ENTRY_TOKEN.match(text, pos)
        if match is None:  # only trailing spaces are left
            break
        if match.group(4):
            raise ValueError(f"{entry!r}: {match.group(4)!r} has no meaning in an entry")
        tokens.append(match.group(1) or match.group(2) or match.group(3).lower())
        pos = match.end()
    if not tokens:
        raise ValueError("an entry is empty")
    parser = _EntryParser(entry, tokens)
    forms = parser.sequence(top=True)
    if parser.pos < len(tokens):
        raise ValueError(f"{entry!r}: {tokens[parser.pos]!r} closes nothing")
    for form in forms:
        if not form or form[0] != Keyword("show"):
            raise ValueError(f"{entry!r}: an entry starts with the word show")
        if len(form) < 2 or not isinstance(form[1], Keyword):
            raise ValueError(f"{entry!r}: after show comes a keyword (show version), not a value")
    return forms


class _EntryParser:
    """seq := item*; item := keyword | <kind> | [alts] | {alts}; alts := seq (| seq)*"""

    def __init__(self, entry: str, tokens: list[str]) -> None:
        self.entry = entry
        self.tokens = tokens
        self.pos = 0

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"{self.entry!r}: {problem}")

    def sequence(self, top: bool = False) -> list[tuple[Element, ...]]:
        forms: list[tuple[Element, ...]] = [()]
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token in ("]", "}", "|"):
                if top:
                    raise self.fail(f"{token!r} outside brackets")
                break
            self.pos += 1
            if token in ("[", "{"):
                options = self.alternatives(token)
                item = [(), *options] if token == "[" else options
            elif token.startswith("<"):
                kind = token[1:-1]
                if kind not in PLACEHOLDERS:
                    known = ", ".join(f"<{k}>" for k in PLACEHOLDERS)
                    raise self.fail(f"unknown placeholder {token} (known: {known})")
                item = [(Slot(kind),)]
            else:
                if not _KEYWORD.fullmatch(token):
                    raise self.fail(f"{token!r} is not a keyword (letters, digits, '-', '.', '_')")
                if token in FORBIDDEN_KEYWORDS:
                    raise self.fail(f"{token!r} names or writes a file; it cannot be allowed")
                item = [(Keyword(token),)]
            forms = [f + tail for f in forms for tail in item]
            if len(forms) > MAX_FORMS:
                raise self.fail(f"more than {MAX_FORMS} forms; split it into several entries")
        return forms

    def alternatives(self, opening: str) -> list[tuple[Element, ...]]:
        closing = "]" if opening == "[" else "}"
        options: list[tuple[Element, ...]] = []
        while True:
            branch = self.sequence()
            if branch == [()]:
                raise self.fail(f"an empty choice inside {opening}{closing}")
            options.extend(branch)
            if self.pos >= len(self.tokens):
                raise self.fail(f"{opening} is never closed")
            token = self.tokens[self.pos]
            self.pos += 1
            if token == "|":
                continue
            if token != closing:
                raise self.fail(f"{opening} is closed by {token}")
            return options


# -- the grammar -------------------------------------------------------------------------------


@dataclass
class _Node:
    keywords: dict[str, _Node] = field(default_factory=dict)
    slots: dict[str, _Node] = field(default_factory=dict)
    end: bool = False

    def expected(self) -> list[str]:
        """What may come next, as a hint lists it."""
        return [*self.keywords, *(PLACEHOLDERS[k].short for k in self.slots)]


@dataclass
class _Miss:
    """The furthest point a match reached: where it stopped and what would have fitted."""

    at: int = -1
    matched: tuple[str, ...] = ()
    nodes: list[_Node] = field(default_factory=list)
    ambiguous: tuple[str, ...] = ()

    def note(
        self, at: int, matched: tuple[str, ...], node: _Node, ambiguous: Sequence[str] = ()
    ) -> None:
        if at > self.at:
            self.at, self.matched, self.nodes, self.ambiguous = at, matched, [], ()
        if at == self.at:
            self.nodes.append(node)
            self.ambiguous = self.ambiguous or tuple(ambiguous)


class ShowGrammar:
    """Allowlist entries compiled into one tree of keywords and value slots."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(" ".join(e.split()) for e in entries)
        self._root = _Node()
        for entry in self.entries:
            for form in forms(entry):
                node = self._root
                for element in form:
                    branch = node.keywords if isinstance(element, Keyword) else node.slots
                    key = element.word if isinstance(element, Keyword) else element.kind
                    node = branch.setdefault(key, _Node())
                node.end = True

    def parse(self, text: str) -> ShowCommand:
        """The command as it may be sent, or CommandRefused naming the refused word."""
        _check_characters(text)
        if len(text) > MAX_COMMAND:
            raise CommandRefused(
                text,
                f"the command is {len(text)} characters; the limit is {MAX_COMMAND}",
                f"narrow it down, e.g. {MODIFIER_HINT}",
            )
        tokens = _tokens(text)
        _check_operators(tokens)
        pipes = [i for i, t in enumerate(tokens) if t == "|"]
        for i in pipes:
            _check_not_writing(tokens[i + 1 : i + 2])
        if len(pipes) > 1:
            raise CommandRefused(
                "|",
                "a second '|' is not allowed: one output modifier per command",
                f"use one: {MODIFIER_HINT} (the regex may not hold '|')",
            )
        words = tokens[: pipes[0]] if pipes else tokens
        if len(words) > MAX_WORDS:
            raise CommandRefused(
                words[MAX_WORDS],
                f"{_shown(words[MAX_WORDS])!r} is one word too many: at most {MAX_WORDS}",
                self._allowed_hint(()),
            )
        for word in words:
            if word.lower() == "file" or _URL.match(word):
                raise CommandRefused(
                    word,
                    f"{_shown(word)!r} names a file or file system: /device run only reads",
                    self._allowed_hint(()),
                )
        normalised = self._match(words)
        if not pipes:
            return ShowCommand(normalised)
        modifier, pattern = _modifier(tokens[pipes[0] + 1 :], " ".join(normalised))
        return ShowCommand(normalised, modifier, pattern)

    def first_words(self) -> tuple[str, ...]:
        """The keywords a command may start with (show)."""
        return tuple(self._root.keywords)

    # -- matching ------------------------------------------------------------------------------

    def _match(self, words: list[str]) -> tuple[str, ...]:
        miss = _Miss()
        found = self._walk(self._root, words, 0, (), miss)
        if found is not None:
            return found
        matched = " ".join(miss.matched)
        after = f" after {matched!r}" if matched else ""
        if miss.at >= len(words):
            raise CommandRefused(
                matched,
                f"{matched!r} is incomplete",
                self._allowed_hint(miss.matched, miss.nodes),
            )
        word = words[miss.at]
        if miss.ambiguous:
            options = ", ".join(miss.ambiguous)
            raise CommandRefused(
                word,
                f"{_shown(word)!r}{after} is ambiguous: {options}",
                "type more of the word: "
                + " or ".join(" ".join((*miss.matched, w)) for w in miss.ambiguous),
            )
        keywords = {k for n in miss.nodes for k in n.keywords}
        slots = {k for n in miss.nodes for k in n.slots}
        if not keywords and len(slots) == 1:
            place = PLACEHOLDERS[slots.pop()]
            raise CommandRefused(
                word,
                f"{_shown(word)!r} is not {place.noun}{after}",
                f"write {place.noun}, e.g. {place.examples}",
            )
        if not miss.matched:
            message = f"{_shown(word)!r} is not a read-only command /device run allows"
        else:
            message = f"{_shown(word)!r} is not allowed{after}"
        raise CommandRefused(word, message, self._allowed_hint(miss.matched, miss.nodes))

    def _walk(
        self, node: _Node, words: list[str], i: int, out: tuple[str, ...], miss: _Miss
    ) -> tuple[str, ...] | None:
        if i == len(words):
            if node.end:
                return out
            miss.note(i, out, node)
            return None
        token = words[i]
        lowered = token.lower()
        if lowered in node.keywords:
            found = self._walk(node.keywords[lowered], words, i + 1, (*out, lowered), miss)
            if found is not None:
                return found
        for kind, child in node.slots.items():
            taken = PLACEHOLDERS[kind].take(words, i)
            if taken is not None:
                value, used = taken
                found = self._walk(child, words, i + used, (*out, value), miss)
                if found is not None:
                    return found
        if lowered not in node.keywords:
            fits = [k for k in node.keywords if k.startswith(lowered)]
            if len(fits) == 1:
                found = self._walk(node.keywords[fits[0]], words, i + 1, (*out, fits[0]), miss)
                if found is not None:
                    return found
            elif len(fits) > 1:
                miss.note(i, out, node, ambiguous=fits)
                return None
        miss.note(i, out, node)
        return None

    def _allowed_hint(self, matched: tuple[str, ...], nodes: Sequence[_Node] = ()) -> str:
        if len(matched) <= 1:
            return "allowed: " + ", ".join(self.entries)
        expected: list[str] = []
        for node in nodes:
            expected.extend(e for e in node.expected() if e not in expected)
        if any(n.end for n in nodes):
            expected += [MODIFIER_HINT, "nothing more"]
        listed = ", ".join(expected[:-1]) + " or " + expected[-1] if expected[1:] else expected[0]
        return f"after {' '.join(matched)!r} comes {listed}"


@functools.lru_cache(maxsize=8)
def grammar(entries: tuple[str, ...]) -> ShowGrammar:
    """The compiled grammar of an allowlist (compiled once per allowlist)."""
    return ShowGrammar(entries)


# -- tokens ------------------------------------------------------------------------------------


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _check_characters(text: str) -> None:
    for pos, char in enumerate(text):
        if char == " " or char == "\t" or (" " < char < "\x7f"):
            continue
        start = max(text.rfind(" ", 0, pos), text.rfind("\t", 0, pos)) + 1
        end = min(
            (e for e in (text.find(" ", pos), text.find("\t", pos)) if e >= 0), default=len(text)
        )
        word = ascii(text[start:end][:SHOWN])
        name = CONTROL_NAMES.get(char) or unicodedata.name(char, "a control character")
        code = f"U+{ord(char):04X} ({name})"
        if char in LINE_BREAKS:
            raise CommandRefused(
                text[start:end],
                f"{word} holds a line break, {code}: one command, one line",
                "put one read-only command on one line",
            )
        raise CommandRefused(
            text[start:end],
            f"{word} holds {code}: only printable ASCII reaches a device",
            "retype the command rather than pasting it",
        )


def _tokens(text: str) -> list[str]:
    """Words and operators: `show run|inc x>y` is show, run, |, inc, x, >, y."""
    tokens: list[str] = []
    word = ""
    pos = 0
    while pos < len(text):
        operator = next((op for op in OPERATORS if text.startswith(op, pos)), None)
        if operator is not None or text[pos] in " \t":
            if word:
                tokens.append(word)
                word = ""
            if operator is not None:
                tokens.append(operator)
                pos += len(operator)
                continue
        else:
            word += text[pos]
        pos += 1
    if word:
        tokens.append(word)
    return tokens


def _check_operators(tokens: list[str]) -> None:
    for token in tokens:
        if token in CHAINING:
            raise CommandRefused(
                token,
                f"{token!r} would run a second command: /device run sends one read-only command",
                "send one show command, optionally with " + MODIFIER_HINT,
            )
        if token in REDIRECTION:
            raise CommandRefused(
                token,
                f"{token!r} would send the output to a file: /device run only reads",
                "drop the redirection; the output comes back here",
            )


def _check_not_writing(after_pipe: list[str]) -> None:
    word = after_pipe[0].lower() if after_pipe else ""
    writes = any(w.startswith(word) for w in WRITING_MODIFIERS)
    if word and writes and not any(m.startswith(word) for m in MODIFIERS):
        raise CommandRefused(
            after_pipe[0],
            f"'| {after_pipe[0]}' would write the output to a file: /device run only reads",
            f"the modifiers allowed are {MODIFIER_HINT}",
        )


def _modifier(after_pipe: list[str], command: str) -> tuple[str, str]:
    if not after_pipe:
        raise CommandRefused("|", f"'|' after {command!r} needs a modifier", f"use {MODIFIER_HINT}")
    word, rest = after_pipe[0], after_pipe[1:]
    fits = [m for m in MODIFIERS if m.startswith(word.lower())]
    if len(fits) != 1:
        raise CommandRefused(
            word,
            f"'| {_shown(word)}' is not an allowed output modifier",
            f"use {MODIFIER_HINT}",
        )
    modifier = fits[0]
    pattern = " ".join(rest)
    if not pattern:
        raise CommandRefused(
            modifier, f"'| {modifier}' needs a regex", f"for example: {command} | {modifier} up"
        )
    if len(pattern) > MAX_PATTERN:
        raise CommandRefused(
            pattern,
            f"the regex after '| {modifier}' is {len(pattern)} characters; "
            f"the limit is {MAX_PATTERN}",
            "match a shorter, more telling part of the line",
        )
    for char in pattern:
        if not (char.isalnum() or char == " " or char in PATTERN_PUNCTUATION):
            why = {
                "?": "IOS answers '?' with help instead of running the command",
                '"': "each platform reads quotes differently",
                "'": "each platform reads quotes differently",
            }.get(char, "it is not used in device regexes")
            raise CommandRefused(
                char,
                f"{char!r} is not allowed in the regex after '| {modifier}': {why}",
                "use letters, digits, spaces and . * + ^ $ [ ] ( ) { } \\ - _ / , = @ # % ~ ! :",
            )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CommandRefused(
            pattern,
            f"{_shown(pattern)!r} after '| {modifier}' is not a valid regex ({exc})",
            f"for example: {command} | {modifier} ^interface",
        ) from None
    return modifier, pattern
