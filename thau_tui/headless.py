"""`thau --message`: one answer without the TUI, streamed to stdout; tool cards, questions
and errors on stderr. Split out of cli.py, which imports `run_message` from here.

How it ends (`thau --help` says the same): 0 answered; 1 an error during the answer; 2 it
could not start (cli.py); 3 a tool call was refused, by tools.policy or for want of an
approval; 130 Ctrl+C; 143 SIGTERM; 141 whoever read stdout stopped reading (`thau -m ... | head`), the
code a shell gives a program SIGPIPE stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from .config import Config, ConfigResult
    from .engine.agent import Agent
    from .engine.events import Decision, Event
    from .engine.session import ChatSession
    from .engine.store import Store
    from .tools.base import ToolCall

REFUSED_EXIT = 3  # a tool call was refused: the action it asked for never ran
INTERRUPTED_EXIT = 130  # 128 + SIGINT
PIPE_CLOSED_EXIT = 141  # 128 + SIGPIPE
TERMINATED_EXIT = 143  # 128 + SIGTERM
NO_ONE_TO_ASK = "no one is there to answer (thau -m without a terminal); answer without asking"
STAR_ENTRY = '"*"'  # tools.policy's entry for every tool not named, as written in config.yaml


def policy_entry(policy: dict[str, str], tool: str) -> tuple[str | None, str | None]:
    """(the key of the tools.policy entry that applies to `tool`, its value): the tool's
    own, else `"*"`; (None, None) when neither is there."""
    if tool in policy:
        return tool, policy[tool]
    if "*" in policy:
        return STAR_ENTRY, policy["*"]
    return None, None


def decide_unattended(call: ToolCall, policy: str | None, yes: bool, entry: str | None = None) -> Decision:
    """The answer `thau --message` gives to an approval request, with nobody to ask.

    `policy` is the tools.policy entry that applies to the tool (None when none does), and
    `entry` that entry's key (the tool's name unless given: `"*"` for every tool not named).
    An explicit policy is the user's standing rule, so `--yes` never overrides it: only
    tools left at the default are approved by `--yes`.
    """
    from .engine import events  # imported here: the engine loads only when a message runs

    if policy is not None:
        key = entry or call.name
        # "*" was reported as the tool's own entry, which the file did not have (docs review)
        every = " (every tool not named there)" if key == STAR_ENTRY else ""
        return events.Decision(
            "deny",
            by="config",
            reason=(
                f"tools.policy.{key} is {policy!r} in config.yaml{every}; --yes only approves tools without a policy"
            ),
        )
    if yes:
        return events.Decision("once", by="--yes")
    return events.Decision("deny", by="--message", reason="not approved: rerun with --yes to allow it")


def message_exit_code(failed: bool, refused: bool) -> int:
    """1 after an error, 3 when a tool call was refused (not approved, or denied by
    tools.policy), else 0."""
    if failed:
        return 1
    return REFUSED_EXIT if refused else 0


class _BestEffort(io.TextIOBase):
    """stderr, written when it can be: closed (`2>&-`) or gone (`2> >(head -c 10)`), it ended
    the run with 1 and the answer never reached stdout (headless review)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if self.stream is not None:
            try:
                self.stream.write(text)
            except (OSError, ValueError):
                self.stream = None
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self.stream = None

    def isatty(self) -> bool:
        return _is_terminal(self.stream)


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def stderr_console() -> Console:
    """Rich on stderr. Not hard-wrapped when stderr is a file or a pipe: rich wrapped it at 80
    columns there, and a tool card was split inside its argument (headless review)."""
    from rich.console import Console

    return Console(file=_BestEffort(sys.stderr), soft_wrap=not _is_terminal(sys.stderr))


def run_message(args: argparse.Namespace) -> int:
    """One answer on stdout; tool cards, questions and errors on stderr."""
    try:
        return _run_message(args)
    except KeyboardInterrupt:  # while the model loads or the MCP servers start (headless review:
        # an httpx traceback against a server that never answered)
        print("thau: stopped (Ctrl+C)", file=sys.stderr)
        return INTERRUPTED_EXIT


