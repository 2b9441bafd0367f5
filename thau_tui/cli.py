"""`thau`: the chat (default), --message one-shot, doctor, and the training commands."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import sys
from pathlib import Path

from . import KEEP_OUT_VARIABLE, __version__
from .cli_options import chat_options_kept, note_chat_options
from .config import ConfigResult, load_config, web_address

# `thau --message` lives in headless.py; these names stay importable from here
from .headless import (  # noqa: F401
    NO_ONE_TO_ASK,
    REFUSED_EXIT,
    decide_unattended,
    message_exit_code,
    policy_typos,
    run_message,
)
from .paths import FolderError, default_config_file, keep_imports_out_of, pin_home, runs_dir


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
    note_chat_options(parser)
    parser.add_argument("--version", action="version", version=f"thau {__version__}")
    parser.add_argument(
        "-m",
        "--message",
        help="answer one message without the TUI, streaming to stdout. `-m -` reads the question from stdin; "
        "with stdin piped (not a terminal), the message is the question, a blank line, then stdin's text in a "
        "``` fenced block (up to ten times what model.n_ctx holds; </dev/null for none). "
        "Exit 1 on an error during the answer, "
        "2 when it cannot start, 3 when a tool call was refused (not approved, or denied by tools.policy), "
        "130 on Ctrl+C, 143 on SIGTERM, 141 when stdout is closed before the answer ends (`| head`)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --message: approve tool calls that would ask, but only for tools without "
        "a tools.policy entry in config.yaml (a policy of ask or deny is kept); "
        "exit 3 when a tool call needed approval and was refused, or was denied by tools.policy",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reopen the last chat (with --message: answer in it, its history included)",
    )
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
    if getattr(args, "command", None):
        chat_options_kept(parser, args)
    pin_home()  # children read THAU_HOME again: the folder it is now, not a link's later target
    named = getattr(args, "config", None)
    if named and not os.path.exists(os.path.expanduser(named)):  # a dangling link too (re-review)
        # A mistyped path ran on the defaults without a word: the user's tools.policy denials
        # were dropped and --yes then approved what they deny (first-hour review)
        parser.error(f"--config {named}: no such file (leave --config out for the usual one; thau doctor names it)")
    url = getattr(args, "base_url", None)
    if url is not None and not web_address(url):  # it said "no server at notaurl (UnsupportedProtocol)"
        parser.error(f"--base-url {url}: give the server's address with http:// or https:// (http://127.0.0.1:8080/v1)")
    try:
        return _run(parser, args)
    except FolderError as exc:  # THAU_HOME a file, or read-only: a 9-frame traceback (headless review)
        return _fail(str(exc))


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The command `args` names."""
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


def run_chat(args) -> int:
    # textual-image probes what the terminal can draw when first imported: before the app
    # takes the screen over. What was typed before it is kept for the prompt (type_ahead.py).
    from . import type_ahead
    from .engine.store import StoreError
    from .ui.app import ThauApp  # imported first: keys typed during its 0.4 s were thrown away (diff review)

    typed = type_ahead.read_pending()
    from .ui.widgets import image_pane  # noqa: F401

    type_ahead.drop()
    result = _config(args)
    try:
        app = ThauApp(result, resume=args.resume)
    except (StoreError, OSError) as exc:  # an unwritable data dir: say where and what to do
        return _fail(str(exc))
    app.typed_ahead = type_ahead.as_text(typed)
    app.run()
    release_model(app.agent.backend)
    return app.return_code or 0  # 143 after SIGTERM, 129 after SIGHUP (the terminal closed)


def release_model(backend: object) -> None:
    """llama.cpp's model freed before the interpreter exits. Left to the garbage collector at
    exit, after llama-cpp-python's own exit handler had freed llama.cpp, it ended thau with a
    segmentation fault on about every second Ctrl+Q, once the screen was restored."""
    close = getattr(getattr(backend, "llm", None), "close", None)
    if callable(close):
        from .engine.backend import MODEL_THREAD

        with contextlib.suppress(Exception):  # a generation that does not stop: exit anyway
            MODEL_THREAD.submit(close).result(timeout=10)


def _decode_check(config) -> tuple[str, str | None]:
    """Decode a few tokens in a child process: a crashing llama.cpp build must not take doctor
    down. The line for the build, and why the configured model did not load (None if it
    did). A model that does not load is not the build's fault: the bundled model is tried
    then, and the build's line says how that went (docs review: "decode check: failed" for a
    text file named .gguf)."""
    from .engine.models import resolve_model
    from .paths import bundled_model, start_folder

    try:
        model, _ = resolve_model(config)
        folder = start_folder()  # `-c` puts the current folder first on sys.path: not the workspace's modules
    except Exception as exc:  # a read-only data folder: the data dir's problem says so
        return f"skipped ({exc})", None
    said = _decode(model, folder)
    bundled = bundled_model()
    if not said.startswith("failed") or bundled is None or bundled == model:
        return said, said.removeprefix("failed: ") if said.startswith("failed") else None
    on_bundled = _decode(bundled, folder)
    return f"{on_bundled} (on the bundled model: the configured one did not load)", said.removeprefix("failed: ")


