"""`thau`: the chat (default), --message one-shot, doctor, and the training commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import KEEP_OUT_VARIABLE, __version__
from .config import ConfigResult, load_config
from .paths import default_config_file, keep_imports_out_of, runs_dir

if TYPE_CHECKING:
    from .engine.events import Decision
    from .tools.base import ToolCall


def _config(args) -> ConfigResult:
    path = Path(args.config).expanduser() if getattr(args, "config", None) else default_config_file()
    result = load_config(path)
    if getattr(args, "model", None):
        result.config.model.path = str(Path(args.model).expanduser().resolve())  # typed: from the current folder
    if getattr(args, "base_url", None):
        result.config.model.backend = "openai"
        result.config.model.base_url = args.base_url
    if getattr(args, "server_model", None):
        result.config.model.backend = "openai"
        result.config.model.server_model = args.server_model
    with contextlib.suppress(OSError, RuntimeError, ValueError):  # the tools say what is wrong with it
        workspace = Path(result.config.tools.workspace).expanduser().resolve()
        known = os.environ.get(KEEP_OUT_VARIABLE, "")
        if str(workspace) not in known.split(os.pathsep):  # children drop it too (thau_tui/__init__)
            os.environ[KEEP_OUT_VARIABLE] = os.pathsep.join(filter(None, [known, str(workspace)]))
        for entry in keep_imports_out_of(workspace):
            shown = entry or "the current folder ('')"
            logging.getLogger("thau").warning("not importing from %s: it is in the workspace", shown)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thau", description="A terminal assistant over a local GGUF model.")
    parser.add_argument("--version", action="version", version=f"thau {__version__}")
    parser.add_argument(
        "-m",
        "--message",
        help="answer one message without the TUI, streaming to stdout; exit 1 on an error during the answer, "
        "2 when it cannot start, 3 when a tool call needed approval and was refused",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --message: approve tool calls that would ask, but only for tools without "
        "a tools.policy entry in config.yaml (a policy of ask or deny is kept); "
        "exit 3 when a tool call needed approval and was refused",
    )
    parser.add_argument("--resume", action="store_true", help="reopen the last chat")
    parser.add_argument(
        "--config", help="config.yaml to use (default: the one in the user config dir; ./config.yaml only when named)"
    )
    parser.add_argument("--model", help="a GGUF file to run instead of the configured one")
    parser.add_argument(
        "--base-url",
        help="chat with an OpenAI-compatible server at this URL instead "
        "(e.g. http://127.0.0.1:8080/v1); sets model.backend to openai",
    )
    parser.add_argument("--server-model", help="the model's name on that server (default: its first model)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    doctor = sub.add_parser(
        "doctor",
        help="print what thau sees: python, llama.cpp build, torch device, models; exit 1 naming what stops thau",
    )
    doctor.set_defaults(func=run_doctor)
    salvage = sub.add_parser(
        "salvage", help="copy what can still be read of a damaged chat database into a new one (the old one is kept)"
    )
    salvage.add_argument(
        "--force", action="store_true", help="rebuild it even when SQLite's check finds nothing wrong with it"
    )
    salvage.set_defaults(func=run_salvage)
    try:
        from .train.cli import register
    except ImportError as exc:  # training extras missing: say so instead of failing
        missing = str(exc)
        for name in ("data", "train", "eval", "export"):
            stub = sub.add_parser(name, help=f"(unavailable: {missing})")
            stub.set_defaults(func=lambda _a, m=missing: _fail(f"training commands need the train extras: {m}"))
    else:
        register(sub)
    return parser


def _fail(message: str) -> int:
    """Say what went wrong on stderr. The message can hold a server's words (a model id, an
    error body) or a path: its control characters are shown, never sent to the terminal."""
    from .visible_text import visible

    print(f"thau: {visible(message)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    named = getattr(args, "config", None)
    if named and not os.path.exists(os.path.expanduser(named)):  # a dangling link too (re-review)
        # A mistyped path ran on the defaults without a word: the user's tools.policy denials
        # were dropped and --yes then approved what they deny (first-hour review)
        parser.error(f"--config {named}: no such file (leave --config out for the usual one; thau doctor names it)")
    if getattr(args, "func", None) is not None:
        if args.command == "doctor":
            return run_doctor(args)
        return int(args.func(args) or 0)
    if args.message is not None:
        if not args.message.strip():  # an empty message was sent, and answered (first-hour review)
            parser.error("--message is empty: give the question to answer")
        return run_message(args)
    if args.yes:  # the chat ignored it, silently (keyboard review)
        parser.error("--yes goes with --message: in the chat each call that asks is approved from its card")
    return run_chat(args)


def _drop_type_ahead() -> None:
    """Throw away what the terminal sent during textual-image's probe: keys typed at once
    after `thau` broke the probe's read, and the terminal's late answer (ESC[?1;2c) then
    reached the prompt as the text "[?1;2c" (helper's UX review). The keys were lost to the
    probe anyway; the prompt now starts empty."""
    try:
        import termios
    except ImportError:  # not POSIX
        return
    with contextlib.suppress(OSError, termios.error, ValueError):
        if sys.stdin.isatty():
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)


def run_chat(args) -> int:
    # textual-image probes what the terminal can draw when first imported: before the app
    # takes the screen over.
    from .engine.store import StoreError
    from .ui.app import ThauApp
    from .ui.widgets import image_pane  # noqa: F401

    _drop_type_ahead()
    result = _config(args)
    try:
        app = ThauApp(result, resume=args.resume)
    except (StoreError, OSError) as exc:  # an unwritable data dir: say where and what to do
        return _fail(str(exc))
    app.run()
    return 0


REFUSED_EXIT = 3  # `--message`: a tool call needed approval and was refused
NO_ONE_TO_ASK = "no one is there to answer (thau -m without a terminal); answer without asking"


def decide_unattended(call: ToolCall, policy: str | None, yes: bool) -> Decision:
    """The answer `thau --message` gives to an approval request, with nobody to ask.

    `policy` is the tool's entry in tools.policy (None when it has none). An
    explicit policy is the user's standing rule, so `--yes` never overrides it:
    only tools left at the default are approved by `--yes`.
    """
    from .engine import events  # imported here: the engine loads only when a message runs

    if policy is not None:
        return events.Decision(
            "deny",
            by="config",
            reason=(
                f"tools.policy.{call.name} is {policy!r} in config.yaml; --yes only approves tools without a policy"
            ),
        )
    if yes:
        return events.Decision("once", by="--yes")
    return events.Decision("deny", by="--message", reason="not approved: rerun with --yes to allow it")


def message_exit_code(failed: bool, refused: bool) -> int:
    """1 after an error, 3 when a call that needed approval was refused, else 0."""
    if failed:
        return 1
    return REFUSED_EXIT if refused else 0


def run_message(args) -> int:
    """One answer on stdout; tool cards and errors on stderr."""
    from rich.console import Console
    from rich.text import Text

    from .engine.agent import Agent
    from .engine.approvals import ApprovalBook
    from .engine.events import (
        ApprovalRequested,
        Decision,
        Error,
        QuestionAsked,
        TextDelta,
        ToolCallInvalid,
        ToolCallProposed,
        ToolDenied,
        ToolFinished,
        ToolOutput,
        TurnDone,
    )
    from .engine.models import load_backend
    from .engine.store import Store, StoreError
    from .paths import approvals_path, database_path
    from .tools import build_registry
    from .tools.mcp_client import start_mcp
    from .visible_text import visible

    err = Console(stderr=True)
    result = _config(args)
    for error in result.errors:
        err.print(
            Text.assemble(
                ("config:", "yellow"),
                f" {visible(error)} (not applied: the default, or 'ask' for a tools.policy entry)",
            )
        )
    if result.errors and args.yes:
        # A bad tools.policy entry is at its default now: --yes would approve a tool the user denied.
        return _fail(
            "--yes is refused while config.yaml has errors: a setting at its default could be a "
            "tools.policy denial that --yes would then approve. Fix config.yaml, or run without --yes"
        )
    config = result.config
    try:  # before the model loads: an unwritable data dir or a full disk is said at once
        store = Store(database_path())
        approvals = ApprovalBook(approvals_path(), config.tools.policy)
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
    mcp.wait_ready()  # one answer: its MCP tools are there from the start, or said to be missing
    agent = Agent(config, registry, approvals=approvals, store=store, backend=backend)
    try:
        session = agent.new_session()
    except StoreError as exc:
        mcp.stop()
        return _fail(exc.unsaved("the chat"))
    failed = refused = False

    def said(*parts: tuple[str, str] | str) -> None:
        """Print to stderr: the model's and the tools' words as text, never as markup, with
        their control characters shown (an OSC 52 in a result set the clipboard; '[conceal]'
        in an argument hid the rest of the command; a stray '[/bold]' ended the run)."""
        err.print(Text.assemble(*((visible(p), "") if isinstance(p, str) else (visible(p[0]), p[1]) for p in parts)))

    async def consume() -> None:
        nonlocal failed, refused
        async for event in agent.run_turn(session, args.message):
            match event:
                case TextDelta(text=text):
                    sys.stdout.write(visible(text))
                    sys.stdout.flush()
                case ToolCallProposed(call=call, risk=risk):
                    said("\n", ("tool", "bold"), f" {call.name} ", (f"({risk})", "dim"), f" {call.arguments}")
                case ToolCallInvalid(errors=errors):
                    said(("invalid call:", "red"), " " + "; ".join(errors))
                case ApprovalRequested(call=call, future=future):
                    policy = config.tools.policy
                    decision = decide_unattended(call, policy.get(call.name, policy.get("*")), args.yes)
                    refused = refused or not decision.allowed
                    future.set_result(decision)  # a refusal's reason reaches stderr as ToolDenied
                case QuestionAsked(question=question, future=future):
                    if sys.stdin.isatty():
                        future.set_result(input(f"{visible(question)} "))
                    else:  # the model was told "the user dismissed the question", and no one saw it
                        said(("question:", "yellow"), f" {question} (not asked: stdin is not a terminal)")
                        future.set_result(Decision("deny", reason=NO_ONE_TO_ASK))
                case ToolOutput(chunk=chunk):
                    err.print(visible(chunk), end="", style="dim", markup=False, highlight=False)
                case ToolDenied(call=call, reason=reason):
                    said(("denied", "yellow"), f" {call.name}: {reason}")
                case ToolFinished(call=call, status=status):
                    said((f"{call.name}: {status}", "dim"))
                case Error(message=message):
                    said(("error:", "red"), f" {message}")
                    failed = True
                case TurnDone():
                    sys.stdout.write("\n")

    try:
        asyncio.run(consume())
    except KeyboardInterrupt:
        agent.cancel()
        return 130
    finally:
        session.close()
        mcp.stop()
    return message_exit_code(failed, refused)


def _decode_check(config) -> str:
    """Decode a few tokens in a child process: a crashing llama.cpp build must not take doctor down."""
    import subprocess

    from .engine.models import resolve_model
    from .paths import start_folder

    try:
        model, _ = resolve_model(config)
    except Exception as exc:
        return f"skipped ({exc})"
    code = "import sys; from thau_tui.engine.backend import decode_check; decode_check(sys.argv[1])"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(model)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=start_folder(),  # `-c` puts the current folder first on sys.path: not the workspace's modules
        )
    except subprocess.TimeoutExpired:
        return "timed out after 120 s"
    if done.returncode == 0:
        return "ok"
    if done.returncode < 0:
        return (
            f"CRASHED (signal {-done.returncode}): rebuild llama-cpp-python without AMX, see README 'Troubleshooting'"
        )
    return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]


def run_salvage(args) -> int:
    """`thau salvage`: the chat database rebuilt from what can still be read of it."""
    from .engine.store_errors import take_alone
    from .engine.store_salvage import SalvageError, looks_healthy, salvage
    from .paths import database_path

    path = database_path()
    if not path.is_file():
        return _fail(f"no chat database at {path}: nothing to salvage")
    if path.is_symlink():  # the link was renamed and a new local file took its place (attacker review)
        return _fail(
            f"{path} is a link to {path.resolve()}: thau salvage rebuilds a file in its own folder; "
            "set THAU_HOME to where the database lies, or replace the link with the file, then run it again"
        )
    try:  # a window writing on meanwhile wrote into the renamed file, and said the chats were gone
        alone = take_alone(path)
    except BlockingIOError:
        return _fail(f"a thau window (or thau -m) has {path} open: close it, then run thau salvage again")
    try:
        if not args.force and (healthy := looks_healthy(path)):
            return _fail(f"{path} {healthy}: nothing to salvage (--force rebuilds it anyway)")
        print(f"reading {path}")
        done = salvage(path)
    except SalvageError as exc:
        return _fail(str(exc))
    finally:
        if alone is not None:
            alone.close()
    names = {"sessions": "chat", "messages": "message", "tool_calls": "tool call", "decisions": "decision"}
    kept = ", ".join(f"{count} {names[table]}{'' if count == 1 else 's'}" for table, count in done.rows.items())
    lost = sum(done.lost.values())
    print(f"salvaged into {done.path}: {kept}")
    if done.unreadable:
        counted = f"; about {lost} rows by their ids" if lost else ""
        print(f"some rows could not be read, in: {', '.join(done.unreadable)}{counted}")
    else:
        print("every row could be read")
    print(f"the file as it was is kept as {done.damaged}")
    return 0


def run_doctor(args) -> int:
    """Print what thau sees, one fact a line."""
    from .engine.models import find_adapters, find_models, resolve_model
    from .paths import cache_dir, config_dir, data_dir, repo_models_dir

    result = _config(args)
    problems: list[str] = []
    lines = [
        f"thau {__version__}",
        f"python {platform.python_version()} ({sys.executable})",
        f"platform {platform.platform()}",
    ]
    try:
        import llama_cpp

        build = "CPU"
        info = llama_cpp.llama_print_system_info().decode(errors="replace")
        for name in ("METAL", "CUDA", "VULKAN", "HIP"):
            if name in info.upper():
                build = name.capitalize() if name != "CUDA" else "CUDA"
        offload = llama_cpp.llama_supports_gpu_offload()
        lines.append(
            f"llama-cpp-python {llama_cpp.__version__}: {build} build, gpu offload {'yes' if offload else 'no'}"
        )
        lines.append(f"llama.cpp decode check: {_decode_check(result.config)}")
    except Exception as exc:
        lines.append(f"llama-cpp-python: not usable ({exc})")
    try:
        import torch

        device = "mps" if torch.backends.mps.is_available() else "cuda" if torch.cuda.is_available() else "cpu"
        lines.append(f"torch {torch.__version__}: device {device}")
    except ImportError:
        lines.append("torch: not installed (images and training need `pip install 'thau[images,train]'`)")
    try:
        model, lora = resolve_model(result.config)
        lines.append(f"model {model} ({'found' if model.is_file() else 'MISSING'})")
        if not model.is_file() and result.config.model.backend == "llama_cpp":
            problems.append(f"the model file {model} is missing (model.path in config.yaml, or --model)")
        lines.append(f"adapter {lora if lora else 'none'}")
        if lora and Path(lora).is_file() and result.config.model.backend == "llama_cpp":
            from .engine.backend import ModelLoadError, check_adapter

            try:
                check_adapter(lora)
            except ModelLoadError as exc:
                problems.append(str(exc))
    except Exception as exc:
        lines.append(f"model: {exc}")
    try:
        from .engine.openai_backend import describe_server

        served = describe_server(result.config)
        lines += served
        # a server that cannot be reached, or lacks the model, stops thau as a missing file does
        problems += [
            line.removeprefix("server: ").removeprefix("reachable, but ")
            for line in served
            if line.startswith(("server: reachable, but", "server: NOT REACHABLE"))
        ]
    except Exception as exc:  # httpx missing or a bug: doctor still prints the rest
        lines.append(f"backend: unknown ({exc})")
    lines.append(f"models folder {repo_models_dir()} (relative model.path, lora_path and images.model)")
    lines.append("models found: " + (", ".join(p.name for p in find_models()) or "none"))
    lines.append(
        "adapters found: "
        + (", ".join(str(p) for p in find_adapters(runs_dir(result.config.train.runs_dir))) or "none")
    )
    state = "ok" if result.ok else "INVALID: " + "; ".join(result.errors)
    if not result.ok:
        problems.append(f"{result.path} is invalid; thau runs on defaults for what is wrong in it")
    missing = result.path is not None and result.ok and not result.path.exists()
    lines.append(f"config {result.path} ({'missing, using defaults' if missing else state})")
    lines.append(f"config dir {config_dir()}")
    from .tools.plugins import plugins_folder, plugins_in_workspace

    plugins = plugins_folder(result.config)
    refused = plugins_in_workspace(plugins, result.config) if plugins.is_dir() else None
    lines.append(f"plugins {plugins}" + (f" (NOT LOADED: {refused})" if refused else ""))
    lines.append(f"data dir {data_dir()}")
    lines.append(f"cache dir {cache_dir()} (MCP server logs, converted models)")
    lines.append(f"training runs {runs_dir(result.config.train.runs_dir)} (train.runs_dir)")
    try:
        from .tools.sandbox import sandbox_status

        lines.append(f"shell sandbox: {sandbox_status(result.config)}")
    except Exception as exc:
        lines.append(f"shell sandbox: unknown ({exc})")
    lines.append(f"image model: {result.config.images.model or 'not configured (images.model in config.yaml)'}")
    try:  # each server is started, asked for its tools and stopped
        from .tools.mcp_client import describe_mcp

        lines += describe_mcp(result.config)
    except Exception as exc:
        lines.append(f"mcp: unknown ({type(exc).__name__}: {exc})")
    lines.append(f"THAU_HOME {os.environ.get('THAU_HOME', '(not set)')}")
    from .visible_text import visible

    # A server's words (its model id, an MCP tool's name, a crashed server's stderr) are in
    # these lines: an OSC 52 there set the clipboard, an ESC[2J cleared the screen.
    if problems:  # a script (or CI) checking `thau doctor` sees what stops thau working
        lines.append("problems: " + "; ".join(problems))
    print("\n".join(visible(line) for line in lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
