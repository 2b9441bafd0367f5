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
- no program that runs code from workspace files (make, pytest, npm, cargo, ...:
  `WORKSPACE_RUNNERS`) and none named by a path outside the system's program
  folders (`./build.sh`): a tool call can rewrite what they run;
- no argument known to make an approved program run other code (git `-c`,
  `find -exec`, `tar --to-command`, ..., see `CODE_RUNNING_ARGUMENTS` there);
- every program is on the list of those an approval by name may cover
  (approvable_programs.py): any other is allowed once per call.

Anything else, including input bashlex cannot parse, is not coverable: the
card offers it once only. When in doubt, ask.

A covered command cannot change the persistent shell for later commands (every
builtin that sets a variable, alias, function, option or trap is excluded). A
command the user allowed once can: `shell_state_change` says whether it may,
and after one has run, the approval book stops covering that shell's commands
until it restarts (approvals.py). An approval also binds to where the program
was found (`program_location`): an `ls` planted earlier on PATH later asks.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import bashlex

from .approvable_programs import BY_SCRIPT, approvable_by_name

# NEVER_APPROVED and is_never_approved are re-exported: approvals.py imports them from here.
from .code_running import NEVER_APPROVED as NEVER_APPROVED
from .code_running import code_running_argument, workspace_code
from .code_running import is_never_approved as is_never_approved
from .destructive import destroys, git_subcommand
from .program_location import BASH_BUILTINS as BASH_BUILTINS  # re-exported, with the three below
from .program_location import is_git as is_git
from .program_location import path_in_workspace as path_in_workspace
from .program_location import program_location as program_location
from .shell_reads import launched_commands, plain_script
from .shell_words import source_word

BashNode = Any  # a bashlex.ast.node: bashlex has no types, so the walk below checks each `kind`

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

# Not `&`: a job left in the background runs beside what follows, so `git status & cp -r
# stage/. sub` made the submodule's .git while git read it (third attacker review).
_SEPARATORS = {";", "&&", "||", "\n"}
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
    moved = [i for i, program in enumerate(programs) if program in FOLDER_CHANGERS]
    if moved and any(is_git(program) for program in programs[moved[0] :]):
        return ShellCoverage(None, "git after cd reads the repository it finds there")
    gits = [i for i, program in enumerate(programs) if is_git(program)]
    if gits and not all(map(is_git, programs[: gits[-1]])):
        # `gunzip .git-gz && git status`: the repository made a moment before git runs, after
        # the approvals looked (second attacker review of 2026-12-08)
        return ShellCoverage(None, "git after another program in one command reads what that program wrote")
    return ShellCoverage(programs)


FOLDER_CHANGERS = frozenset({"cd", "pushd", "popd"})
# What is written there runs on the host at the user's next git or hg command, and one made
# during the chat is writable in the sandbox: `cp s.ini tools/.git/config` ran unasked under
# an approval of cp once `git init tools` had (attacker review). Asked every time.
REPOSITORY_FOLDERS = frozenset({".git", ".hg", ".jj", ".sl"})  # .sl: Sapling (attacker review)
# ... or one with a suffix a decompressor or restore takes away: `gunzip sub/.git.gz` makes
# sub/.git (attacker review of 2026-12-08). .gitignore and .github are not this.
_REPOSITORY_WITH_SUFFIX = re.compile(r"\.(?:git|hg|jj|sl)(?:[.~]|-gz$|-z$|_z$)")  # gzip strips -gz, -z, _z too


def _repository_name(part: str) -> bool:
    """Whether a path part names a repository folder, or one once a suffix is taken away."""
    lowered = part.lower()
    return lowered in REPOSITORY_FOLDERS or _REPOSITORY_WITH_SUFFIX.match(lowered) is not None


