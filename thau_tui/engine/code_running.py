"""Programs and arguments that run code the user did not see, for shell approvals.

The tables that shell_command.py consults for each simple command: the
interpreters and launchers no approval by name may cover (`NEVER_APPROVED`);
the programs that run code from files in the workspace, and programs named by a
path outside the system folders (`workspace_code`), which none may cover either;
and, for otherwise approvable programs, the arguments that make them run other
code (`CODE_RUNNING_ARGUMENTS`: git `-c`, `find -exec`, `tar --to-command`, ...).
A program is looked up by each of its names (`identities`: `editor` is the vim.basic it
resolves to, x86_64-linux-gnu-gcc is gcc). A program that is in none is judged by the
parser alone.
"""

from __future__ import annotations

import os
import re

from .code_running_table import CODE_RUNNING_ARGUMENTS as CODE_RUNNING_ARGUMENTS
from .code_running_table import CodeRunningArguments as CodeRunningArguments
from .never_approved import NEVER_APPROVED as NEVER_APPROVED
from .never_approved import WORKSPACE_RUNNERS as WORKSPACE_RUNNERS
from .program_names import identities

_NEVER_APPROVED_PREFIXES = ("python", "pypy", "ld-linux", "ld-musl", "ld64", "qemu-")

# Program folders sandboxed tools cannot write in, and no workspace is in: a program named
# by a path there is the system's.
SYSTEM_FOLDERS = ("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/nix/store/")


def workspace_code(program: str) -> str | None:
    """Why an approval of `program` by name would cover code a tool can rewrite (a program in
    WORKSPACE_RUNNERS, by any of its names, or one named by a path outside SYSTEM_FOLDERS);
    None otherwise."""
    if "/" in program:
        inside = os.path.isabs(program) and program.startswith(SYSTEM_FOLDERS)
        if not inside or ".." in program.split("/"):
            return f"{program} is a file a tool can rewrite"
    what = next((WORKSPACE_RUNNERS[n] for n in identities(program) if n in WORKSPACE_RUNNERS), None)
    return None if what is None else f"{program} runs {what}, which a tool can rewrite"


def is_never_approved(program: str) -> bool:
    """True for interpreters and launchers, by any of their names (`identities`), which no
    approval by name may cover."""
    return any(n in NEVER_APPROVED or n.startswith(_NEVER_APPROVED_PREFIXES) for n in identities(program))


def code_running_argument(program: str, arguments: list[str]) -> str | None:
    """Why `program` with these arguments may run other code, in a few words; None when no
    argument in CODE_RUNNING_ARGUMENTS says so."""
    found = next(((n, CODE_RUNNING_ARGUMENTS[n]) for n in identities(program) if n in CODE_RUNNING_ARGUMENTS), None)
    if found is None:
        return None
    name, rules = found
    checked = list(arguments)
    if rules.bundled_first_argument and checked and not checked[0].startswith("-"):
        checked[0] = "-" + checked[0]
    unabbreviated = [a for a in checked if a.split("=", 1)[0] not in rules.exact]
    reason = _risky_option(name, unabbreviated, rules.options, rules.prefixes_only)
    # GNU reads options after files too; with POSIXLY_CORRECT set, and on BSD, options stop at
    # the first file, so `uniq notes.txt -x` writes "-x": the longer reading counts.
    operands = max(_operands(arguments, rules.value_options), _operands(arguments, rules.value_options, True), key=len)
    if reason is None and rules.read_operands is not None and len(operands) > rules.read_operands:
        reason = f"{name} writes {operands[rules.read_operands]}"
    if reason is None and rules.command_words is not None:
        # The command is the first word that is no switch (`7z -slt x a.7z` extracts: its l
        # was a switch's, attacker re-review).
        command = next((a for a in arguments if not a.startswith("-")), None)
        if command not in rules.command_words:
            reason = f"{name} {command or ''} is not a listing ({'/'.join(sorted(rules.command_words))})".strip()
    if reason is None and rules.only_with and not _given_before_operands(checked, rules.only_with, rules.value_options):
        reason = f"{name} without {'/'.join(rules.only_with)} {rules.without_only}"
    if reason is None and rules.builds_names:
        # the prefix as an operand, as --prefix=P, or as a short option's attached value (-f.gi)
        dotted = next((a for a in arguments if any(re.split(r"[/=]", t)[-1].startswith(".") for t in _values(a))), None)
        if dotted is not None:
            reason = f"{name} builds file names from {dotted}, which starts with a dot (.gi and t make .git)"
    if reason is not None or not rules.has_subcommands:
        return reason
    for index, argument in enumerate(arguments):  # noqa: B007 (index is read after the loop)
        if not argument.startswith("-"):
            break
        if argument not in rules.global_flags:
            return f"{name} {argument} before a subcommand"
    else:
        return None  # no subcommand (`git --version`)
    subcommand = argument.lower()
    if any(subcommand == risky or subcommand.startswith(risky + "-") for risky in rules.subcommands):
        return f"{name} {argument} can run other code or write any file"
    return _risky_option(name, arguments[index + 1 :], rules.subcommand_options.get(subcommand, ()))