def _run_message(args: argparse.Namespace) -> int:
    from rich.text import Text

    from .cli import _config, _fail
    from .config_load import say_errors
    from .engine import approvable_programs
    from .engine.agent import Agent
    from .engine.approvals import ApprovalBook
    from .engine.models import load_backend
    from .engine.store import Store, StoreError
    from .paths import approvals_path, database_path
    from .piped_input import PipedInputError, message_with_stdin
    from .tools import build_registry
    from .tools.mcp_client import start_mcp
    from .visible_text import visible

    if sys.stdout is None:  # `>&-`: an AttributeError traceback, and the answer was not saved (headless review)
        return _fail("stdout is closed, so the answer has nowhere to go: send it to a file or to /dev/null")
    err = stderr_console()
    result = _config(args)
    say_errors(err, result.errors)
    for title, notice in ignored_files(result):  # the chat's notices, one line each (docs review)
        err.print(Text.assemble((f"{title}:", "yellow"), f" {visible(notice)}"))
    if result.errors and args.yes:
        # A bad tools.policy entry is at its default now: --yes would approve a tool the user denied.
        return _fail(
            "--yes is refused while config.yaml has errors: a setting at its default could be a "
            "tools.policy denial that --yes would then approve. Fix config.yaml, or run without --yes"
        )
    config = result.config
    if unknown := policy_typos(config):
        for line in unknown:
            err.print(Text.assemble(("config:", "yellow"), f" {visible(line)}"))
        if args.yes:  # `run-shell: deny` left run_shell unguarded, and --yes ran it (headless review)
            return _fail("--yes is refused while tools.policy names a tool that does not exist: fix the name")
    try:  # stdin before the model loads: one far too big is refused at once (long-chat review)
        message, piped = message_with_stdin(
            args.message,
            sys.stdin,
            config.model.n_ctx,
            lambda line: err.print(Text.assemble(("stdin:", "yellow"), f" {line}")),
        )
    except PipedInputError as exc:
        return _fail(str(exc))
    try:  # before the model loads: an unwritable data dir or a full disk is said at once
        store = Store(database_path())
        approvals = ApprovalBook(approvals_path(), config.tools.policy)
        for problem in approvable_programs.set_added(config.tools.shell.approvable_by_name):
            err.print(Text.assemble(("config.yaml:", "yellow"), f" {problem}"))
    except (StoreError, OSError) as exc:  # the messages name the folder and what to do
        return _fail(str(exc))
    try:
        with err.status("loading model…"):
            backend = load_backend(config)
    except Exception as exc:
        return _fail(str(exc))
    registry = build_registry()
    mcp = start_mcp(
        config,
        registry,
        lambda text, severity: err.print(
            f"mcp: {visible(text)}",
            style="dim" if severity == "information" else "yellow",
            markup=False,
            highlight=False,
        ),
    )
    try:
        mcp.wait_ready()  # one answer: its MCP tools are there from the start, or said to be missing
        agent = Agent(config, registry, approvals=approvals, store=store, backend=backend)
        answer = OneAnswer(agent, config, err, args.yes)
        answer.piped = piped
        try:
            session = _open_session(agent, store, args.resume, answer)
        except StoreError as exc:
            return _fail(exc.unsaved("the chat"))
        try:
            asyncio.run(answer.run(session, message))
        except KeyboardInterrupt:  # a second Ctrl+C, or a platform without loop signal handlers
            agent.cancel()
            answer.interrupted = True
        finally:
            session.close()
        return answer.exit_code()
    finally:
        mcp.stop()


def ignored_files(result: ConfigResult) -> list[tuple[str, str]]:
    """(title, why) for each file thau sees here and does not use, as the chat says them: a
    ./config.yaml when the default config was read, a plugin folder inside the workspace."""
    from .config_load import ignored_local_config
    from .tools.plugins import plugins_folder, plugins_in_workspace

    said = []
    if (local := ignored_local_config(result.path)) is not None:
        said.append(("config.yaml", local))
    folder = plugins_folder(result.config)
    with contextlib.suppress(OSError, RuntimeError):  # a folder thau may not look into (or a loop of links)
        if folder.is_dir() and (refused := plugins_in_workspace(folder, result.config)) is not None:
            said.append(("plugins", refused))
    return said


def policy_typos(config: Config) -> list[str]:
    """tools.policy entries that name no built-in tool, MCP server's tool or plugin file (a
    typo such as `run-shell: deny`), one line each with the nearest name."""
    from .tools import build_registry
    from .tools.plugins import plugins_folder

    folder = plugins_folder(config)
    policy = {name: rule for name, rule in config.tools.policy.items() if not (folder / f"{name}.py").is_file()}
    return build_registry().unknown_in_policy(policy, (server.name for server in config.mcp.servers))