def _walk(node: BashNode, command: str, programs: list[str]) -> None:
    kind = getattr(node, "kind", None)
    if kind == "list":
        for part in node.parts:
            if part.kind == "operator":
                if part.op == "&":
                    raise _NotCoverable("it leaves a job running in the background (&), beside what comes after")
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
            text = source_word(part, command)
            if text is None:
                raise _NotCoverable("a word thau cannot read")
            words.append(text)
        else:
            raise _NotCoverable(f"it uses a {part.kind}")
    if not words:
        return  # only redirections (`>/dev/null`): runs nothing
    program, arguments = words[0], words[1:]
    if not program:
        raise _NotCoverable("an empty program name")
    if any(_repository_name(part) for word in words for part in re.split(r"[/=:,]", word)):
        raise _NotCoverable("it names a .git, .hg or .jj folder (its config and hooks run at your next git or hg)")
    if _ASSIGNMENT_WORD.match(program):
        raise _NotCoverable(_ASSIGNS)
    if program in ("read", "getopts"):
        raise _NotCoverable(f"{program} sets variables")
    if program.rsplit("/", 1)[-1] in TERMINAL_CHANGERS:
        raise _NotCoverable(f"{program} changes the terminal the shell reads commands from")
    if program in SETTERS:  # "export runs other code" was wrong (tools review)
        raise _NotCoverable(f"{program} changes the shell for the commands after it (variables such as PATH, options)")
    # sed whose whole script is on the card and prints, deletes or substitutes (no e, w, r, no
    # script file, not in place): the most common way to show part of a file (diff review)
    plain_sed = program in BY_SCRIPT and plain_script(program, arguments) and not any(map(_in_place, arguments))
    if is_never_approved(program) and not plain_sed:
        raise _NotCoverable(f"{program} runs other code or writes what its input names")
    reason = workspace_code(program) or code_running_argument(program, arguments)
    if reason is not None:
        raise _NotCoverable(reason)
    destroyed = destroys(program, arguments)
    if destroyed is not None and destroyed[1]:
        raise _NotCoverable(f"{destroyed[0]}: it asks every time")
    if not (approvable_by_name(program) or plain_sed):
        raise _NotCoverable(
            f"{program} is not on thau's list of programs safe to allow by name"
            " (tools.shell.approvable_by_name in config.yaml)"
        )
    if is_git(program):
        # An approval of `git status` is one of that subcommand: it must not cover `git clean
        # -fdx`. (code_running_argument let only flags without values come before it.)
        found = git_subcommand(arguments)
        programs.append(f"{program} {found[0]}" if found else program)
        return
    programs.append(program)


def _in_place(argument: str) -> bool:
    """sed's -i/--in-place, alone or in a cluster (-ni): it writes the file, with a backup
    named by the suffix it is given (-i.gi on a file t... builds names nobody typed)."""
    return argument.startswith("--in-place") or (
        argument.startswith("-") and not argument.startswith("--") and "i" in argument[1:]
    )


# Of those below, the ones that set variables, options or names (not run code): said so on the card.
SETTERS = frozenset(
    {"export", "declare", "typeset", "local", "readonly", "set", "shopt", "unset", "alias", "unalias", "umask"}
    | {"ulimit", "hash", "let", "mapfile", "readarray"}
)

# Builtins that change the shell for later commands: what names resolve to (alias, hash,
# enable, functions via eval/source), variables such as PATH, PS1 and PROMPT_COMMAND, options
# and traps. Assigning builtins (read, getopts, printf -v, wait -p) are here too.
STATE_BUILTINS = frozenset(
    # compgen: -W's word list is expanded again, in this shell: ${PROMPT_COMMAND:=...}
    "umask ulimit . alias bind builtin command compgen complete compopt coproc declare enable eval exec export fc "
    "getopts hash let local mapfile read readarray readonly select set shopt source trap typeset unalias unset".split()
)

_RUNS_COMMANDS = re.compile(r"\$\(|`")
# `((` too: bashlex reads `(( PATH = 1 ))` (with spaces) as nothing that assigns.
_EXPANSION_THAT_ASSIGNS = re.compile(r"\$\{|\$\(\(|\$\[|\(\(")
# `{name}>file` (any redirection: <, >, >>, <>, >&, <&, <<, <<<) puts the new descriptor's
# number in the variable `name`, even on a builtin: `: {PATH}>/dev/null` sets PATH=10. An
# unquoted word of this form right before a redirection is one.
_VARIABLE_REDIRECTION = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:\[.*\])?\}")  # a[b[PATH=0]] too


# An assignment bashlex reads as the program's name: `name[subscript]=value` (an indexed
# array's subscript is arithmetic: `a[PATH=1]=2` sets PATH), and `NAME=value` after a leading
# redirection (`>/dev/null PATH=.`, `2>&1 LC_ALL=C bash -c ...`). Attacker reviews.
_ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[.*\])?\+?=", re.DOTALL)
_ASSIGNS = "it sets a variable"
# Programs that change the terminal the shell reads its commands from: `stty kill Q` made the
# terminal drop everything before a Q in thau's next command line, so an approved
# `ls 'Qtouch PWNED #'` ran touch (attacker review).
TERMINAL_CHANGERS = frozenset({"stty", "tset", "reset", "setterm"})


def shell_state_change(command: str) -> str | None:
    """Why running `command` in the persistent shell may change what later commands run
    there (a function, an alias, a variable such as PATH or PROMPT_COMMAND, an option, a
    trap), in a few words; None when it cannot. Commands an approval may cover never can;
    for the rest, anything this cannot read counts as a change."""
    if analyse_shell_command(command).programs is not None:
        return None
    if _EXPANSION_THAT_ASSIGNS.search(command):
        return "it expands parameters or arithmetic, which can set variables"
    try:
        trees = bashlex.parse(command)
    except Exception:  # bashlex raises ParsingError, NotImplementedError, AttributeError...
        return "bash syntax thau does not check"
    if any(_in_the_background(tree) for tree in trees):
        return "a job it leaves in the background goes on beside later commands"
    for tree in trees:
        reason = _state_walk(tree, command)
        if reason is not None:
            return reason
    return None


