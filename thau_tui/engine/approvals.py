"""Who may run what without asking: config policy, remembered approvals, risk defaults.

The order is fixed and deliberate: the user's config policy for a tool wins
(a `deny` there can never be overridden by a remembered "always"); then an
approval the user gave earlier (this session, or always); then the tool's risk
(read runs, write and exec ask).

For the shell, an approval covers a *program*, not the tool: allowing `ls` for
the session must not allow `ls && rm -rf x`. For git it covers the subcommand:
allowing `git status` does not allow `git clean -fdx`. Which programs a command runs, and
whether an approval may cover it at all, is engine/shell_command.py's job.
Two things a name alone does not show are checked too: an approval binds to where
the program was found on PATH when the user gave it (an `ls` planted earlier on
PATH later asks), and once a command that may change the persistent shell (a
function, alias, PATH or PROMPT_COMMAND: `shell_state_change`) has run in a
session, that session's shell commands ask again until its shell restarts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from ..paths import locked_for_update, replace_file
from ..tools.base import ToolCall
from .events import Decision
from .git_repository import RepositoriesSeen
from .shell_command import (  # noqa: F401  (re-exported: the card and tests read them here)
    NEVER_APPROVED,
    ShellCoverage,
    analyse_shell_command,
    is_git,
    is_never_approved,
    path_in_workspace,
    program_location,
    program_of,
    programs_of,
    shell_state_change,
)

log = logging.getLogger(__name__)

Verdict = Literal["auto", "ask", "deny"]
Scope = Literal["session", "always"]

# Tools whose remembered approvals are per program rather than per tool.
PROGRAM_SCOPED_TOOLS = {"run_shell": "command"}

_FILE_VERSION = 1

ApprovalKey = tuple[str, str | None, str | None]  # tool, program, session (None: always)


@dataclass(frozen=True)
class RememberedApproval:
    """One approval the user gave with `a` (this session) or `A` (always)."""

    scope: Scope
    tool: str
    program: str | None = None
    session_id: str | None = None
    created: float = field(default_factory=time.time, compare=False)
    # Where the program was found when the user approved it (shell_command.program_location);
    # None for a tool approval or an entry from an older approvals file (not checked).
    where: str | None = field(default=None, compare=False)

    @property
    def key(self) -> ApprovalKey:
        return (self.tool, self.program, self.session_id if self.scope == "session" else None)


# Tools whose arguments are code, or which run the workspace's tests: like an interpreter or a
# workspace runner in the shell, no approval by name covers them (`a` on print(1) allowed any
# later code: fifth attacker review). tools.policy may still let one run without asking.
CODE_TOOLS = {
    "run_python": "it runs whatever code it is given",
    "debug_code": "it runs whatever code it is given",
    "run_tests": "it runs the tests as they are then, which a tool can rewrite",
}


def _coverage_for(call: ToolCall) -> ShellCoverage:
    """The programs a program-scoped call runs ([] = not program-scoped, None = not coverable)."""
    if call.name in CODE_TOOLS:
        return ShellCoverage(None, CODE_TOOLS[call.name])
    argument = PROGRAM_SCOPED_TOOLS.get(call.name)
    if argument is None:
        return ShellCoverage([])
    command = call.arguments.get(argument) if isinstance(call.arguments, dict) else None
    if not isinstance(command, str):
        return ShellCoverage(None, f"no {argument} to read")
    return analyse_shell_command(command)


def _programs_for(call: ToolCall) -> list[str] | None:
    return _coverage_for(call).programs


def describe_session_scope(call: ToolCall) -> str:
    """What `a` (allow for this chat) would cover, in words for the card's footer."""
    coverage = _coverage_for(call)
    if coverage.programs is None:
        return f"this call only (once: {coverage.reason})"
    if coverage.programs:
        return f"{call.name}: " + ", ".join(dict.fromkeys(coverage.programs))
    return call.name


def _holds_at(entry: RememberedApproval, here: str) -> bool:
    """Whether `entry` covers its program found at `here` (program_location): where it was
    approved, or anywhere for an entry from an older file; never at a "?" place (where it
    cannot be told, or in the workspace)."""
    return not here.startswith("?") and (entry.where is None or entry.where == here)