def _values(argument: str) -> tuple[str, ...]:
    """An argument, and the value a short option may have attached to it (`-f.gi`)."""
    return (argument, argument[2:]) if re.match(r"-[A-Za-z]", argument) else (argument,)


def _operands(arguments: list[str], value_options: tuple[str, ...], posix: bool = False) -> list[str]:
    """The arguments that are not options or option values, as getopt reads them: "-" (standard
    input) and everything after "--" are operands; `-f 2`, `-cf 2` and `--skip-f 2` take the
    next argument as their value; `-f2`, `--skip-fields=2` carry it. posix: options end at
    the first operand (POSIXLY_CORRECT, BSD's getopt)."""
    operands: list[str] = []
    takes_value = after_dashes = False
    for argument in arguments:
        if takes_value:
            takes_value = False
        elif after_dashes or argument == "-" or not argument.startswith("-"):
            operands.append(argument)
            after_dashes = after_dashes or posix
        elif argument == "--":
            after_dashes = True
        elif argument.startswith("--"):
            name = argument.split("=", 1)[0]
            takes_value = "=" not in argument and any(o.startswith(name) for o in value_options if o[:2] == "--")
        else:
            letters = argument[1:]
            first = next((k for k, letter in enumerate(letters) if f"-{letter}" in value_options), None)
            takes_value = first == len(letters) - 1
    return operands


def _given_before_operands(arguments: list[str], options: tuple[str, ...], value_options: tuple[str, ...] = ()) -> bool:
    """One of `options` comes before the first operand (unzip reads its mode there: in
    `unzip a.zip conftest.py -l` the -l is a member name, and conftest.py is extracted). A
    letter inside an option's value is not an option: `cpio -i -Ftx.a` extracts, its t being
    the file's name (attacker re-review), and `-F -t` makes -t the file."""
    value_next = False
    for argument in arguments:
        if value_next:
            value_next = False
            continue
        if argument == "--" or not argument.startswith("-"):
            return False
        flags = argument
        if not argument.startswith("--"):
            cut = next((i for i, letter in enumerate(argument[1:], 1) if f"-{letter}" in value_options), None)
            if cut is not None:
                flags, value_next = argument[: cut + 1], cut == len(argument) - 1
        elif argument.split("=", 1)[0] in value_options and "=" not in argument:
            value_next = True
        if any(option_matches(flags, option) for option in options):
            return True
    return False


def _risky_option(name: str, arguments: list[str], options: tuple[str, ...], prefixes: bool = False) -> str | None:
    for argument in arguments:
        for option in options:
            if argument.startswith(option) if prefixes else option_matches(argument, option):
                return f"{name} {option} can run other code or write a file"
    return None


def option_matches(argument: str, option: str) -> bool:
    """Whether `argument` gives `option` as the program reads it (see CodeRunningArguments):
    `-f` in a cluster (`-fdx`), a long option abbreviated (`--forc`) or with its value."""
    if option.startswith("+"):
        return argument.startswith(option)
    if option.startswith("--") and option.endswith("-"):  # a family: curl's --expand-<any option>
        return argument.startswith(option)
    if option.startswith("--"):
        name = argument.split("=", 1)[0]
        return len(name) > 2 and name.startswith("--") and option.startswith(name)  # abbreviations count
    if len(option) == 2:
        return argument.startswith("-") and not argument.startswith("--") and option[1] in argument[1:]
    return argument.startswith(option)  # single-dash long options: -exec, -execdir, -TT
