"""The read-only command grammar: what /device run accepts, rebuilds and refuses."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest

from domain.config import ConfigError, DeviceSettings, parse_settings
from domain.show_commands import (
    MAX_COMMAND,
    MAX_PATTERN,
    MAX_WORDS,
    MODIFIERS,
    CommandRefused,
    Keyword,
    ShowGrammar,
    check_entry,
    forms,
    grammar,
)

SHIPPED = DeviceSettings().show_allowlist
G = grammar(SHIPPED)

#: One good value per placeholder, and what it is sent as.
SAMPLES = {
    "interface": ("GigabitEthernet0/0/1", "GigabitEthernet0/0/1"),
    "address": ("10.0.0.1", "10.0.0.1"),
    "prefix": ("10.0.0.0/24", "10.0.0.0/24"),
    "mask": ("255.255.255.0", "255.255.255.0"),
    "number": ("100", "100"),
    "word": ("MGMT", "MGMT"),
}


def refused(text: str, grammar: ShowGrammar = G) -> CommandRefused:
    with pytest.raises(CommandRefused) as caught:
        grammar.parse(text)
    err = caught.value
    # One line each, whatever was typed: no line break from the input reaches a message.
    assert "\n" not in str(err) and "\n" not in err.hint and len(str(err).splitlines()) == 1
    assert err.hint
    return err


def every_form(entries: tuple[str, ...]) -> list[tuple[str, str]]:
    """(typed, sent) for every form of every entry, values filled in."""
    out = []
    for entry in entries:
        for form in forms(entry):
            typed = [e.word if isinstance(e, Keyword) else SAMPLES[e.kind][0] for e in form]
            sent = [e.word if isinstance(e, Keyword) else SAMPLES[e.kind][1] for e in form]
            out.append((" ".join(typed), " ".join(sent)))
    return out


# -- accepted ----------------------------------------------------------------------------------


def test_every_shipped_entry_is_accepted_with_and_without_its_arguments() -> None:
    cases = every_form(SHIPPED)
    # Each optional part doubles the forms: the shipped list has many more than entries.
    assert len(cases) > len(SHIPPED) + 10
    bare = {" ".join(e.split("[")[0].split()) for e in SHIPPED}
    assert bare <= {sent for _, sent in cases}  # every entry without its arguments
    for typed, sent in cases:
        assert str(G.parse(typed)) == sent, typed


def test_every_entry_takes_every_modifier_written_out_or_abbreviated() -> None:
    for (typed, sent), modifier in itertools.product(every_form(SHIPPED), MODIFIERS):
        for written in (modifier, modifier[:3], modifier[0]):
            command = G.parse(f"{typed} | {written} ^interface Gi.*up")
            assert str(command) == f"{sent} | {modifier} ^interface Gi.*up"
            assert command.base == sent


def test_keywords_may_be_abbreviated_and_any_case_and_spacing_is_rebuilt() -> None:
    assert str(G.parse("sh ver")) == "show version"
    assert str(G.parse("sh ip int br")) == "show ip interface brief"
    assert str(G.parse("SHOW\tRunning-Config  interface   Gi0/0/1")) == (
        "show running-config interface Gi0/0/1"
    )
    assert str(G.parse("sh run|inc hostname")) == "show running-config | include hostname"
    assert str(G.parse("show interfaces GigabitEthernet 0/0/1")) == (
        "show interfaces GigabitEthernet0/0/1"
    )
    assert str(G.parse("show ip route vrf MGMT 10.0.0.0 255.255.0.0")) == (
        "show ip route vrf MGMT 10.0.0.0 255.255.0.0"
    )
    # A regex keeps its characters; its spaces are rebuilt as single spaces.
    assert G.parse("show logging | include  %LINK-3-UPDOWN:  .*down$").pattern == (
        "%LINK-3-UPDOWN: .*down$"
    )
    for name in ("Gi0/1", "Ethernet1", "ge-0/0/0.0", "Port-channel10", "Bundle-Ether1.100"):
        assert G.parse(f"show interfaces {name}").words[-1] == name
    for name in ("MgmtEth0/RP0/CPU0/0", "TenGigabitEthernet0/1/0.200", "Vlan10", "lo0"):
        assert G.parse(f"show running-config interface {name}").words[-1] == name


def test_a_regex_at_the_limit_is_accepted() -> None:
    pattern = "a" * MAX_PATTERN
    assert G.parse(f"show version | include {pattern}").pattern == pattern


# -- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("show running-config > flash:pwn.cfg", ">"),
        ("show running-config >flash:pwn.cfg", ">"),
        ("show running-config>flash:pwn.cfg", ">"),
        ("show running-config >> flash:pwn.cfg", ">>"),
        ("show version < flash:in.txt", "<"),
        ("show running-config | redirect flash:pwn.cfg", "redirect"),
        ("show running-config | red flash:pwn.cfg", "red"),
        ("show running-config | tee flash:pwn.cfg", "tee"),
        ("show running-config | t flash:pwn.cfg", "t"),
        ("show running-config | append flash:pwn.cfg", "append"),
        ("show running-config | app flash:pwn.cfg", "app"),
        ("show running-config | include x | tee flash:pwn.cfg", "tee"),
        ("show running-config file", "file"),
        ("show running-config FILE flash:x", "FILE"),
        ("show running-config flash:pwn.cfg", "flash:pwn.cfg"),
        ("show interfaces bootflash:x", "bootflash:x"),
        ("show ip route vrf tftp://10.0.0.1/x", "tftp://10.0.0.1/x"),
        ("show running-config | include x > flash:pwn.cfg", ">"),
    ],
)
def test_redirection_in_every_form_is_refused_naming_it(text: str, word: str) -> None:
    err = refused(text)
    assert err.word == word
    assert repr(word) in str(err) or f"'| {word}'" in str(err)
    assert "file" in str(err) or "write" in str(err)


@pytest.mark.parametrize("operator", [";", "&&", "||", "&", "`", "$("])
@pytest.mark.parametrize(
    "template",
    [
        "show version{op}reload",
        "show version {op} reload",
        "show version{op} reload",
        "show version | include x{op}reload",
        "{op}show version",
    ],
)
def test_every_chaining_operator_is_refused_naming_it(operator: str, template: str) -> None:
    err = refused(template.format(op=operator))
    assert err.word == operator
    assert str(err).startswith(f"{operator!r} would run a second command")


def test_every_unicode_line_break_is_refused_as_one() -> None:
    breaks = [chr(c) for c in range(0x110000) if len(f"a{chr(c)}b".splitlines()) == 2]
    assert {"\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029"} <= set(breaks)
    for char in [*breaks, "\r\n"]:
        for text in (f"show version{char}reload", f"show version{char}", f"{char}show version"):
            err = refused(text)
            assert "line break" in str(err), repr(text)
            assert f"U+{ord(char[0]):04X}" in str(err)
    err = refused("show version\u2028reload")
    assert str(err) == (
        "'version\\u2028reload' holds a line break, U+2028 (LINE SEPARATOR): one command, one line"
    )


def test_control_invisible_and_non_ascii_characters_are_refused() -> None:
    controls = [chr(c) for c in range(0x20) if chr(c) != "\t"] + ["\x7f"]
    controls += [chr(c) for c in range(0x80, 0xA0)]
    for char in controls:
        assert "U+" in str(refused(f"show ver{char}sion")), repr(char)
    for char in ("\u200b", "\u202e", "\ufeff", "\u00a0", "\u3000", "\u0455", "\U0001f600"):
        err = refused(f"show ver{char}sion")
        assert unicodedata.name(char) in str(err) and "printable ASCII" in str(err)
    assert str(G.parse("show\tversion")) == "show version"  # a tab is only a space


@pytest.mark.parametrize(
    ("text", "word", "message"),
    [
        ("reload", "reload", "'reload' is not a read-only command /device run allows"),
        ("configure terminal", "configure", "'configure' is not a read-only command"),
        ("show reload", "reload", "'reload' is not allowed after 'show'"),
        ("show version detail", "detail", "'detail' is not allowed after 'show version'"),
        ("show tech-support", "tech-support", "'tech-support' is not allowed after 'show'"),
        ("show in", "in", "'in' after 'show' is ambiguous: inventory, interfaces"),
        ("show ip", "show ip", "'show ip' is incomplete"),
        ("show", "show", "'show' is incomplete"),
        ("show running-config interface", "show running-config interface", "incomplete"),
    ],
)
def test_unknown_and_unfinished_words_are_refused_naming_the_word(
    text: str, word: str, message: str
) -> None:
    err = refused(text)
    assert err.word == word and message in str(err)


def test_the_hint_says_what_is_allowed_at_that_point() -> None:
    assert refused("reload").hint.startswith("allowed: show version, show clock, ")
    assert refused("show ip route bogus").hint == (
        "after 'show ip route' comes vrf, an IPv4 address (10.0.0.1), an IPv4 prefix "
        "(10.0.0.0/24), | include|exclude|begin|section <regex> or nothing more"
    )
    assert refused("show ip").hint == "after 'show ip' comes interface, route or arp"
    assert refused("show in").hint == "type more of the word: show inventory or show interfaces"


@pytest.mark.parametrize(
    ("text", "word", "kind"),
    [
        ("show running-config interface foo", "foo", "an interface name"),
        ("show running-config interface Gi", "Gi", "an interface name"),
        ("show running-config interface 0/1", "0/1", "an interface name"),
        ("show running-config interface Gi0/1x", "Gi0/1x", "an interface name"),
        ("show running-config interface disk0:x1", "disk0:x1", None),
        ("show ip route vrf " + "v" * 65, "v" * 65, "a name"),
        ("show ip route vrf a/b", "a/b", "a name"),
        ("show ip route vrf -x", "-x", "a name"),
        ("show ip route 10.0.0.1 255.0.255.0", "255.0.255.0", "a netmask"),
        ("show ip route 10.0.0.1 10", "10", "a netmask"),
        ("show ip route 10.0.0.256", "10.0.0.256", None),
        ("show ip route 010.0.0.1", "010.0.0.1", None),
        ("show ip route 10.0.0.0/33", "10.0.0.0/33", None),
        ("show ip route 10.0.0/8", "10.0.0/8", None),
        ("show interfaces Gi0/1 Gi0/2", "Gi0/2", None),
    ],
)
def test_bad_values_are_refused_naming_them(text: str, word: str, kind: str | None) -> None:
    err = refused(text)
    assert err.word == word
    if kind is not None:
        assert str(err).startswith(repr(word[:10])[:-1]) and f"is not {kind}" in str(err)
        assert err.hint.startswith(f"write {kind}, e.g. ")


@pytest.mark.parametrize(
    ("text", "word", "message"),
    [
        ("show version | include " + "a" * (MAX_PATTERN + 1), "a" * 81, "is 81 characters"),
        ("show version | include (abc", "(abc", "is not a valid regex"),
        ("show version | include [a-", "[a-", "is not a valid regex"),
        ("show version | include", "include", "'| include' needs a regex"),
        ("show version | inc", "include", "'| include' needs a regex"),
        ("show version |", "|", "needs a modifier"),
        ("show version | count", "count", "'| count' is not an allowed output modifier"),
        ("show version | json", "json", "is not an allowed output modifier"),
        ("show version | include a|b", "|", "a second '|'"),
        ("show version | include a | exclude b", "|", "a second '|'"),
        ("show version | include a?", "?", "IOS answers '?' with help"),
        ('show version | include "a"', '"', "quotes"),
        ("show version | include 'a'", "'", "quotes"),
        ("show version | include a$(b)", "$(", "second command"),
    ],
)
def test_bad_modifiers_and_regexes_are_refused(text: str, word: str, message: str) -> None:
    err = refused(text)
    assert err.word == word and message in str(err)


def test_overlong_commands_are_refused() -> None:
    err = refused("show version | include " + "a" * MAX_COMMAND)
    assert str(err).startswith("the command is ") and f"limit is {MAX_COMMAND}" in str(err)
    assert "one word too many" in str(refused("show " + "x " * MAX_WORDS))


def test_what_is_refused_in_one_allowlist_is_what_the_grammar_does_not_know() -> None:
    small = ShowGrammar(["show version"])
    assert str(small.parse("sh v")) == "show version"
    assert refused("show interfaces", small).hint == "allowed: show version"


# -- allowlist entries: a bad one is one line of config error ----------------------------------


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("show ip route [<adress>]", "unknown placeholder <adress> (known: <interface>, "),
        ("show [version", "[ is never closed"),
        ("show version]", "']' outside brackets"),
        ("show {a|b]", "{ is closed by ]"),
        ("show [a|]", "an empty choice inside []"),
        ("show a|b", "'|' outside brackets"),
        ("ping 10.0.0.1", "an entry starts with the word show"),
        ("[show] version", "an entry starts with the word show"),
        ("show <word>", "after show comes a keyword"),
        ("show file systems", "'file' names or writes a file"),
        ("show run | tee", "'|' outside brackets"),
        ("show version > x", "'>' has no meaning in an entry"),
        ("show version; reload", "'version;' is not a keyword"),
        ("show ver$ion", "'ver$ion' is not a keyword"),
        ("show " + "[a|b] " * 9, "more than 256 forms"),
        ("   ", "an entry is empty"),
    ],
)
def test_a_bad_entry_is_a_one_line_config_error(entry: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_entry(entry)
    assert problem in str(caught.value)
    with pytest.raises(ConfigError) as config:
        parse_settings({"devices": {"show_allowlist": ["show version", entry]}}, Path("c.yaml"))
    assert len(config.value.problems) == 1
    line = config.value.problems[0]
    assert line.startswith("c.yaml: devices.show_allowlist: ") and problem in line
    assert "\n" not in line


def test_an_empty_allowlist_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as config:
        parse_settings({"devices": {"show_allowlist": []}}, Path("c.yaml"))
    assert config.value.problems == [
        "c.yaml: devices.show_allowlist: list at least one read-only command, e.g. show version"
    ]


def test_good_entries_load_and_take_effect() -> None:
    entries = ["show version", "show ip bgp summary", "show vlan {brief|id <number>}"]
    settings = parse_settings({"devices": {"show_allowlist": entries}}, Path("c.yaml"))
    mine = grammar(settings.devices.show_allowlist)
    assert str(mine.parse("sh vlan id 10")) == "show vlan id 10"
    assert "incomplete" in str(refused("show vlan", mine))
    assert str(mine.parse("sh ip bgp sum")) == "show ip bgp summary"


def test_a_hint_names_one_example_of_each_kind() -> None:
    assert refused("show ip route vrf").hint == "after 'show ip route vrf' comes a name (MGMT)"
    assert refused("show running-config interface").hint == (
        "after 'show running-config interface' comes an interface name (Gi0/1)"
    )


# -- the modifier runs on Switchboard's side, on masked output ---------------------------------

RUNNING = """\
hostname r1-mum
interface GigabitEthernet0/0/1
 description uplink to r2
 ip address 10.0.1.1 255.255.255.252
 ip ospf 1 area 0
