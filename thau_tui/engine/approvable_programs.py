"""The programs an approval by name may cover: a list of what is known to be safe, not a list
of what is known to be dangerous.

Until 2026-12-08 any program was approvable by name unless a table said it ran other code
(never_approved.py). Every attacker review found more launchers the tables lacked, and on
one machine 1,224 of its 1,479 programs on PATH were approvable, `watchfiles` (a thau
dependency: `watchfiles 'touch PWNED' .` runs its argument), `dotenv run`, `typer app.py`,
`isympy`, `torchrun` and `pyenv-exec` among them. Now `a` and `A` cover a program only when it
is listed here: programs that read, search, compare, transform or move the data they are
given and run nothing from it. The options that would make one of them run other code are
still refused by code_running.py (`find -exec`, git `-c`, `tar --to-command`, ...). Any other
program is allowed once per call: the card says so, and no approval is remembered for it,
unless config.yaml's `tools.shell.approvable_by_name` adds it (`set_added` leaves out the
interpreters, launchers and workspace runners thau knows, and says so).

A name is matched as typed (its folder left out, in lower case), or without a version
(`gcc-12`) or a cross toolchain's target (`x86_64-linux-gnu-gcc`); never by a prefix
(`cat-server` is not cat).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .code_running import is_never_approved, workspace_code
from .program_names import CROSS_PREFIX

APPROVABLE_BY_NAME = frozenset(
    # bash builtins that run nothing they are given (printf -v, test -v, wait -p and history's
    # file options are refused by code_running.py; cd's target is judged by git_repository.py)
    ": [ cd pushd popd dirs pwd echo printf test true false type help times history jobs wait".split()
    # look at files and folders
    + "ls dir vdir tree cat tac head tail less more nl od hexdump hd xxd strings file stat du df wc".split()
    + "realpath readlink basename dirname pathchk cmp diff diff3 sdiff comm".split()
    + "md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum cksum sum shasum".split()
    # search
    + "grep egrep fgrep rg fd fdfind find locate which whereis".split()
    # transform text onto standard output
    + "cut paste join sort uniq tr fold fmt pr column expand unexpand rev shuf seq tsort".split()
    + "jq yq iconv base64 base32 basenc expr factor numfmt bc sleep yes".split()
    # about the machine
    + "date cal whoami id groups uname arch hostname uptime nproc free ps pgrep pidof printenv".split()
    + "locale tty getconf lscpu lsblk lsmem".split()
    # make, copy, move and remove what the command names (in the sandbox: the workspace only;
    # destructive.py asks before the forms that destroy work)
    + "mkdir rmdir touch cp mv rm ln chmod truncate tee install split csplit dd mktemp".split()
    # archives and compression (extraction and the writing modes are refused by code_running.py)
    + "tar bsdtar zip unzip bsdunzip gzip gunzip zcat bzip2 bunzip2 bzcat xz unxz xzcat lzma".split()
    + "zstd unzstd zstdcat lz4 brotli 7z 7za 7zr 7zz unrar cpio bsdcpio pax ar jar".split()
    # compilers and binary tools: they build or read what they are given (plugins, wrappers
    # and spec files are refused by code_running.py)
    + "gcc g++ cc c++ c89 c99 c89-gcc c99-gcc clang clang++ cpp gfortran gccgo".split()
    + "as ld nm objdump objcopy readelf size strip ranlib addr2line c++filt".split()
    # linters, formatters and counters that load no code from the project (diff review of 2026-12-08)
    + "ruff black shellcheck cloc tokei lsb_release".split()
    # fetch and copy over the network (-K, -e, --rsh and the like are refused)
    + "curl wget rsync scp".split()
    # manuals (their pager and config options are refused)
    + "man info".split()
    # git: each subcommand is approved on its own, and the ones that run hooks, aliases or
    # the repository's programs are refused (code_running.py, git_repository.py)
    + ["git"]
)

# Programs an approval by name covers only for some of their arguments, judged in
# shell_command.py: sed whose whole script prints, deletes or substitutes.
BY_SCRIPT = frozenset({"sed"})

# A trailing version (gcc-12, clang-17)
_VERSION = re.compile(r"-[0-9][0-9.]*$")

# What config.yaml's tools.shell.approvable_by_name adds: the configuration is the process's.
_added: frozenset[str] = frozenset()


def set_added(names: Iterable[str]) -> list[str]:
    """The programs the configuration adds to the list, in place of those it added before
    (called when config.yaml is read, and read again after an edit). Returns what is wrong
    with the names it leaves out: an interpreter or launcher, or a program that runs the
    workspace's files, which no configuration makes approvable by name."""
    global _added
    kept, problems = [], []
    for name in names:
        why = ("it runs whatever code it is given" if is_never_approved(name) else None) or workspace_code(name)
        if why is None:
            kept.append(name.lower())
        else:
            problems.append(f"tools.shell.approvable_by_name: {name} left out ({why}: thau never allows it by name)")
    _added = frozenset(kept)
    return problems


def approvable_by_name(program: str) -> bool:
    """Whether an approval by name may cover `program` (a name or a path as typed)."""
    name = program.rsplit("/", 1)[-1].lower()
    unversioned = _VERSION.sub("", name)
    forms = (name, unversioned, CROSS_PREFIX.sub("", name), CROSS_PREFIX.sub("", unversioned))
    return any(form in APPROVABLE_BY_NAME or form in _added for form in forms)


def may_hold(program: str) -> bool:
    """Whether a remembered approval of `program` (as approvals name it: `git status`) can
    cover any command now: on the list, or covered for some of its scripts (`BY_SCRIPT`)."""
    name = program.split(" ", 1)[0]
    return approvable_by_name(name) or name in BY_SCRIPT
