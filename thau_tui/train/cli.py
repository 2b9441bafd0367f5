"""The training commands of `thau`: data build / from-history, train, eval, export.

`register(subparsers)` adds them to the main `thau` parser; each sets `func`,
which returns the exit code. `main(argv)` builds a parser of its own (tests,
and `python -m thau_tui.train.cli`). Heavy modules are imported inside the
commands, so `thau --help` stays fast. The `data` commands live in cli_data.py,
how a run ends (its words, its exit code) in cli_outcome.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from ..paths import start_folder
from .cli_data import _err, at_least_one, output_problem, register_data, said_config, section_unread
from .cli_outcome import already_trained_line, finish_train, scores_table, terminal_console
from .recipe import find_recipe, load_recipe
from .runs import (
    STEP_EXPORT,
    STEP_TRAIN,
    check_recipe,
    command_step,
    finished_training,
    latest_run_dir,
    new_run_dir,
    run_commands,
    trainer_env,
)
from .training_run import RunState, format_eta


def _config_train_settings(config_file: str | None = None) -> tuple[str, str]:
    """train.recipe and the runs folder from config.yaml: the one --config names (it was read
    from the usual place whatever --config said: re-review), else the usual one. ValueError
    when its train section could not be read: a broken `recipe:` started the default recipe's
    480 steps without a word (CLI review, 2026-12-07 night)."""
    from ..paths import runs_dir

    result = said_config(config_file)
    if section_unread(result, "train"):
        raise ValueError(
            f"{result.path}: its train section could not be read (said above), so the recipe and runs folder "
            "are not known; fix it (thau doctor checks it), then run thau train again"
        )
    return result.config.train.recipe, str(runs_dir(result.config.train.runs_dir))


# --- train ---------------------------------------------------------------------------


def _drain(stream, state: RunState, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            state.feed_stderr(line)


def _resolve_train_args(args: argparse.Namespace) -> tuple[Path, Path | None, str] | str:
    """(recipe file, run folder to resume or None, runs folder), or the problem in words."""
    try:
        default_recipe, runs_dir = _config_train_settings(getattr(args, "config", None))
    except ValueError as exc:
        return str(exc)
    resume_dir: Path | None = None
    if args.resume == "latest":
        name = None
        if args.recipe:
            found = find_recipe(args.recipe, from_current_folder=True)
            name = load_recipe(found).name if found and not check_recipe(found) else None
        resume_dir = latest_run_dir(runs_dir, name)
        if resume_dir is None:
            return f"cannot resume: no run folders in {runs_dir}/"
    elif args.resume:
        resume_dir = Path(args.resume)
        named = Path(runs_dir) / args.resume  # a run's name, as thau prints it (concurrency review)
        if not resume_dir.is_dir() and len(resume_dir.parts) == 1 and named.is_dir():
            resume_dir = named
        if not resume_dir.is_dir():
            return f"cannot resume: {resume_dir} is not a run folder (they live in {runs_dir}/)"
    if args.recipe:
        recipe = find_recipe(args.recipe, from_current_folder=True) or Path(args.recipe)
    elif resume_dir is not None:
        recipe = resume_dir / "recipe.yaml"
    else:
        recipe = find_recipe(default_recipe) or Path(default_recipe)
    problem = check_recipe(recipe)
    if problem:
        return problem
    return recipe, resume_dir, runs_dir


def cmd_train(args: argparse.Namespace) -> int:
    """Build missing data, score, train, export the GGUF adapter and score again in child
    processes, with rich progress bars; Ctrl-C cancels cleanly. The children's events are read
    by the screen's RunState. Resuming a run the trainer finished runs only what it lacks."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    resolved = _resolve_train_args(args)
    if isinstance(resolved, str):
        return _err(resolved)
    recipe, resume_dir, runs_dir = resolved
    run_dir = resume_dir or new_run_dir(runs_dir, load_recipe(recipe).name)
    console = terminal_console()
    state = RunState(run_dir)
    finished = finished_training(resume_dir, recipe) if resume_dir is not None else None
    commands = run_commands(
        recipe,
        run_dir,
        resume=resume_dir is not None,
        score=not args.no_score,
        limit=args.score_limit,
        trained=finished is not None,
    )
    if finished is not None:  # no trainer to say `done`: the run is trained all the same
        state.trained, state.adapter = True, str(run_dir / "adapter")
        console.print(already_trained_line(run_dir, *finished, [command_step(c) for c in commands]), markup=False)
        if not commands:
            return 0
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
    )
    code = 0
    signals: list[int] = []  # what cancelled the run: its exit code is 128 + the first (headless review)

    def interrupt(signum: int, _frame: object) -> None:  # Ctrl-C, `timeout`, a closed terminal: the child told once
        signals.append(signum)
        raise KeyboardInterrupt

    replaced: dict[int, Any] = {}  # put back after the run: `main()` in a test or a script goes on
    for signum in {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup thau train` goes on (rereview2)
            replaced[signum] = signal.signal(signum, interrupt)
    try:
        with progress:
            view = _ProgressView(progress, console)
            for command in commands:
                state.begin_step(command_step(command))
                code, interrupted = _run_child(command, state, view)
                if interrupted or state.status in ("cancelled", "failed") or (code and not state.trained):
                    break
    except KeyboardInterrupt:  # between two children: none is left running to tell
        signals.append(signal.SIGINT)
    finally:
        for signum, handler in replaced.items():
            if handler is not None:  # None: set outside Python, not ours to restore
                signal.signal(signum, handler)
    cancelled_by = signals[0] if signals else (signal.SIGTERM if state.status == "cancelled" else None)
    return finish_train(state, code, run_dir, console, cancelled_by, recipe, args.score_limit, finished is not None)


class _ProgressView:
    """Draws a RunState with rich: a bar per step (scoring before, training, scoring after)
    and the log lines as they come."""

    def __init__(self, progress, console: Console) -> None:
        self.progress, self.console = progress, console
        self.tasks: dict[str, Any] = {}
        self.shown_log = 0
        self.cancelled = False

    def draw(self, state: RunState) -> None:
        new = min(state.log_count - self.shown_log, len(state.log))
        lines = list(state.log)[len(state.log) - new :] if new > 0 else []
        if state.status == "cancelled" and not self.cancelled:
            self.cancelled = True
            # the run model's "cancelled at step N; resume with: ..." (the screen's words): finish_train
            # says it once the run ends, quoted and with the other ways on, and it came twice (known-left review)
            if lines and lines[-1].startswith("cancelled at step"):
                lines.pop()
        for line in lines:
            self.console.print(line, markup=False, highlight=False)
        self.shown_log = state.log_count
        counted = state.progress()
        # the export has no count of its own: the training's, drawn again, read as more training
        if counted is None or not state.step_name or state.step_name == STEP_EXPORT:
            return
        if state.step_name not in self.tasks:
            self.tasks[state.step_name] = self.progress.add_task(state.step_name, total=counted[1], info="")
        if state.scoring:
            info = f"ETA {format_eta(state.score_eta_s)}"
        else:
            info = f"loss {state.loss or 0:.4f} · {state.tokens_per_s:.0f} tok/s · ETA {format_eta(state.eta_s)}"
        self.progress.update(self.tasks[state.step_name], completed=counted[0], total=counted[1], info=info)


def _run_child(command: list[str], state: RunState, view: _ProgressView) -> tuple[int, bool]:
    """Run one child, feeding its lines to `state`; (exit code, whether the user interrupted)."""
    lock = threading.Lock()
    # A session of its own: Ctrl-C reaches only us, and we tell the child once, politely.
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=trainer_env(),
        cwd=start_folder(),  # not the workspace: `python -m` would import a module a tool left there
        start_new_session=True,
    )
    reader = threading.Thread(target=_drain, args=(child.stderr, state, lock), daemon=True)
    reader.start()
    interrupts = 0
    lines = iter(child.stdout.readline, "")
    while True:
        try:
            line = next(lines, None)
            if line is None:
                break
            with lock:
                state.feed_line(line)
                view.draw(state)
        except KeyboardInterrupt:
            interrupts += 1
            _stop_child(child, state, interrupts, view.console)
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:
            interrupts += 1
            _stop_child(child, state, interrupts, view.console)
    reader.join(timeout=5)
    with lock:
        if code and state.status != "failed" and not interrupts:
            state.error = state.error or f"{state.step_name} exited with code {code}"
            state.status = "failed" if not state.trained else state.status
        view.draw(state)
    return code, interrupts > 0


def _stop_child(child: subprocess.Popen, state: RunState, interrupts: int, console: Console) -> None:
    """The first interrupt asks the child to stop, saying which step it cancels (it said the
    trainer saves a checkpoint while scoring ran: headless review); the second kills it."""
    if interrupts > 1:
        child.kill()
        return
    step = state.step_name or "the run"
    kept = ": the trainer saves a checkpoint first" if step == STEP_TRAIN else ""
    kept = ": the trained adapter is kept" if state.trained else kept
    console.print(f"[yellow]Cancelling {step}{kept} (Ctrl-C again to kill it)")
    child.send_signal(signal.SIGTERM)


# --- eval and export -----------------------------------------------------------------


def eval_target(args: argparse.Namespace) -> tuple[Path, Path | None, str, int | None, str]:
    """What `thau eval` scores: by default exactly what the chat runs (config.yaml's model,
    its adapter, `lora_path: auto` included, its dialect and threads); --model, --adapter
    (`none` for the bare model), --dialect and --threads override. Returns the model, the
    adapter, the dialect, the threads and a line saying where each came from."""
    from ..engine.models import resolve_model

    result = said_config(getattr(args, "config", None))
    config, name, given = result.config, result.path.name, getattr(args, "model", None)
    # The chat's model section unread: its model, adapter and dialect are not known (CLI review, 2026-12-07 night)
    if section_unread(result, "model") and not (given and args.dialect):
        raise ValueError(
            f"{result.path}: its model section could not be read (said above), so what the chat runs is not known; "
            "fix it, or name what to score: --model PATH --adapter PATH|none --dialect NAME"
        )
    configured_model, configured_adapter = resolve_model(config)
    model = Path(given).expanduser() if given else configured_model
    if args.adapter in (None, ""):
        # The configured adapter was made for the configured model: a different --model runs bare.
        adapter = configured_adapter if not given else None
        set_there = "lora_path" in config.model.model_fields_set  # "'auto' in config.yaml" of a file without it
        held = f" in {name}" if set_there else f", the default: {name} does not set it"
        source = f"model.lora_path {config.model.lora_path!r}{held}" if adapter else "none configured"
    elif args.adapter.lower() == "none":
        adapter, source = None, "--adapter none"
    else:
        adapter, source = Path(args.adapter), "--adapter"
    dialect = args.dialect or config.model.dialect
    threads = args.threads or config.model.n_threads
    note = (
        f"scoring {model.name} with adapter {adapter.name if adapter else 'none'} ({source}), "
        f"dialect {dialect}, {threads or 'default'} threads"
    )
    return model, adapter, dialect, threads, note


def cmd_eval(args: argparse.Namespace) -> int:
    """Predict each case's calls; print the score table when the cases carry expected_calls."""
    # llama.cpp's OpenMP threads spin while they wait: beside another llama.cpp process on
    # the same cores that made an eval take minutes a case. Passive waits change no output.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .evaluate import run_eval
    from .score import read_jsonl, score

    cases_path, output = Path(args.cases), Path(args.output)
    if not cases_path.is_file():
        return _err(f"eval cases not found: {cases_path} (build some with `thau data build`)")
    if problem := output_problem(output, "--output"):  # before the model loads, not after (CLI review)
        return _err(problem)
    console = terminal_console()
    try:
        model, adapter, dialect, threads, note = eval_target(args)
    except Exception as exc:  # a broken config or a missing bundled model: say which
        return _err(str(exc))
    console.print(note)
    written = [0, 0]  # predictions in the file, cases
    try:
        with Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("eval", total=None)

            def on_progress(done: int, total: int, _prediction: dict) -> None:
                written[:] = [done, total]
                progress.update(task, completed=done, total=total)

            predictions = run_eval(
                cases_path,
                output,
                model_path=model,
                adapter=adapter,
                dialect=dialect,
                limit=args.limit,
                on_progress=on_progress,
                n_threads=threads,
            )
    except KeyboardInterrupt:  # a traceback through the model's thread, the partial file unsaid (CLI review)
        if written[0]:  # counted in the file: one may have been written after the last count
            with output.open(encoding="utf-8", errors="replace") as lines:
                held = sum(1 for _ in lines)
            _err(f"stopped (Ctrl+C): {output} is partial, with {held} of {written[1]} predictions")
        else:
            _err(f"stopped (Ctrl+C) before a prediction was written to {output}")
        return 130  # 128 + SIGINT, as `thau -m` ends
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))
    except OSError as exc:  # the folder went read-only, or full, while it ran
        return _err(f"cannot write the predictions to {output} ({exc.strerror or exc})")
    except Exception as exc:  # a model that will not load: say which and why
        if type(exc).__name__ == "ModelLoadError":
            return _err(str(exc))
        raise
    console.print(f"Wrote {len(predictions)} predictions to {args.output}")
    cases = read_jsonl(cases_path)[: len(predictions)]
    if any("expected_calls" in case for case in cases):
        console.print(scores_table(score(predictions, cases)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the run's adapter as a GGUF LoRA (+ Modelfile) for llama.cpp."""
    run = Path(args.run)
    if not (run / "adapter").is_dir():
        return _err(f"{run} has no adapter/ folder; pass a finished run folder from train/runs/")
    from safetensors import SafetensorError

    from .export import ExportError, export_adapter

    if args.rank is not None:
        return _export_cut(run, args.rank, args.alpha, Path(args.out) if args.out else None, args.type)
    try:
        path = export_adapter(run, Path(args.out) if args.out else None, tensor_type=args.type)
    except (ExportError, OSError) as exc:
        return _err(str(exc))
    except (ValueError, KeyError, TypeError, SafetensorError) as exc:  # a broken adapter_config.json or weights
        return _err(f"{run / 'adapter'} could not be exported: {type(exc).__name__}: {exc}")
    print(f"Wrote {path}")
    return 0


def _export_cut(run: Path, rank: int, alpha: float | None, out: Path | None, tensor_type: str = "f32") -> int:
    """A method: full run, cut again to `rank` and written as a GGUF LoRA."""
    from .export import ExportError, write_lora_gguf
    from .full_tuning import cut_again
    from .recipe import RecipeError, load_recipe

    try:
        folder, kept = cut_again(run, rank, alpha)
        out = out or run / f"adapter-rank-{rank}.gguf"
        write_lora_gguf(folder, load_recipe(run / "recipe.yaml").base_model_path(), out, tensor_type=tensor_type)
    except (ValueError, RecipeError, ExportError, OSError) as exc:
        return _err(str(exc))
    print(f"Wrote {out} (rank {rank}: keeps {kept:.2%} of the trained change's norm²)")
    return 0


# --- wiring --------------------------------------------------------------------------


def _command(sub, name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(func=func)
    return parser


def register(subparsers) -> None:
    """Add data, train, eval and export to the `thau` parser's subcommands."""
    register_data(subparsers)

    train = _command(subparsers, "train", cmd_train, "train a LoRA adapter headless, with a progress bar")
    train.add_argument(
        "--recipe",
        default=None,
        help="recipe YAML, or the name of a shipped or user recipe (default: train.recipe in config.yaml)",
    )
    train.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        metavar="RUN_DIR",
        help=(
            "continue a run from its last checkpoint (no RUN_DIR: the newest run in train.runs_dir, "
            "the one the training screen's R resumes)"
        ),
    )
    train.add_argument(
        "--no-score",
        action="store_true",
        help="skip scoring the eval split before and after (the GGUF adapter is still exported)",
    )
    train.add_argument(
        "--score-limit",
        type=at_least_one,
        default=None,
        metavar="N",
        help="eval cases to score (default: the recipe's eval_examples)",
    )
    train.epilog = (
        "Exit status: 0 trained (and scored), 1 a step failed, 2 a usage error; when cancelled, 128 + the "
        "signal: 130 Ctrl-C, 143 SIGTERM (`timeout`, or the trainer stopped on its own), 129 a hangup. "
        "A cancelled run says how to resume it, or to export or score its adapter."
    )

    ev = _command(subparsers, "eval", cmd_eval, "predict the tool calls for eval cases and score them")
    ev.add_argument("cases", help="cases JSONL (ARCHITECTURE.md's eval format)")
    ev.add_argument("--output", required=True, help="predictions JSONL to write")
    ev.add_argument(
        "--adapter",
        default=None,
        help="GGUF LoRA adapter, a run folder holding adapter.gguf, or 'none' for the bare model "
        "(default: the chat's adapter from config.yaml, lora_path auto included)",
    )
    ev.add_argument("--model", default=None, help="GGUF model (default: the chat's model from config.yaml)")
    ev.add_argument("--limit", type=at_least_one, default=None, help="only the first N cases")
    ev.add_argument("--dialect", default=None, help="default: model.dialect from config.yaml")
    ev.add_argument(
        "--threads",
        type=at_least_one,
        default=None,
        help="llama.cpp threads (default: model.n_threads from config.yaml, else the chat's default)",
    )

    export = _command(subparsers, "export", cmd_export, "export a run's adapter to GGUF for llama.cpp")
    export.add_argument("run", help="run folder (train/runs/NAME-TIMESTAMP)")
    export.add_argument("--out", default=None, help="output .gguf (default: RUN/adapter.gguf)")
    export.add_argument(
        "--rank",
        type=int,
        default=None,
        help="a method: full run only: cut its trained projections to this LoRA rank "
        "(default output RUN/adapter-rank-R.gguf)",
    )
    export.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="with --rank: the LoRA alpha to write (default: the recipe's alpha/rank scale at the new rank)",
    )
    export.add_argument(
        "--type",
        choices=["f32", "f16", "q8_0"],
        default="f32",
        help="tensor type: f32 (default, exact), f16 (half the size) or q8_0 (about a quarter; the shipped adapter's)",
    )


def main(argv: list[str] | None = None) -> int:
    """Run one training command, as `thau` would; returns the exit code."""
    parser = argparse.ArgumentParser(prog="thau")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
