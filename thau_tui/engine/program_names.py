"""The names a program is judged by in the approval tables (code_running.py): its own, its
name without a version, variant or cross toolchain's target, the file it resolves to on
PATH, and the listed name that file has (`identities`)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil

from .never_approved import NEVER_APPROVED, WORKSPACE_RUNNERS

_VERSION_SUFFIX = re.compile(r"[0-9][0-9._-]*$")

# Programs that act as the name they are run by (busybox ls is ls): judged by that name.
_MULTI_CALL = frozenset({"busybox", "toybox", "coreutils"})
# A cross toolchain's target in front of a tool's name: x86_64-linux-gnu-gcc, arm-none-eabi-nm.
CROSS_PREFIX = re.compile(
    r"^(?:x86_64|amd64|i[3-6]86|aarch64|arm\w*|riscv\d+|powerpc\w*|ppc\w*|mips\w*|s390x|loongarch64|sparc\w*|m68k|avr)"
    r"(?:-[a-z0-9_]+){1,3}-(?=[a-z+]+$)"
)


def identities(program: str) -> list[str]:
    """The names `program` is judged by, in lower case: its own; without a version
    (python3.12, perl5.36-x86_64-linux-gnu), a variant (vim.basic) or a cross-compiler's
    target (x86_64-linux-gnu-gcc, c++ kept whole); the name of the file it resolves to here
    (editor -> vim.basic); and the listed name whose file it is (fakeroot-sysv, which
    /usr/bin/fakeroot resolves to, is fakeroot)."""
    name = program.rsplit("/", 1)[-1].lower()
    names = [name]
    found = shutil.which(program)
    real = os.path.basename(os.path.realpath(found)).lower() if found else ""
    if real and real not in _MULTI_CALL:
        names.append(real)
    out: list[str] = []
    for each in names:
        cut = _FROM_A_DIGIT.sub("", each).rstrip("-_.")
        for variant in (each, _VERSION_SUFFIX.sub("", each).rstrip("-_."), each.split(".", 1)[0], cut):
            for form in (variant, CROSS_PREFIX.sub("", variant)):
                if form and form not in out:
                    out.append(form)
    listed = _listed_by_file().get(real)
    return out + [listed] if listed and listed not in out else out


_FROM_A_DIGIT = re.compile(r"[0-9].*$")
_BY_FILE: tuple[object, dict[str, str]] = (None, {})


def _listed_by_file() -> dict[str, str]:
    """The file each NEVER_APPROVED or WORKSPACE_RUNNERS name resolves to on PATH, where it
    has a longer name of its own (the alternatives system's fakeroot -> fakeroot-sysv), to
    that name.
    Kept while PATH and its folders stay the same (a folder's mtime moves when a name is
    added to it or taken away)."""
    global _BY_FILE
    search = os.environ.get("PATH", "")
    stamps = []
    for folder in search.split(os.pathsep):
        with contextlib.suppress(OSError):
            stamps.append(os.stat(folder).st_mtime_ns)
    key = (search, tuple(stamps))
    if _BY_FILE[0] != key:
        found: dict[str, str] = {}
        for listed in sorted({*NEVER_APPROVED, *WORKSPACE_RUNNERS}):
            where = shutil.which(listed)
            real = os.path.basename(os.path.realpath(where)).lower() if where else ""
            # the same program by a longer name (fakeroot-sysv), never what a generic alternative
            # points at (pager -> less is less, with its own rules)
            if real != listed and real.startswith(listed) and real not in _MULTI_CALL:
                found.setdefault(real, listed)
        _BY_FILE = (key, found)
    return _BY_FILE[1]
