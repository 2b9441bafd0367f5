"""Who may run what without asking: config policy, remembered approvals, risk defaults.

The order is fixed and deliberate: the user's config policy for a tool wins
(a `deny` there can never be overridden by a remembered "always"); then an
approval the user gave earlier (this session, or always); then the tool's risk
(read runs, write and exec ask).

For the shell, an approval covers a *program*, not the tool: allowing `ls` for
the session must not allow `ls && rm -rf x`, so a command is only covered when
every program in it (pipelines, `&&`, `||`, `;`, `&`, new lines) is approved,
and a command whose programs cannot be told for sure (command substitution,
subshells, unbalanced quotes) is never covered.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from ..tools.base import ToolCall
from .events import Decision

log = logging.getLogger(__name__)

Verdict = Literal["auto", "ask", "deny"]
Scope = Literal["session", "always"]

# Tools whose remembered approvals are per program rather than per tool.
PROGRAM_SCOPED_TOOLS = {"run_shell": "command"}

_FILE_VERSION = 1
_PUNCTUATION = set("();<>|&\n")
_RESERVED = {
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac",
    "in", "select", "function", "time", "coproc", "{", "}", "!", "[[", "]]",
}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Constructs that run code the first word does not name: never covered by an approval.
_OPAQUE = ("$(", "`", "<(", ">(")


@dataclass(frozen=True)
class RememberedApproval:
    """One approval the user gave with `a` (this session) or `A` (always)."""

    scope: Scope
    tool: str
    program: str | None = None
    session_id: str | None = None
    created: float = field(default_factory=time.time, compare=False)

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.tool, self.program, self.session_id if self.scope == "session" else None)


def _words(command: str) -> list[str] | None:
    """Shell words with separators as their own tokens; None when it cannot be tokenised."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace = " \t\r"  # a new line separates commands, so it is punctuation here
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes
        return None


def programs_of(command: str) -> list[str] | None:
    """Every program a shell command runs, in order; None when that cannot be told safely.

    `FOO=1 ls -l | grep x && make` -> ["ls", "grep", "make"]. Command
    substitution, process substitution and subshells make it None, so an
    approval never covers code hidden inside an argument.
    """
    if any(marker in command for marker in _OPAQUE):
        return None
    words = _words(command)
    if words is None:
        return None
    programs: list[str] = []
    expect_program = True
    skip_next = False  # the target word of a redirection
    for word in words:
        if skip_next:
            skip_next = False
            continue
        if set(word) <= _PUNCTUATION:
            if "(" in word or ")" in word:
                return None  # a subshell: its programs are not checked here
            if "<" in word or ">" in word:
                skip_next = True  # `> file`, `2>&1`, `< file`: the next word is a target, not a program
            else:
                expect_program = True  # |, &&, ||, ;, &, new line and runs of them
            continue
        if not expect_program:
            continue
        if _ASSIGNMENT.match(word):
            continue  # VAR=value prefix
        if word in _RESERVED:
            return None  # if/then/for/...: a compound command hides where programs start
        if any(char in word for char in "$*?["):
            return None  # `$CMD`, globs: the program is only known when the shell expands it
        programs.append(word)
        expect_program = False
    return programs


def program_of(command: str) -> str:
    """The program a shell command runs: its first word, skipping VAR=value prefixes.

    Returns "" for an empty command. For a chain, this is the first program
    only; `programs_of` lists them all (that is what approvals check).
    """
    programs = programs_of(command)
    if programs:
        return programs[0]
    words = _words(command) or command.split()
    for word in words:
        if not _ASSIGNMENT.match(word) and not set(word) <= _PUNCTUATION:
            return word
    return ""


def _programs_for(call: ToolCall) -> list[str] | None:
    """The programs a program-scoped call runs ([] = not program-scoped, None = unknowable)."""
    argument = PROGRAM_SCOPED_TOOLS.get(call.name)
    if argument is None:
        return []
    command = call.arguments.get(argument) if isinstance(call.arguments, dict) else None
    if not isinstance(command, str):
        return None
    programs = programs_of(command)
    return programs if programs else None


def describe_session_scope(call: ToolCall) -> str:
    """What `a` (allow for the session) would cover, in words for the card's footer."""
    programs = _programs_for(call)
    if programs is None:
        return "this call only (its programs cannot be told apart)"
    if programs:
        return f"{call.name}: " + ", ".join(dict.fromkeys(programs))
    return call.name