!
router ospf 1
 router-id 10.0.0.1
 passive-interface default
snmp-server community ******** RO
line vty 0 4
 transport input ssh
end"""


def keep(modifier_and_pattern: str, text: str = RUNNING) -> list[str]:
    command = G.parse(f"show running-config | {modifier_and_pattern}")
    assert command.base == "show running-config"  # all that is sent
    return command.keep(text).splitlines()


def test_include_and_exclude_search_each_line() -> None:
    assert keep("include community") == ["snmp-server community ******** RO"]
    assert keep("include ospf [0-9]") == [" ip ospf 1 area 0", "router ospf 1"]
    assert keep("exclude ^\\s") == [
        "hostname r1-mum",
        "interface GigabitEthernet0/0/1",
        "!",
        "router ospf 1",
        "snmp-server community ******** RO",
        "line vty 0 4",
        "end",
    ]
    # Case counts, as on IOS.
    assert keep("include HOSTNAME") == []


def test_begin_starts_at_the_first_line_found() -> None:
    assert keep("begin ^router") == RUNNING.splitlines()[6:]
    assert keep("begin nothing-like-this") == []


def test_section_keeps_each_line_found_with_what_is_indented_under_it() -> None:
    assert keep("section ^interface") == RUNNING.splitlines()[1:5]
    assert keep("sec ^router ospf") == [
        "router ospf 1",
        " router-id 10.0.0.1",
        " passive-interface default",
    ]
    # A line inside another section is kept with what is under it, not its parent (IOS).
    assert keep("section ip ospf") == [" ip ospf 1 area 0"]
    assert keep("section vty") == ["line vty 0 4", " transport input ssh"]


def test_a_regex_sees_only_the_mask_so_a_guess_at_a_secret_tells_nothing() -> None:
    """The output is masked before the modifier runs: a right guess and a wrong one give
    the same answer, so a secret cannot be read a character at a time."""
    for guess in ("S", "S3", "S3c", "X", "Z9"):
        for modifier in MODIFIERS:
            assert keep(f"{modifier} community {guess}") == keep(f"{modifier} community Q"), guess
    assert keep("include community \\*+ RO") == ["snmp-server community ******** RO"]
