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
  see `NEVER_APPROVED`): those run whatever their arguments say, so they are
  never approved by name and `remember` records nothing for them;
- no argument known to make an approved program run other code (git `-c`,
  `find -exec`, `tar --to-command`, ..., see `CODE_RUNNING_ARGUMENTS`).

Anything else, including input bashlex cannot parse, is not coverable: the
card offers it once only. When in doubt, ask.

What this cannot see is the state of the persistent shell: a function, alias
or PATH change made by an earlier call (that the user allowed once) still
applies when a later, covered command runs.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import bashlex

BashNode = Any  # a bashlex.ast.node: bashlex has no types, so the walk below checks each `kind`

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

# Programs that run whatever their arguments (or stdin) say: approving one by name
# would approve everything. Compared in lower case (macOS file names ignore case),
# with a trailing version stripped (python3.12, lua5.4, tclsh8.6).
NEVER_APPROVED = frozenset(
    {
        # shells and interpreters
        "bash",
        "sh",
        "dash",
        "zsh",
        "ksh",
        "mksh",
        "ash",
        "rbash",
        "fish",
        "csh",
        "tcsh",
        "yash",
        "pwsh",
        "node",
        "nodejs",
        "deno",
        "bun",
        "perl",
        "ruby",
        "irb",
        "php",
        "lua",
        "luajit",
        "rscript",
        "r",
        "tclsh",
        "wish",
        "expect",
        "awk",
        "gawk",
        "mawk",
        "nawk",
        "sed",
        "julia",
        "java",
        "jshell",
        "osascript",
        "sqlite3",
        "psql",
        "mysql",
        "dc",
        "m4",
        "gdb",
        "lldb",
        "vi",
        "vim",
        "nvim",
        "view",
        "ex",
        "ed",
        "emacs",
        # launchers: run the program named in their arguments
        "env",
        "xargs",
        "sudo",
        "doas",
        "su",
        "runuser",
        "pkexec",
        "nohup",
        "timeout",
        "watch",
        "nice",
        "ionice",
        "chrt",
        "taskset",
        "chroot",
        "setsid",
        "setpriv",
        "unshare",
        "nsenter",
        "prlimit",
        "stdbuf",
        "unbuffer",
        "time",
        "strace",
        "ltrace",
        "valgrind",
        "flock",
        "script",
        "parallel",
        "busybox",
        "toybox",
        "ssh",
        "ssh-agent",
        "sftp",
        "nc",
        "ncat",
        "socat",
        "tmux",
        "screen",
        "at",
        "batch",
        "crontab",
        "systemd-run",
        "npx",
        "uvx",
        "pipx",
        "fakeroot",
        "firejail",
        "bwrap",
        # shell builtins that run code, define it, or change how later commands resolve
        "exec",
        "eval",
        "source",
        ".",
        "command",
        "builtin",
        "alias",
        "export",
        "declare",
        "typeset",
        "local",
        "readonly",
        "set",
        "shopt",
        "trap",
        "enable",
        "hash",
        "unset",
        "let",
        "mapfile",
        "readarray",
        "compgen",
        "complete",
        "fc",
        "bind",
        "coproc",
    }
)
_NEVER_APPROVED_PREFIXES = ("python", "pypy")
_VERSION_SUFFIX = re.compile(r"[0-9][0-9._-]*$")


@dataclass(frozen=True)
class CodeRunningArguments:
    """Arguments that make an otherwise approved program run code the user did not see.

    Options match in every form the program accepts: `--opt`, `--opt=value`
    and abbreviations (`--upload-p`); a one-letter `-x` anywhere in a cluster
    (`-avze`); a longer single-dash option (`-exec`, `-TT`) as a prefix; a
    `+` entry as a prefix (`less +!cmd`).
    """

    options: tuple[str, ...] = ()  # risky anywhere after the program
    subcommands: frozenset[str] = frozenset()  # `git rebase`; `name-...` helpers too
    subcommand_options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # With subcommands: the only options allowed before one (others may take a
    # value, which would hide the real subcommand).
    global_flags: frozenset[str] = frozenset()
    bundled_first_argument: bool = False  # tar's old `tar xIf prog archive`
    variable_arguments: bool = False  # make's `CC=...` overrides run as recipes

    @property
    def has_subcommands(self) -> bool:
        return bool(self.subcommands or self.subcommand_options)