def _open_session(agent: Agent, store: Store, resume: bool, answer: OneAnswer) -> ChatSession:
    """The chat to answer in: with --resume the last one (it was ignored, and the answer went
    to a new chat: headless review), else a new one."""
    last = store.last_session() if resume else None
    if last is not None and store.turn_state(last.id) in ("running", "other host"):
        # Answering there mixed two turns into one history: a card waiting in a window got a
        # false "did not run" result, and a streaming answer was read cut short (headless review).
        answer.said(("the last chat is answering in another thau window: a new one", "dim"))
        return agent.new_session()
    if last is not None:
        with contextlib.suppress(KeyError):  # deleted in a window meanwhile: a new chat
            session = agent.load_session(last.id)
            answer.said(("in the chat", "dim"), f" “{session.title}”")  # "in the chat list" read as words
            return session
    if resume:
        answer.said(("no chat to resume: a new one", "dim"))
    return agent.new_session()


class OneAnswer:
    """One turn's events written out, and how the turn ended (`exit_code`)."""

    def __init__(self, agent: Agent, config: Config, err: Console, yes: bool) -> None:
        self.agent, self.config, self.err, self.yes = agent, config, err, yes
        self.failed = self.refused = self.interrupted = self.terminated = self.pipe_closed = False
        self.out_failed = False  # stdout cannot be written (a full disk): the turn stops, exit 1
        self.line_open = False  # the answer's line on stdout is not ended: stderr starts a new one
        self.piped = 0  # characters of the message read from stdin (piped_input.py)

    def exit_code(self) -> int:
        """130 after Ctrl+C, 143 after SIGTERM, 141 when stdout was closed, else `message_exit_code`."""
        if self.interrupted:
            return INTERRUPTED_EXIT
        if self.terminated:
            return TERMINATED_EXIT
        if self.pipe_closed:
            return PIPE_CLOSED_EXIT
        return message_exit_code(self.failed, self.refused)

    def said(self, *parts: tuple[str, str] | str) -> None:
        """Print to stderr: the model's and the tools' words as text, never as markup, with
        their control characters shown (an OSC 52 in a result set the clipboard; '[conceal]'
        in an argument hid the rest of the command; a stray '[/bold]' ended the run)."""
        from rich.text import Text

        from .visible_text import visible

        if self.line_open:  # "part15 error: ..." read as one line (headless review)
            self.err.print()
            self.line_open = False
        self.err.print(
            Text.assemble(*((visible(p), "") if isinstance(p, str) else (visible(p[0]), p[1]) for p in parts))
        )

    def out(self, text: str) -> None:
        """The answer on stdout. When its reader has gone (`| head -c 5`), the turn stops and
        what is still buffered goes to /dev/null: a BrokenPipeError traceback ended the run
        with 1 (headless review)."""
        if self.pipe_closed or self.out_failed:
            return
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
            if text:
                self.line_open = not text.endswith("\n")
        except BrokenPipeError:
            self.pipe_closed = True
            self._stdout_to_devnull()
            self.agent.cancel()
        except (OSError, ValueError) as exc:  # a full disk: a 25-line traceback (headless review)
            self.out_failed = self.failed = True
            self._stdout_to_devnull()
            self.said(("error:", "red"), f" cannot write the answer to stdout: {getattr(exc, 'strerror', '') or exc}")
            self.agent.cancel()

    @staticmethod
    def _stdout_to_devnull() -> None:
        """What is still buffered goes nowhere, not into a traceback at exit."""
        with contextlib.suppress(OSError, ValueError):  # stdout with no descriptor (a test's capture)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    async def run(self, session: ChatSession, message: str) -> None:
        """Answer `message` in `session`, the first Ctrl+C stopping the turn as Esc does in the
        chat. Raised out of the turn, it closed the shell under a running command, whose read
        then failed with an EBADF traceback (headless review); now the command is interrupted,
        its end saved, and the shell closed after. A second Ctrl+C stops waiting."""
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            self.interrupted = True
            self.agent.cancel()
            loop.remove_signal_handler(signal.SIGINT)  # the next one raises KeyboardInterrupt
            self.said(("stopping…", "yellow"), " (Ctrl+C again to quit at once)")

        def terminated() -> None:
            # SIGTERM (a job's timeout, systemd, kill) stops the turn the same way: the answer
            # was saved only up to its last batch, shorter than what stdout had shown
            # (headless review). A second one ends thau at once.
            self.terminated = True
            self.agent.cancel()
            loop.remove_signal_handler(signal.SIGTERM)

        handled: list[signal.Signals] = []
        for number, handler in ((signal.SIGINT, interrupted), (signal.SIGTERM, terminated)):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not POSIX, not the main thread
                loop.add_signal_handler(number, handler)
                handled.append(number)
        try:
            async for event in self.agent.run_turn(session, message):
                self.show(event)
        finally:
            for number in handled:
                loop.remove_signal_handler(number)

    def show(self, event: Event) -> None:
        """One event: text to stdout, the rest to stderr."""
        from .engine.events import (
            ApprovalRequested,
            Error,
            MessageRefused,
            QuestionAsked,
            TextDelta,
            ToolCallInvalid,
            ToolCallProposed,
            ToolDenied,
            ToolFinished,
            ToolOutput,
            TurnDone,
        )
        from .visible_text import visible

        match event:
            case TextDelta(text=text):
                self.out(visible(text))
            case ToolCallProposed(call=call, risk=risk):
                self.said("\n", ("tool", "bold"), f" {call.name} ", (f"({risk})", "dim"), f" {call.arguments}")
            case ToolCallInvalid(errors=errors):
                self.said(("invalid call:", "red"), " " + "; ".join(errors))
            case ApprovalRequested(call=call, future=future):
                entry, rule = policy_entry(self.config.tools.policy, call.name)
                decision = decide_unattended(call, rule, self.yes, entry)
                future.set_result(decision)  # a refusal's reason reaches stderr as ToolDenied
            case QuestionAsked(question=question, future=future):
                self.ask(question, future)
            case ToolOutput(chunk=chunk):
                self.err.print(visible(chunk), end="", style="dim", markup=False, highlight=False)
            case ToolDenied(call=call, reason=reason, decision=decision):
                self.said(("denied", "yellow"), f" {call.name}: {reason}")
                # Any refusal, tools.policy's deny too (it exited 0: a script could not tell
                # the action never ran: headless review); not a call Ctrl+C cancelled.
                self.refused = self.refused or decision is None or decision.kind != "cancel"
            case ToolFinished(call=call, status=status):
                self.said((f"{call.name}: {status}", "dim"))
            case MessageRefused(message=message) if self.piped:  # "your message" was mostly stdin's
                self.said(("error:", "red"), f" {message}")
                self.said((f"(the message is the question and the {self.piped} characters read from stdin)", "dim"))
                self.failed = True
            case Error(message=message):
                self.said(("error:", "red"), f" {message}")
                self.failed = True
            case TurnDone():
                self.out("\n")

    def ask(self, question: str, future: asyncio.Future[str | Decision]) -> None:
        """ask_user's question on stderr, the answer a line read from stdin in a thread of its
        own (Ctrl+C still stops the turn); Ctrl+D leaves it unanswered. input() wrote the
        question to stdout, so `> out.txt` hid it and thau waited for an answer to nothing,
        and Ctrl+D ended the run with two tracebacks (headless review)."""
        from .engine.events import Decision

        # The model is told no one can answer; the user sees the question. stderr too: redirected,
        # thau waited for an answer to a question no one could see (headless review).
        if not (_is_terminal(sys.stdin) and _is_terminal(sys.stderr)):
            self.said(("question:", "yellow"), f" {question} (not asked: stdin or stderr is not a terminal)")
            future.set_result(Decision("deny", reason=NO_ONE_TO_ASK))
            return
        self.said(("question:", "yellow"), f" {question}")
        self.err.print(
            "answer (Enter sends, Ctrl+D leaves it unanswered): ", end="", style="dim", markup=False, highlight=False
        )
        self.err.file.flush()
        loop = asyncio.get_running_loop()

        def answered(line: str) -> None:
            if future.done():  # the turn was stopped meanwhile
                return
            if line:
                future.set_result(line.rstrip("\r\n"))
            else:  # EOF: dismissed, as Esc on the chat's question card
                self.said(("(unanswered)", "dim"))
                future.set_result(Decision("deny"))

        def read() -> None:
            try:
                line = sys.stdin.readline()
            except (OSError, ValueError):
                line = ""
            with contextlib.suppress(RuntimeError):  # the loop closed: thau is ending
                loop.call_soon_threadsafe(answered, line)

        threading.Thread(target=read, name="thau-question", daemon=True).start()