def _decode(model, folder) -> str:
    import subprocess

    code = "import sys; from thau_tui.engine.backend import decode_check; decode_check(sys.argv[1])"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(model)], capture_output=True, text=True, timeout=120, cwd=folder
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


def _model_problem(model: Path) -> str | None:
    """Why the model would not load, read as LlamaBackend reads it first (its header); None
    when it reads. doctor said "(found)" for a text file named .gguf and for a cut GGUF that
    `thau -m` refused (headless review)."""
    from .engine.prompt import read_gguf_metadata

    if model.is_dir():
        return f"{model} is a folder, not a GGUF file (model.path in config.yaml, or --model)"
    if not model.is_file():
        return f"the model file {model} is missing (model.path in config.yaml, or --model)"
    try:
        read_gguf_metadata(model)
    except Exception as exc:  # noqa: BLE001 - whatever the reader raises, the loader would refuse it
        return f"{model.name} is not a readable GGUF file ({exc}); choose another (model.path, or --model)"
    return None


def _adapter_problem(adapter: Path, model: Path) -> str | None:
    """Why the LoRA adapter would not load on `model` (None: nothing found): missing, damaged
    (the loader's own check_adapter), or made for another architecture, which llama.cpp
    refuses only once the model is loaded (headless review: doctor said nothing of these),
    or for another model of the same one, by its tensors' shapes (known-left review)."""

    from .engine.backend import ModelLoadError, check_adapter
    from .engine.gguf_header import architecture, lora_misfit

    if not adapter.is_file():
        return f"LoRA adapter not found: {adapter}. Fix model.lora_path in config.yaml"
    try:
        check_adapter(adapter)
    except ModelLoadError as exc:
        return str(exc)
    made_for, runs = architecture(adapter), architecture(model)  # None: the model's own line says why
    if made_for and runs and made_for != runs:
        return (
            f"the LoRA adapter {adapter.name} was made for a {made_for} model, and {model.name} is {runs}: "
            "choose another (model.lora_path in config.yaml; none for no adapter)"
        )
    if misfit := lora_misfit(adapter, model):
        return (
            f"the LoRA adapter {adapter.name} does not fit {model.name}: {misfit}; "
            "choose another (model.lora_path in config.yaml; none for no adapter)"
        )
    return None


def _data_problem() -> str | None:
    """What would stop thau saving chats: the database opened as `thau -m` opens it first,
    then a file written in the data folder. A read-only THAU_HOME passed doctor (headless review)."""
    import tempfile

    from .engine.store import Store, StoreError
    from .engine.store_errors import read_only
    from .paths import data_dir, database_path

    folder = data_dir()
    try:
        Store(database_path()).close()
        with tempfile.TemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except StoreError as exc:
        return str(exc)
    except OSError as exc:
        reason = "its file system is read-only" if read_only(folder) else (exc.strerror or str(exc)).lower()
        return f"cannot write thau's data dir {folder}: {reason}; set THAU_HOME to a writable folder"
    return None


def run_doctor(args) -> int:
    """Print what thau sees, one fact a line."""
    from .engine.models import find_adapters, find_models, resolve_model
    from .paths import cache_dir, config_dir, data_dir, repo_models_dir

    result = _config(args)
    problems: list[str] = []
    model_failed: str | None = None
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
        decoded, model_failed = _decode_check(result.config)
        lines.append(f"llama.cpp decode check: {decoded}")
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
        local = result.config.model.backend == "llama_cpp"
        unreadable = _model_problem(model)
        if unreadable is None and model_failed:  # a GGUF cut in its tensors: llama.cpp says
            unreadable = f"llama.cpp could not load {model.name} ({model_failed})"
        state = "MISSING" if not model.exists() else "NOT LOADABLE" if unreadable else "found"
        lines.append(f"model {model} ({state})")
        if unreadable and local:
            problems.append(unreadable)
        wrong = _adapter_problem(Path(lora), model) if lora and local else None
        if wrong:
            problems.append(wrong)
        # tagged as the model is: a missing one was named only in the problems line (docs review)
        tag = "MISSING" if lora and not Path(lora).exists() else "NOT LOADABLE" if wrong else "found"
        lines.append(f"adapter {lora} ({tag})" if lora else "adapter none")
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
    for typo in policy_typos(result.config):  # "(ok)" was said of `run-shell: deny` (headless review)
        lines.append(f"config: {typo}")
        problems.append(typo.split(":", 1)[0] + " names no tool")
    lines.append(f"config dir {config_dir()}")
    from .tools.plugins import plugins_folder, plugins_in_workspace

    plugins = plugins_folder(result.config)
    refused = plugins_in_workspace(plugins, result.config) if plugins.is_dir() else None
    lines.append(f"plugins {plugins}" + (f" (NOT LOADED: {refused})" if refused else ""))
    lines.append(f"data dir {data_dir()}")
    if unwritable := _data_problem():
        problems.append(unwritable)
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