def _in_the_background(node: BashNode) -> bool:
    """Whether a list in `node` leaves a job running (`&`)."""
    if getattr(node, "kind", None) == "operator" and getattr(node, "op", None) == "&":
        return True
    return any(_in_the_background(child) for child in getattr(node, "parts", None) or [])


def _runs_unseen_code(program: str, arguments: list[str], depth: int = 0) -> str | None:
    """Code the card does not show (an interpreter's script, a Makefile, a hook) runs as the
    shell's own user beside it: it can type into the shell's terminal (TIOCSTI) or rewrite
    the shell's memory through /proc, so `ls` may be an alias after `python3 helper.py`
    (sandbox review). Such a command counts as changing the shell. What the card shows
    whole does not: a sed or awk script that runs and writes nothing, and a launcher's or
    find -exec's program judged as itself (`sed -n 1,2p f` stopped every approval of the
    chat: skeptic review; shell_reads.py)."""
    name = program.rsplit("/", 1)[-1]
    if depth < 4 and "/" not in program:
        if name in ("sed", "awk", "gawk", "mawk", "nawk") and plain_script(name, arguments):
            return None
        launched = launched_commands(name, arguments)
        if launched is not None:
            for inner, inner_arguments in launched:
                if (reason := _runs_unseen_code(inner, inner_arguments, depth + 1)) is not None:
                    return reason
            return None
    if is_never_approved(program) or workspace_code(program) or code_running_argument(program, arguments):
        return f"{name} runs code that can change this shell as it runs"
    return None


def _sets_by_redirection(parts: list[BashNode], command: str) -> bool:
    """Whether a `{name}` word stands unquoted right before a redirection (see above)."""
    for word, after in zip(parts, parts[1:]):
        if getattr(word, "kind", None) == "word" and getattr(after, "kind", None) == "redirect":
            start, end = word.pos
            if end == after.pos[0] and _VARIABLE_REDIRECTION.fullmatch(command[start:end]):
                return True
    return False


def _state_walk(node: BashNode, command: str) -> str | None:
    kind = getattr(node, "kind", None)
    if kind == "function":
        return "it defines a function"
    if kind in ("for", "select"):
        return f"a {kind} loop sets a variable"
    if kind == "assignment":
        return "it sets a variable"
    if kind == "redirect":
        # What a redirection's target or a here-document runs: `cat <<EOF` with `$(python3 x)`
        # in its body, `echo > >(python3 x)` left the approvals in force (attacker re-review).
        if _RUNS_COMMANDS.search(str(getattr(getattr(node, "heredoc", None), "value", ""))):
            return "its here-document runs commands ($(...) or `...`)"
        target = getattr(node, "output", None)
        if hasattr(target, "kind"):
            return _state_walk(target, command)
    if kind == "command":
        if _sets_by_redirection(node.parts, command):
            return "a {name} redirection sets a variable"
        words = [part for part in node.parts if getattr(part, "kind", None) == "word"]
        if words:
            texts = [source_word(w, command) for w in words]
            if any(text is None for text in texts):
                return "a word thau cannot read"
            program, arguments = str(texts[0]), [str(t) for t in texts[1:]]
            if "$" in program or "`" in program:
                return "its program name comes from an expansion"
            if _ASSIGNMENT_WORD.match(program):
                return _ASSIGNS
            if program in STATE_BUILTINS:
                return f"{program} changes the shell"
            changer = next((w for w in [program, *arguments] if w.rsplit("/", 1)[-1] in TERMINAL_CHANGERS), None)
            if changer is not None:  # behind a launcher too: nice stty kill Q, timeout 5 stty ...
                return f"{changer} changes the terminal the shell reads commands from"
            if program in ("printf", "wait", "test", "[") and code_running_argument(program, arguments):
                return f"{program} sets a variable"
            if program == "jobs" and code_running_argument(program, arguments):
                return "jobs -x runs a command in this shell"
            if (reason := _runs_unseen_code(program, arguments)) is not None:
                return reason
    for attribute in ("parts", "list"):
        for child in getattr(node, attribute, None) or []:
            reason = _state_walk(child, command)
            if reason is not None:
                return reason
    inner = getattr(node, "command", None)
    return _state_walk(inner, command) if inner is not None and hasattr(inner, "kind") else None


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
        if source_word(target, command) == _NULL_DEVICE:
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
