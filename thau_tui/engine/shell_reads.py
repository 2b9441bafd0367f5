"""Commands that run no code the card does not show, for the shell-state rule.

shell_command.shell_state_change counts a command that runs unseen code as changing the
chat's shell (such code can type into the shell's terminal). Some programs that could run
code are everyday reading: `sed -n 1,2p f` and `awk '{print $1}' f` show their whole
program on the card, and `timeout 5 ls` or `find . -exec grep x {} +` run a program the
card names. Counting them stopped the chat's remembered approvals early in every session
(skeptic review). What is read here is only what can be read for sure; anything else
still counts.
"""

from __future__ import annotations

import re

# One sed command that prints, deletes, quits or substitutes, without e (run the pattern
# space as a command), w (write a file) or an s///e or s///w flag: an address (a line, $,
# a /regex/, or a range of them) and p, d, q, =, n, N, P, D, or s/// and y/// with / as the
# delimiter and only the flags g, p, i, I and a count.
_ADDRESS = r"(?:\d+|\$|/(?:[^/\\\n]|\\.)*/)"
_SED_COMMAND = re.compile(
    rf"\s*(?:{_ADDRESS}(?:\s*,\s*{_ADDRESS})?)?\s*!?\s*"
    r"(?:[pdq=nNPDgGhHx]|s/(?:[^/\\\n]|\\.)*/(?:[^/\\\n]|\\.)*/[gpiI0-9]*|y/(?:[^/\\\n]|\\.)*/(?:[^/\\\n]|\\.)*/)?\s*"
)
_SED_FLAGS = {"-n", "--quiet", "--silent", "-E", "-r", "--regexp-extended", "-s", "--separate", "-u", "-z", "--posix"}
# What an awk program uses to run a command, write a file or read another: none of them
# (a `>` in a comparison counts too: it is read as a possible redirection).
_AWK_RISKY = re.compile(r"system|getline|close|fflush|[|>]|@|\bprint[f]?\s*>", re.IGNORECASE)
_AWK_FLAGS_WITH_VALUES = {"-F", "-v"}


def plain_script(name: str, arguments: list[str]) -> bool:
    """Whether this sed or awk call runs and writes nothing but what its script on the card
    says: no script file, no e/w, no system() or redirection."""
    if name == "sed":
        return _plain_sed(arguments)
    return _plain_awk(arguments)


def _plain_sed(arguments: list[str]) -> bool:
    """GNU sed reads options anywhere (`sed -n 1p -e 'e id' f` runs `e id`, 1p being a file):
    every argument that looks like an option is read, wherever it stands."""
    scripts: list[str] = []
    operands: list[str] = []
    at, ended = 0, False
    while at < len(arguments):
        word = arguments[at]
        at += 1
        if ended or not word.startswith("-") or word == "-":
            operands.append(word)
        elif word == "--":
            ended = True
        elif word in ("-e", "--expression"):
            if at >= len(arguments):
                return False
            scripts.append(arguments[at])
            at += 1
        elif word.startswith("--expression="):
            scripts.append(word.split("=", 1)[1])
        elif word not in _SED_FLAGS and not word.startswith(("-i", "--in-place")):
            return False  # -f FILE, -s... anything not read here
    if not scripts:
        if not operands:
            return False
        scripts.append(operands[0])
    # A bracket expression may hold an unescaped / in GNU sed (`/[/s/x]/!e cmd #/g` is the
    # address /[/s/x]/ and the command e): the regex below would end the address at the first
    # / and read a harmless s///. No [ at all (third attacker review of 2026-12-08).
    if any("[" in script for script in scripts):
        return False
    return all(_SED_COMMAND.fullmatch(part) for script in scripts for part in re.split(r"[;\n]", script))