CODE_RUNNING_ARGUMENTS: dict[str, CodeRunningArguments] = {
    "git": CodeRunningArguments(
        options=("--upload-pack", "--receive-pack", "--exec", "--template", "--open-files-in-pager"),
        subcommands=frozenset(
            {
                "config",
                "difftool",
                "mergetool",
                "filter-branch",
                "bisect",
                "submodule",
                "rebase",
                "credential",
                "daemon",
                "instaweb",
                "send-email",
                "hook",
                "maintenance",
                "for-each-repo",
                "shell",
                "upload-pack",
                "receive-pack",
                "http-backend",
                "remote-ext",
                "web--browse",
            }
        ),
        subcommand_options={"clone": ("-u",), "grep": ("-O",)},
        # No -c, -C, -p, --git-dir, --exec-path...: config, pager or a planted repo run code.
        global_flags=frozenset(
            {
                "--no-pager",
                "--bare",
                "--no-replace-objects",
                "--literal-pathspecs",
                "--glob-pathspecs",
                "--noglob-pathspecs",
                "--icase-pathspecs",
                "--no-optional-locks",
                "--no-advice",
                "--no-lazy-fetch",
                "-P",
                "--version",
                "-v",
                "--help",
                "-h",
            }
        ),
    ),
    "find": CodeRunningArguments(
        options=("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"),
    ),
    "tar": CodeRunningArguments(
        options=(
            "--to-command",
            "--use-compress-program",
            "-I",
            "--checkpoint-action",
            "-F",
            "--info-script",
            "--new-volume-script",
            "--rsh-command",
            "--rmt-command",
        ),
        bundled_first_argument=True,
    ),
    "rsync": CodeRunningArguments(options=("-e", "--rsh", "--rsync-path", "--daemon")),
    "scp": CodeRunningArguments(options=("-S", "-o", "-F", "-J")),
    "zip": CodeRunningArguments(options=("-T", "-TT", "--unzip-command")),
    "man": CodeRunningArguments(options=("-P", "--pager", "-H", "--html")),
    "less": CodeRunningArguments(options=("+", "-k", "--lesskey-file", "--lesskey-src", "--lesskey-content")),
    "more": CodeRunningArguments(options=("+",)),
    "make": CodeRunningArguments(options=("-f", "--file", "--makefile", "--eval", "-E"), variable_arguments=True),
    "sort": CodeRunningArguments(options=("--compress-program",)),
    "sdiff": CodeRunningArguments(options=("--diff-program",)),
    "diff3": CodeRunningArguments(options=("--diff-program",)),
    "wget": CodeRunningArguments(options=("-e", "--execute", "--use-askpass", "--config")),
    "go": CodeRunningArguments(
        options=("-exec", "-toolexec", "-vettool"), subcommands=frozenset({"run", "generate", "tool"})
    ),
    "uv": CodeRunningArguments(subcommands=frozenset({"run", "tool"})),
    "npm": CodeRunningArguments(subcommands=frozenset({"exec", "x"})),
    "pnpm": CodeRunningArguments(subcommands=frozenset({"exec", "dlx"})),
    "poetry": CodeRunningArguments(subcommands=frozenset({"run"})),
    "pipenv": CodeRunningArguments(subcommands=frozenset({"run"})),
    "conda": CodeRunningArguments(subcommands=frozenset({"run"})),
}

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


def is_never_approved(program: str) -> bool:
    """True for interpreters and launchers, which no approval by name may cover."""
    name = program.rsplit("/", 1)[-1].lower()
    if name in NEVER_APPROVED or name.startswith(_NEVER_APPROVED_PREFIXES):
        return True
    return _VERSION_SUFFIX.sub("", name).rstrip("-_.") in NEVER_APPROVED


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
    _check_arguments(program, arguments)
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


def _check_arguments(program: str, arguments: list[str]) -> None:
    name = program.rsplit("/", 1)[-1].lower()
    rules = CODE_RUNNING_ARGUMENTS.get(name)
    if rules is None:
        return
    if rules.variable_arguments:
        for argument in arguments:
            if re.match(r"^[A-Za-z_][A-Za-z0-9_.]*[:+?!]*=", argument):
                raise _NotCoverable(f"{name} {argument.split('=', 1)[0]}=... sets a variable")
    checked = list(arguments)
    if rules.bundled_first_argument and checked and not checked[0].startswith("-"):
        checked[0] = "-" + checked[0]
    _check_options(name, checked, rules.options)
    if not rules.has_subcommands:
        return
    for index, argument in enumerate(arguments):  # noqa: B007 (index is read after the loop)
        if not argument.startswith("-"):
            break
        if argument not in rules.global_flags:
            raise _NotCoverable(f"{name} {argument} before a subcommand")
    else:
        return  # no subcommand (`git --version`)
    subcommand = argument.lower()
    if any(subcommand == risky or subcommand.startswith(risky + "-") for risky in rules.subcommands):
        raise _NotCoverable(f"{name} {argument} can run other code")
    _check_options(name, arguments[index + 1 :], rules.subcommand_options.get(subcommand, ()))


def _check_options(name: str, arguments: list[str], options: tuple[str, ...]) -> None:
    for argument in arguments:
        for option in options:
            if _option_matches(argument, option):
                raise _NotCoverable(f"{name} {option} can run other code")


def _option_matches(argument: str, option: str) -> bool:
    if option.startswith("+"):
        return argument.startswith(option)
    if option.startswith("--"):
        name = argument.split("=", 1)[0]
        return len(name) > 2 and name.startswith("--") and option.startswith(name)  # abbreviations count
    if len(option) == 2:
        return argument.startswith("-") and not argument.startswith("--") and option[1] in argument[1:]
    return argument.startswith(option)  # single-dash long options: -exec, -execdir, -TT


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