class ApprovalBook:
    """The approvals thau remembers, and the decision for each call.

    `path` is the approvals file (thau_tui.paths.approvals_path()); None keeps
    everything in memory. A broken file is reported in `load_error` and left
    untouched until the next `remember(..., "always")` rewrites it (the broken
    copy is kept beside it as approvals.json.broken).
    """

    def __init__(self, path: Path | None, policy: dict[str, str] | None = None) -> None:
        self.path = path
        self._policy: dict[str, str] = {}
        self._session: dict[tuple, RememberedApproval] = {}
        self._always: dict[tuple, RememberedApproval] = {}
        self._lock = threading.Lock()
        self.load_error: str | None = None
        self.set_policy(policy or {})
        self._load()

    # -- policy ------------------------------------------------------------

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

    def decide(self, call: ToolCall, risk: str, session_id: str | None) -> Verdict:
        """auto (run now), ask (show the card) or deny (refuse without asking)."""
        with self._lock:
            policy = self._policy.get(call.name)
            if policy in ("auto", "ask", "deny"):
                return policy  # type: ignore[return-value]
            if self._remembered(call, session_id):
                return "auto"
        return "auto" if risk == "read" else "ask"

    def auto_approves(self, call: ToolCall, risk: str, session_id: str | None) -> bool:
        """True when `call` runs without asking."""
        return self.decide(call, risk, session_id) == "auto"

    def _covered(self, tool: str, program: str | None, session_id: str | None) -> bool:
        if (tool, program, None) in self._always:
            return True
        return session_id is not None and (tool, program, session_id) in self._session

    def _remembered(self, call: ToolCall, session_id: str | None) -> bool:
        programs = _programs_for(call)
        if programs is None:
            return False
        if not programs:
            return self._covered(call.name, None, session_id)
        return all(self._covered(call.name, program, session_id) for program in programs)

    # -- remembering -------------------------------------------------------

    def remember(
        self, call: ToolCall, risk: str, decision: Decision, session_id: str | None
    ) -> list[RememberedApproval]:
        """Keep a `session` or `always` decision; other kinds are not remembered.

        Returns the entries added. A shell command adds one entry per program;
        one whose programs cannot be told adds none (it was allowed once).
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
        with self._lock:
            for program in targets:
                if decision.kind == "session":
                    entry = RememberedApproval("session", call.name, program, session_id)
                    book = self._session
                else:
                    entry = RememberedApproval("always", call.name, program, None)
                    book = self._always
                if entry.key not in book:
                    book[entry.key] = entry
                    added.append(entry)
            if decision.kind == "always" and added:
                self._save()
        return added

    def entries(self) -> list[RememberedApproval]:
        """Every remembered approval, "always" first, then this process's sessions."""
        with self._lock:
            return list(self._always.values()) + list(self._session.values())

    def revoke(self, entry: RememberedApproval) -> None:
        """Forget one approval; an "always" one is removed from the file too."""
        with self._lock:
            if entry.scope == "always":
                if self._always.pop(entry.key, None) is not None:
                    self._save()
            else:
                self._session.pop(entry.key, None)

    # -- the file ----------------------------------------------------------

    def _load(self) -> None:
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
                entry = RememberedApproval(
                    "always",
                    row["tool"],
                    program if isinstance(program, str) else None,
                    None,
                    float(row.get("created", 0.0)),
                )
                self._always[entry.key] = entry
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._always.clear()
            self.load_error = (
                f"{self.path} could not be read ({exc}); starting with no remembered approvals. "
                "Fix or delete the file; the next 'always' approval replaces it."
            )
            log.warning(self.load_error)

    def _save(self) -> None:
        """Write the "always" approvals atomically (temp file + rename). Caller holds the lock."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.load_error is not None and self.path.exists():
            os.replace(self.path, self.path.with_name(self.path.name + ".broken"))
            self.load_error = None
        rows = [
            {k: v for k, v in asdict(entry).items() if k not in ("scope", "session_id")}
            for entry in self._always.values()
        ]
        payload = json.dumps({"version": _FILE_VERSION, "approvals": rows}, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".approvals-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