def _plain_awk(arguments: list[str]) -> bool:
    """The program is the first operand after the options (-F and -v with their values); a
    script file, gawk's -e/-i/-l, or any option after the program, is not read here."""
    rest = list(arguments)
    while rest and rest[0].startswith("-") and rest[0] != "-":
        flag = rest.pop(0)
        if flag in _AWK_FLAGS_WITH_VALUES and rest:
            rest.pop(0)
        elif not (flag[:2] in _AWK_FLAGS_WITH_VALUES and len(flag) > 2):
            return False
    if not rest or any(word.startswith("-") and word != "-" for word in rest[1:]):
        return False
    return not _AWK_RISKY.search(rest[0])


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")  # NAME=value, never an option's --x=y
# What env may set and leave the program judged as itself: the locale, the time zone, the
# terminal's size and colours.
_HARMLESS_VARIABLE = re.compile(r"(?:LC_[A-Z]+|LANG|LANGUAGE|TZ|COLUMNS|LINES|NO_COLOR|FORCE_COLOR)=")

# Launchers whose own options are read here: each entry's options that take a value.
_LAUNCHERS = {
    "timeout": ({"-k", "--kill-after", "-s", "--signal"}, True),  # then a duration
    "nice": ({"-n", "--adjustment"}, False),
    "nohup": (set(), False),
    "stdbuf": ({"-i", "-o", "-e", "--input", "--output", "--error"}, False),
}


def launched_commands(name: str, arguments: list[str]) -> list[tuple[str, list[str]]] | None:
    """The programs this launcher (timeout, nice, nohup, stdbuf, env, find -exec) runs, with
    their arguments; [] when it runs none (env alone prints); None when it is not one of
    them or its arguments are not read for sure here."""
    if name == "find":
        return _find_execs(arguments)
    if name == "env":
        rest = list(arguments)
        while rest and (rest[0] in ("-i", "--ignore-environment", "-0", "--null") or _ASSIGNMENT.match(rest[0])):
            word = rest.pop(0)
            if _ASSIGNMENT.match(word) and not _HARMLESS_VARIABLE.match(word):
                # BASH_ENV, LD_PRELOAD, PATH, GIT_CONFIG_*: a plain program runs other code
                # with them (attacker review); written without env they count too
                return None
        if rest and rest[0].startswith("-"):
            return None  # -S/--split-string splits a string into a command, -u, -C...: not read here
        return [(rest[0], rest[1:])] if rest else []
    if name not in _LAUNCHERS:
        return None
    with_values, then_duration = _LAUNCHERS[name]
    rest = list(arguments)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag == "--":
            break
        if flag.split("=", 1)[0] in with_values and "=" not in flag:
            if not rest:
                return None
            rest.pop(0)
        elif not (flag[:2] in with_values or flag.split("=", 1)[0] in with_values or flag in ("--foreground", "-v")):
            if not (name == "nice" and flag[1:].lstrip("-").isdigit()):
                return None
    if then_duration:
        if not rest:
            return None
        rest.pop(0)
    return [(rest[0], rest[1:])] if rest else None


def _find_execs(arguments: list[str]) -> list[tuple[str, list[str]]] | None:
    """The programs `find -exec/-execdir PROGRAM ... ;` runs; None for -ok and the rest the
    shell-state rule does not read."""
    execs = ("-exec", "-execdir", "-ok", "-okdir")
    found: list[tuple[str, list[str]]] = []
    at = 0
    while at < len(arguments):
        word = arguments[at]
        if word in ("-exec", "-execdir"):
            end = next((i for i in range(at + 1, len(arguments)) if arguments[i] in (";", "+")), None)
            if end is None or end == at + 1:
                return None
            program, rest = arguments[at + 1], arguments[at + 2 : end]
            # `{}` as (part of) the program runs whatever file find matches; a program that
            # reads as an option or an operator, or an -exec inside the segment, means a word
            # was the value of another option (`-name -exec -o -exec python3 x ;`: attacker review)
            if "{}" in program or program.startswith(("-", "!", "(", ")")) or any(a in execs for a in rest):
                return None
            found.append((program, [a for a in rest if a != "{}"]))
            at = end + 1
            continue
        if word.startswith("-ok"):
            return None  # runs what the user answers at a prompt thau cannot see
        at += 1  # -delete and -fprint write files: no change to the shell
    if sum(a in execs for a in arguments) != len(found):
        return None  # an -exec word read as another option's value, or the reverse
    return found