class ApprovalBook:
    """The approvals thau remembers, and the decision for each call.

    `path` is the approvals file (thau_tui.paths.approvals_path()); None keeps
    everything in memory. A broken file is reported in `load_error` and left
    untouched until the next `remember(..., "always")` rewrites it (the broken
    copy is kept beside it as approvals.json.broken, or .broken.2, ... when that is taken).
    """

    def __init__(self, path: Path | None, policy: dict[str, str] | None = None) -> None:
        self.path = path
        self._policy: dict[str, str] = {}
        self._session: dict[ApprovalKey, RememberedApproval] = {}
        self._always: dict[ApprovalKey, RememberedApproval] = {}
        self._shell_changed: dict[str | None, str] = {}  # session -> the command that changed its shell
        self._repositories = RepositoriesSeen()  # each workspace's, as first seen
        self._lock = threading.Lock()
        self.load_error: str | None = None
        self._stamp: tuple[int, int, int] | None = None  # the file as last read or written
        self.set_policy(policy or {})
        self._load()

    # -- policy ------------------------------------------------------------

    def _policy_for(self, tool: str) -> str | None:
        """The tool's own tools.policy entry, else the "*" entry (every tool not named): a
        config.yaml thau cannot read falls back to {"*": "ask"}, so nothing runs unasked."""
        star = self._policy.get("*")  # asks or denies, never approves all (interpreters, new MCP tools)
        return self._policy.get(tool, star if star != "auto" else None)

    @property
    def policy(self) -> dict[str, str]:
        """The config's per-tool policy (tools.policy in config.yaml)."""
        return dict(self._policy)

    def set_policy(self, policy: dict[str, str]) -> None:
        """Replace the per-tool policy (called again when config.yaml changes)."""
        bad = {tool: value for tool, value in policy.items() if value not in ("ask", "auto", "deny")}
        if bad:
            raise ValueError(
                "tools.policy values must be ask, auto or deny; fix "
                + ", ".join(f"{tool}: {value!r}" for tool, value in bad.items())
            )
        with self._lock:
            self._policy = dict(policy)

    # -- deciding ----------------------------------------------------------

    def decide(
        self,
        call: ToolCall,
        risk: str,
        session_id: str | None,
        workspace: Path | None = None,
        shell_folder: str | None = None,
    ) -> Verdict:
        """auto (run now), ask (show the card) or deny (refuse without asking). `workspace`:
        the tools' workspace, for where a program is found (program_location); `shell_folder`:
        where the chat's shell is now, for which repository git reads (git_repository_risk)."""
        with self._lock:
            if workspace is not None:  # the workspace's repositories before any call of this chat ran
                self._repositories.note(workspace.resolve())
            policy = self._policy_for(call.name)
            if policy in ("auto", "ask", "deny"):
                return policy  # type: ignore[return-value]
            self._sync()
            if self._remembered(call, session_id, workspace, shell_folder):
                return "auto"
        return "auto" if risk == "read" else "ask"

    def allowed_by(self, call: ToolCall, risk: str) -> str | None:
        """Why `call`, which `decide` let run without asking, did: for its card, so a write or
        a command that ran unasked never looks like one the user just allowed. None for a
        tool that only reads."""
        if risk == "read":
            return None
        if self._policy_for(call.name) == "auto":
            return "tools.policy in config.yaml"
        keys: list[ApprovalKey] = [(call.name, program, None) for program in _programs_for(call) or ()]
        with self._lock:
            always = all(key in self._always for key in keys or [(call.name, None, None)])
        return "always allowed" if always else "allowed for this chat"

    def auto_approves(
        self,
        call: ToolCall,
        risk: str,
        session_id: str | None,
        workspace: Path | None = None,
        shell_folder: str | None = None,
    ) -> bool:
        """True when `call` runs without asking."""
        return self.decide(call, risk, session_id, workspace, shell_folder) == "auto"

    def _covered(self, tool: str, program: str | None, session_id: str | None, workspace: Path | None) -> bool:
        entries = [self._always.get((tool, program, None))]
        if session_id is not None:
            entries.append(self._session.get((tool, program, session_id)))
        found = [entry for entry in entries if entry is not None]
        if program is None or not found:
            return bool(found)
        here = program_location(program, workspace=workspace)
        return any(_holds_at(entry, here) for entry in found)

    def _remembered(
        self, call: ToolCall, session_id: str | None, workspace: Path | None, shell_folder: str | None
    ) -> bool:
        programs = _programs_for(call)
        if programs is None:
            return False
        if not programs:
            return self._covered(call.name, None, session_id, workspace)
        if session_id in self._shell_changed or self._held_back(programs, workspace, shell_folder):
            return False
        return all(self._covered(call.name, program, session_id, workspace) for program in programs)

    def _held_back(self, programs: list[str], workspace: Path | None, shell_folder: str | None) -> str | None:
        """Why no remembered approval of `programs` holds here, whatever it says: PATH looks
        in the workspace, or git would read a repository a tool could write. One check for
        deciding, for the card's "asks again" and for its "does not hold here"."""
        why = path_in_workspace(workspace) if workspace is not None else None
        if why is None and any(map(is_git, programs)):
            why = self._git_risk(shell_folder, workspace)
        return why

    def _git_risk(self, shell_folder: str | None, workspace: Path | None) -> str | None:
        """git_repository_risk, trusting only the repositories the book first saw in the
        workspace (before any tool of this process ran: every call is decided)."""
        return None if workspace is None else self._repositories.risk(shell_folder, workspace.resolve())

    def why_not_held(
        self, call: ToolCall, session_id: str | None, workspace: Path | None, shell_folder: str | None = None
    ) -> str | None:
        """Why `a` or `A` on this call's card would not hold for the next such call, from the
        checks `decide` makes: the configuration asks each time, PATH looks in the workspace,
        git would read a repository a tool can write, or a program runs from where no approval
        by name holds. None when it would hold (or the card already says why not: a changed
        shell, a call only allowed once)."""
        if self._policy_for(call.name) == "ask":
            return f"the configuration asks before every {call.name} call (tools.policy)"
        programs = _programs_for(call) if call.name in PROGRAM_SCOPED_TOOLS else None
        if not programs or session_id in self._shell_changed:
            return None
        with self._lock:
            why = self._held_back(programs, workspace, shell_folder)
            for program in programs if why is None else ():
                here = program_location(program, workspace=workspace)
                if here.startswith("?"):
                    why = here[1:]
                    break
        return None if why is None else f"an approval for this chat or always does not hold here: {why}"

    def why_asking_again(
        self,
        call: ToolCall,
        session_id: str | None,
        workspace: Path | None = None,
        shell_folder: str | None = None,
    ) -> str | None:
        """What the card should say besides the call: that an earlier command changed this
        chat's shell (for every shell call then, remembered or not: `ls` may be an alias now),
        or why a call that a remembered approval would cover asks anyway; None otherwise."""
        if call.name not in PROGRAM_SCOPED_TOOLS:
            return None
        with self._lock:
            changed = self._shell_changed.get(session_id)
            if changed is not None and str((call.arguments or {}).get("command", "")).strip() == "exit":
                return f"an earlier command changed this chat's shell ({changed}); exit starts a fresh one"
            if changed is not None:
                # said as something to do: the user cannot type into that shell (skeptic review)
                return (
                    f"an earlier command changed this chat's shell ({changed}), so this may run more "
                    "than it shows, and approvals for this chat ask again; ask for `exit` (a fresh "
                    "shell) or start a new chat (Ctrl+N) to have them back"
                )
            if self._policy_for(call.name) is not None:
                return None
            programs = _programs_for(call)
            if not programs:
                return None
            self._sync()
            found: dict[str, list[RememberedApproval]] = {}
            for program in dict.fromkeys(programs):
                for key in ((call.name, program, None), (call.name, program, session_id)):
                    entry = self._always.get(key) or self._session.get(key)
                    if entry is not None:
                        found.setdefault(program, []).append(entry)
            if len(found) < len(set(programs)):
                return None
            if (held_back := self._held_back(programs, workspace, shell_folder)) is not None:
                return f"asks again: {held_back}"
            for program, entries in found.items():
                here = program_location(program, workspace=workspace)
                if any(_holds_at(entry, here) for entry in entries):
                    continue
                if here.startswith("?"):
                    return f"asks again: no approval by name holds for `{program}` now ({here[1:]})"
                return (
                    f"asks again: `{program}` is {here or 'nowhere on PATH'} now, "
                    f"{entries[0].where or 'nowhere on PATH'} when it was allowed"
                )
        return None

    # -- the shell's state -------------------------------------------------

    def shell_ran(self, call: ToolCall, session_id: str | None, *, fresh: bool, exited: bool) -> None:
        """After a program-scoped call ran in `session_id`'s shell: if it may have changed that
        shell (shell_state_change), remembered approvals stop covering its commands until the
        shell restarts. `fresh`: the shell had just been started for this call; `exited`: the
        shell ended with it (the next call starts a clean one)."""
        argument = PROGRAM_SCOPED_TOOLS.get(call.name)
        if argument is None:
            return
        command = call.arguments.get(argument) if isinstance(call.arguments, dict) else None
        with self._lock:
            if fresh or exited:
                self._shell_changed.pop(session_id, None)
            if exited:
                return
            reason = shell_state_change(command) if isinstance(command, str) else "it could not be read"
            if reason is not None:
                self._shell_changed.setdefault(session_id, reason)

    # -- remembering -------------------------------------------------------

    def remember(
        self, call: ToolCall, risk: str, decision: Decision, session_id: str | None, workspace: Path | None = None
    ) -> list[RememberedApproval]:
        """Keep a `session` or `always` decision; other kinds are not remembered.

        Returns the entries added. A shell command adds one entry per program;
        one that is not coverable (an interpreter, an expansion...: see the
        module docstring) adds none, so it was allowed once only.
        `risk` is accepted for symmetry with decide() and future per-risk rules.
        """
        if decision.kind not in ("session", "always"):
            return []
        if decision.kind == "session" and session_id is None:
            return []
        programs = _programs_for(call)
        if programs is None:
            return []
        targets: list[str | None] = list(dict.fromkeys(programs)) if programs else [None]
        added = []
        with self._lock, self._updating(decision.kind == "always"):
            self._sync()  # another thau window may have added or revoked one since
            for program in targets:
                where = program_location(program, workspace=workspace) if program is not None else None
                if decision.kind == "session":
                    entry = RememberedApproval("session", call.name, program, session_id, where=where)
                    book = self._session
                else:
                    entry = RememberedApproval("always", call.name, program, None, where=where)
                    book = self._always
                old = book.get(entry.key)
                if old is None or old.where != where:  # approved again where it is now
                    book[entry.key] = entry
                    added.append(entry)
            if decision.kind == "always" and added:
                self._save()
        return added

    def entries(self) -> list[RememberedApproval]:
        """Every remembered approval, "always" first, then this process's sessions."""
        with self._lock:
            self._sync()
            return list(self._always.values()) + list(self._session.values())

    def revoke(self, entry: RememberedApproval) -> None:
        """Forget one approval; an "always" one is removed from the file too."""
        with self._lock, self._updating(entry.scope == "always"):
            if entry.scope == "always":
                self._sync()
                if self._always.pop(entry.key, None) is not None:
                    self._save()
            else:
                self._session.pop(entry.key, None)

    # -- the file ----------------------------------------------------------

    def _updating(self, writes: bool) -> contextlib.AbstractContextManager[None]:
        """The file's lock from before reading it to after writing it back, when this change
        writes it: another thau window's write in between would otherwise be lost (a revoked
        approval written back, an added one dropped)."""
        if writes and self.path is not None:
            return locked_for_update(self.path)
        return contextlib.nullcontext()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size) if info is not None else None

    def _sync(self) -> None:
        """Read the file again when another thau window has changed it since (caller holds the
        lock): a revoked "always" approval stops covering calls here too, and this window's
        next save does not write it back."""
        if self.path is not None and self._file_stamp() != self._stamp:
            self._always.clear()
            self.load_error = None
            self._load()

    def _load(self) -> None:
        self._stamp = self._file_stamp()  # before reading: a change made meanwhile is read next time
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data["approvals"] if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise ValueError('expected {"version": 1, "approvals": [...]}')
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("tool"), str):
                    raise ValueError(f"each approval needs a 'tool' name (got {row!r})")
                program = row.get("program")
                where = row.get("where")
                entry = RememberedApproval(
                    "always",
                    row["tool"],
                    program if isinstance(program, str) else None,
                    None,
                    float(row.get("created", 0.0)),
                    where if isinstance(where, str) else None,
                )
                self._always[entry.key] = entry
        except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            self._always.clear()
            self.load_error = (
                f"{self.path} could not be read ({exc}); starting with no remembered approvals. "
                "Fix or delete the file; the next 'always' approval replaces it."
            )
            log.warning(self.load_error)

    def _keep_broken(self) -> None:
        """Keep the unreadable file beside it before it is replaced, under a name not taken
        yet (approvals.json.broken, then .broken.2, .broken.3, ...): moving it onto one fixed
        name overwrote the copy of an earlier breakage, approvals kept by hand in it too."""
        assert self.path is not None
        for number in itertools.count(1):
            copy = self.path.with_name(self.path.name + ".broken" + (f".{number}" if number > 1 else ""))
            try:
                os.link(self.path, copy)  # never replaces an existing name; the rewrite below unlinks the old
                return
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links: copy, again never onto a name taken
                try:
                    with open(copy, "xb") as out:
                        out.write(self.path.read_bytes())
                    return
                except FileExistsError:
                    continue

    def _save(self) -> None:
        """Write the "always" approvals atomically (temp file + rename). Caller holds the lock."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.load_error is not None and self.path.exists():
            self._keep_broken()
            self.load_error = None
        rows = [
            {k: v for k, v in asdict(entry).items() if k not in ("scope", "session_id")}
            for entry in self._always.values()
        ]
        payload = json.dumps({"version": _FILE_VERSION, "approvals": rows}, indent=2)
        replace_file(self.path, payload + "\n")
        self._stamp = self._file_stamp()
