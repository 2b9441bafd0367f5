"""Which programs a shell command runs, and whether an approval by program may cover it.

A command is parsed with a real
bash parser (bashlex) and is *coverable* by remembered approvals only when the
programs it names are all it can run:

- it is a list or pipeline (`|`, `|&`, `&&`, `||`, `;`, `&`, new lines) of
  simple commands: no if/for/while/case, `{ }`, subshells, functions, `!`;
- no `$` or backtick anywhere, even quoted (parameter, arithmetic and command
  expansion can run code: `${x@P}`, `${a[$(...)]}`), and no unquoted glob,
  brace or extglob characters (`* ? [ ] { } ( ) !`) or control characters;
- no assignment, neither as a prefix (`PATH=. ls`, `LD_PRELOAD=x ls`) nor as
  an argument (`make CC=...`);
- redirections only duplicate or close descriptors (`2>&1`, `>&2`, `2>&-`) or
  point at /dev/null; a file, a here-document or a here-string means ask;
- no interpreter or launcher (bash, python*, env, xargs, sudo, timeout, ...,
  see `NEVER_APPROVED` in code_running.py): those run whatever their arguments
  say, so they are never approved by name and `remember` records nothing for them;
- no argument known to make an approved program run other code (git `-c`,
  `find -exec`, `tar --to-command`, ..., see `CODE_RUNNING_ARGUMENTS` there).

Anything else, including input bashlex cannot parse, is not coverable: the
card offers it once only. When in doubt, ask.

What this cannot see is the state of the persistent shell: a function, alias
or PATH change made by an earlier call (that the user allowed once) still
applies when a later, covered command runs.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import bashlex

# NEVER_APPROVED and is_never_approved are re-exported: approvals.py imports them from here.
from .code_running import NEVER_APPROVED as NEVER_APPROVED
from .code_running import code_running_argument
from .code_running import is_never_approved as is_never_approved

BashNode = Any  # a bashlex.ast.node: bashlex has no types, so the walk below checks each `kind`

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

_SEPARATORS = {";", "&&", "||", "&", "\n"}
_PIPES = {"|", "|&"}
# Outside quotes these glob, brace-expand or extglob; `!` expands history even in double quotes.
_UNQUOTED_SPECIAL = set("*?[]{}()!")
_NULL_DEVICE = "/dev/null"


class _NotCoverable(Exception):
    """Raised while reading a command; the message says why in a few words, for the card."""


@dataclass(frozen=True)
class ShellCoverage:
    """What a remembered approval could cover in one shell command."""

    programs: list[str] | None  # None: not coverable
    reason: str = ""  # why not, in a few words


def analyse_shell_command(command: str) -> ShellCoverage:
    """Parse `command` with bashlex and tell which programs it runs, or why that cannot be told."""
    if "$" in command or "`" in command:
        return ShellCoverage(None, "it uses $ or backticks")
    if any((ord(char) < 32 and char not in "\t\n") or ord(char) == 127 for char in command):
        return ShellCoverage(None, "it has control characters")
    if not command.strip():
        return ShellCoverage(None, "it is empty")
    try:
        trees = bashlex.parse(command)
        programs: list[str] = []
        for tree in trees:
            _walk(tree, command, programs)
    except _NotCoverable as exc:
        return ShellCoverage(None, str(exc))
    except Exception:  # bashlex raises ParsingError, NotImplementedError, AttributeError...
        return ShellCoverage(None, "bash syntax thau does not check")
    if not programs:
        return ShellCoverage(None, "it names no program")
    return ShellCoverage(programs)


def _walk(node: BashNode, command: str, programs: list[str]) -> None:
    kind = getattr(node, "kind", None)
    if kind == "list":
        for part in node.parts:
            if part.kind == "operator":
                if part.op not in _SEPARATORS:
                    raise _NotCoverable(f"it uses {part.op!r}")
            else:
                _walk(part, command, programs)
    elif kind == "pipeline":
        for part in node.parts:
            if part.kind == "pipe":
                if part.pipe not in _PIPES:
                    raise _NotCoverable(f"it uses {part.pipe!r}")
            else:
                _walk(part, command, programs)
    elif kind == "command":
        _simple_command(node, command, programs)
    elif kind == "reservedword":
        raise _NotCoverable(f"it uses {node.word!r}")
    else:
        raise _NotCoverable("a compound command or subshell")


def _simple_command(node: BashNode, command: str, programs: list[str]) -> None:
    words: list[str] = []
    for part in node.parts:
        if part.kind == "assignment":
            raise _NotCoverable("it sets a variable")
        if part.kind == "redirect":
            _check_redirect(part, command)
        elif part.kind == "word":
            _check_word(part, command)
            words.append(part.word)
        else:
            raise _NotCoverable(f"it uses a {part.kind}")
    if not words:
        return  # only redirections (`>/dev/null`): runs nothing
    program, arguments = words[0], words[1:]
    if not program:
        raise _NotCoverable("an empty program name")
    if is_never_approved(program):
        raise _NotCoverable(f"{program} runs other code")
    reason = code_running_argument(program, arguments)
    if reason is not None:
        raise _NotCoverable(reason)
    programs.append(program)


def _check_word(word: BashNode, command: str) -> None:
    if any(part.kind != "tilde" for part in getattr(word, "parts", None) or []):
        raise _NotCoverable("it uses expansions")
    start, end = word.pos
    if _unquoted_specials(command[start:end]):
        raise _NotCoverable("it uses glob or brace patterns")


def _unquoted_specials(raw: str) -> set[str]:
    """The characters in a word's source that bash would treat as patterns (or history)."""
    found: set[str] = set()
    quote: str | None = None
    index = 0
    while index < len(raw):
        char = raw[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif char == "\\":
            index += 1  # the next character is literal (in double quotes too, for our purposes)
        elif quote == '"':
            if char == '"':
                quote = None
            elif char == "!":
                found.add(char)
        elif char in "'\"":
            quote = char
        elif char in _UNQUOTED_SPECIAL:
            found.add(char)
        index += 1
    if quote is not None:
        found.add(quote)
    return found


def _check_redirect(redirect: BashNode, command: str) -> None:
    if getattr(redirect, "heredoc", None) is not None or redirect.type in ("<<", "<<-", "<<<"):
        raise _NotCoverable("it uses a here-document")
    source = getattr(redirect, "input", None)
    if source is not None and not isinstance(source, int):
        raise _NotCoverable("an unusual redirection")
    target = redirect.output
    if redirect.type in (">&", "<&") and (isinstance(target, int) or target == "-"):
        return  # 2>&1, >&2, 2>&-: descriptors only, no file
    if getattr(target, "kind", None) == "word":
        _check_word(target, command)
        if target.word == _NULL_DEVICE:
            return
    raise _NotCoverable("it redirects to or from a file")


def _words(command: str) -> list[str] | None:
    """Shell-like words for display only; None when it cannot be tokenised."""
    try:
        return shlex.split(command, comments=False, posix=True)
    except ValueError:  # unbalanced quotes
        return None


def programs_of(command: str) -> list[str] | None:
    """Every program a shell command runs, in order; None when that cannot be told safely.

    `ls -l | grep x && make` -> ["ls", "grep", "make"]. None whenever a
    remembered approval must not cover the command (see the module docstring):
    expansions, assignments, file redirections, compound commands,
    interpreters and code-running options.
    """
    return analyse_shell_command(command).programs


def program_of(command: str) -> str:
    """The program a shell command runs: its first word, skipping VAR=value prefixes.

    For display only, never for approving: it answers even for commands that
    `programs_of` refuses. Returns "" for an empty command. For a chain, this
    is the first program only.
    """
    programs = programs_of(command)
    if programs:
        return programs[0]
    words = _words(command) or command.split()
    for word in words:
        if not _ASSIGNMENT.match(word) and not set(word) <= set("();<>|&\n"):
            return word
    return ""
