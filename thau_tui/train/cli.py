"""The training commands of `thau`: data build / from-history, train, eval, export.

`register(subparsers)` adds them to the main `thau` parser; each sets `func`,
which returns the exit code. `main(argv)` builds a parser of its own (tests,
and `python -m thau_tui.train.cli`). Heavy modules are imported inside the
commands, so `thau --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

from .runs import check_recipe, new_run_dir, run_commands, trainer_command, trainer_env  # noqa: F401
from .score import SCORE_KEYS

COUNT_KEYS = ("n", "call_cases", "no_call_cases")


def _err(message: str) -> int:
    """Print a problem on stderr and return the exit code for a usage error."""
    print(f"thau: {message}", file=sys.stderr)
    return 2


def scores_table(after: dict[str, Any], before: dict[str, Any] | None = None, title: str = "Tool-calling score") -> Table:
    """The scorer's figures as a table; with `before`, side by side with the change."""
    table = Table(title=title)
    table.add_column("metric")
    if before is not None:
        table.add_column("before", justify="right")
    table.add_column("after" if before is not None else "value", justify="right")
    if before is not None:
        table.add_column("change", justify="right")
    for key in SCORE_KEYS:
        if key not in after and (before is None or key not in before):
            continue
        row = [key]
        show = (lambda v: str(v)) if key in COUNT_KEYS else (lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "-")
        if before is not None:
            row.append(show(before.get(key, "-")))
        row.append(show(after.get(key, "-")))
        if before is not None:
            a, b = after.get(key), before.get(key)
            row.append(f"{a - b:+.3f}" if key not in COUNT_KEYS and isinstance(a, (int, float)) and isinstance(b, (int, float)) else "")
        table.add_row(*row)
    return table


def _config_train_settings() -> tuple[str, str]:
    from ..config import load_config
    from ..paths import default_config_file

    train = load_config(default_config_file()).config.train
    return train.recipe, train.runs_dir


# --- data ----------------------------------------------------------------------------


def cmd_data_build(args: argparse.Namespace) -> int:
    """Build train.jsonl / eval.jsonl / stats.json with the data set builder."""
    from . import data

    try:
        stats = data.build_dataset(
            Path(args.out), n_train=args.n_train, n_eval=args.n_eval, seed=args.seed, dialect=args.dialect
        )
    except ValueError as exc:  # DatasetError and an unknown dialect both say what to change
        return _err(str(exc))
    print(f"Wrote the data set to {args.out}")
    if isinstance(stats, dict):
        print(json.dumps(stats, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_from_history(args: argparse.Namespace) -> int:
    """Turn the stored chats' approved, edited and denied calls into examples."""
    from ..paths import database_path
    from .history import examples_from_history

    db = Path(args.db) if args.db else database_path()
    try:
        counts = examples_from_history(db, Path(args.out), dialect=args.dialect)
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))
    print(
        f"Wrote {counts['examples']} examples to {args.out} from {counts['calls']} calls in {counts['sessions']} chats "
        f"({counts['approved']} approved, {counts['edited']} of them edited; {counts['denied']} denied; "
        f"{counts['skipped']} skipped; {counts['duplicates']} duplicates)"
    )
    return 0


# --- train ---------------------------------------------------------------------------


def _fmt_eta(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _drain(stream, into: deque) -> None:
    for line in stream:
        into.append(line.rstrip("\n"))


def _read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def cmd_train(args: argparse.Namespace) -> int:
    """Score, train and score again in child processes, with rich progress bars; Ctrl-C cancels cleanly."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    default_recipe, runs_dir = _config_train_settings()
    resume_dir = Path(args.resume) if args.resume else None
    if resume_dir is not None and not resume_dir.is_dir():
        return _err(f"cannot resume: {resume_dir} is not a run folder (they live in {runs_dir}/)")
    recipe = Path(args.recipe or (resume_dir / "recipe.yaml" if resume_dir else default_recipe))
    problem = check_recipe(recipe)
    if problem:
        return _err(problem)
    run_dir = resume_dir or new_run_dir(runs_dir, recipe)
    console = Console()
    outcome: dict[str, Any] = {}
    progress = Progress(
        TextColumn("[bold]{task.description}"), MofNCompleteColumn(), BarColumn(),
        TextColumn("{task.fields[info]}"), console=console, transient=False,
    )
    code = 0
    with progress:
        tasks = {
            "train": progress.add_task("step", total=None, info=""),
        }
        for command in run_commands(recipe, run_dir, resume=resume_dir is not None, score=not args.no_score,
                                    limit=args.score_limit):
            code, interrupted = _run_child(command, progress, tasks, console, outcome)
            if interrupted or outcome.get("event") in ("cancelled", "error") or (code and "done" not in outcome):
                break
    return _finish_train(outcome, code, run_dir, console)


def _run_child(command: list[str], progress, tasks: dict, console: Console, outcome: dict[str, Any]) -> tuple[int, bool]:
    """Run one child, showing its JSON events; (exit code, whether the user interrupted)."""
    stderr_tail: deque[str] = deque(maxlen=40)
    # A session of its own: Ctrl-C reaches only us, and we tell the child once, politely.
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        env=trainer_env(), start_new_session=True,
    )
    threading.Thread(target=_drain, args=(child.stderr, stderr_tail), daemon=True).start()
    interrupts = 0
    lines = iter(child.stdout.readline, "")
    while True:
        try:
            line = next(lines, None)
        except KeyboardInterrupt:
            interrupts += 1
            if interrupts == 1:
                console.print("[yellow]Cancelling: the trainer saves a checkpoint first (Ctrl-C again to kill it)")
                child.send_signal(signal.SIGTERM)
            else:
                child.kill()
            continue
        if line is None:
            break
        _show_event(line, progress, tasks, console, outcome)
    code = child.wait()
    if code and outcome.get("event") != "error":
        outcome["stderr"] = "\n".join(stderr_tail)
    return code, interrupts > 0


def _show_event(line: str, progress, tasks: dict, console: Console, outcome: dict[str, Any]) -> None:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        console.print(line.rstrip(), markup=False, highlight=False)
        return
    kind = event.get("event") if isinstance(event, dict) else None
    task = tasks["train"]
    if kind == "start":
        progress.update(task, total=event.get("total_steps"))
        console.print(f"Run folder: {event.get('run_dir')}  ({event.get('examples')} examples on {event.get('device')})")
    elif kind == "step":
        info = (f"loss {event.get('loss', 0):.4f} · {event.get('tokens_per_s', 0):.0f} tok/s · "
                f"ETA {_fmt_eta(event.get('eta_s'))}")
        progress.update(task, completed=event.get("step", 0), total=event.get("total_steps"), info=info)
    elif kind == "eval":
        console.print(f"step {event.get('step')}: eval loss {event.get('eval_loss', 0):.4f}")
    elif kind == "eval_progress":
        stage = f"score {event.get('stage')}"
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=event.get("total"), info="eval split")
        progress.update(tasks[stage], completed=event.get("done", 0), total=event.get("total"))
    elif kind == "scores":
        scores = event.get("scores") or {}
        outcome.setdefault("scores", {})[event.get("stage")] = scores
        console.print(f"eval split {event.get('stage')} training: overall {scores.get('overall', 0):.3f}")
    elif kind == "checkpoint":
        console.print(f"[dim]checkpoint at step {event.get('step')}: {event.get('path')}")
    elif kind == "log":
        console.print(str(event.get("message", "")), markup=False, highlight=False)
    elif kind in ("paused", "resumed"):
        console.print(f"[yellow]{kind}")
    elif kind == "done":
        outcome.update(event)
        outcome["done"] = True
    elif kind in ("cancelled", "error"):
        outcome.update(event)


def _finish_train(outcome: dict[str, Any], code: int, run_dir: Path, console: Console) -> int:
    kind = outcome.get("event")
    if kind == "cancelled":
        console.print(f"Cancelled at step {outcome.get('step')}. Resume with: thau train --resume {run_dir}")
        return 0
    if outcome.get("done"):
        console.print(f"[green]Trained.[/] Adapter: {outcome.get('adapter')}")
        summary = _read_summary(run_dir) or outcome.get("summary") or {}
        if isinstance(summary.get("after"), dict):
            before = summary.get("before") if isinstance(summary.get("before"), dict) else None
            console.print(scores_table(summary["after"], before, title="Eval split: before and after training"))
        if kind == "error" or code:
            print(f"thau: scoring after training failed: {outcome.get('message') or outcome.get('stderr', '')}",
                  file=sys.stderr)
            return 1
        return 0
    message = outcome.get("message") or f"a child process exited with code {code}"
    print(f"thau: training failed: {message}", file=sys.stderr)
    if outcome.get("stderr"):
        print(outcome["stderr"], file=sys.stderr)
    return 1


# --- eval and export -----------------------------------------------------------------


def eval_target(args: argparse.Namespace) -> tuple[Path, Path | None, str, int | None, str]:
    """What `thau eval` scores: by default exactly what the chat runs (config.yaml's model,
    its adapter, `lora_path: auto` included, its dialect and threads); --model, --adapter
    (`none` for the bare model), --dialect and --threads override. Returns the model, the
    adapter, the dialect, the threads and a line saying where each came from."""
    from ..config import load_config
    from ..engine.models import resolve_model
    from ..paths import default_config_file

    config_file = Path(args.config).expanduser() if getattr(args, "config", None) else default_config_file()
    config = load_config(config_file).config
    configured_model, configured_adapter = resolve_model(config)
    model = Path(args.model).expanduser() if args.model else configured_model
    if args.adapter in (None, ""):
        # The configured adapter was made for the configured model: a different --model runs bare.
        adapter = configured_adapter if not args.model else None
        source = f"model.lora_path {config.model.lora_path!r} in {config_file.name}" if adapter else "none configured"
    elif args.adapter.lower() == "none":
        adapter, source = None, "--adapter none"
    else:
        adapter, source = Path(args.adapter), "--adapter"
    dialect = args.dialect or config.model.dialect
    threads = args.threads or config.model.n_threads
    note = (f"scoring {model.name} with adapter {adapter.name if adapter else 'none'} ({source}), "
            f"dialect {dialect}, {threads or 'default'} threads")
    return model, adapter, dialect, threads, note


def cmd_eval(args: argparse.Namespace) -> int:
    """Predict each case's calls; print the score table when the cases carry expected_calls."""
    # llama.cpp's OpenMP threads spin while they wait: beside another llama.cpp process on
    # the same cores that made an eval take minutes a case. Passive waits change no output.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .evaluate import run_eval
    from .score import read_jsonl, score

    cases_path = Path(args.cases)
    if not cases_path.is_file():
        return _err(f"eval cases not found: {cases_path} (build some with `thau data build`)")
    console = Console()
    try:
        model, adapter, dialect, threads, note = eval_target(args)
    except Exception as exc:  # a broken config or a missing bundled model: say which
        return _err(str(exc))
    console.print(note)
    try:
        with Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("eval", total=None)

            def on_progress(done: int, total: int, _prediction: dict) -> None:
                progress.update(task, completed=done, total=total)

            predictions = run_eval(
                cases_path, Path(args.output), model_path=model, adapter=adapter,
                dialect=dialect, limit=args.limit, on_progress=on_progress, n_threads=threads,
            )
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))
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
    from .export import export_adapter

    path = export_adapter(run, Path(args.out) if args.out else None)
    print(f"Wrote {path}")
    return 0


# --- wiring --------------------------------------------------------------------------


def _command(sub, name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(func=func)
    return parser


def register(subparsers) -> None:
    """Add data, train, eval and export to the `thau` parser's subcommands."""
    data = subparsers.add_parser("data", help="build training data", description="Build training data.")
    data_sub = data.add_subparsers(dest="data_command", metavar="{build,from-history}", required=True)
    build = _command(data_sub, "build", cmd_data_build, "generate the tool-calling data set (train/eval JSONL)")
    build.add_argument("--out", default="train/data", help="folder for train.jsonl, eval.jsonl, stats.json")
    build.add_argument("--n-train", type=int, default=2000, help="training examples (default 2000)")
    build.add_argument("--n-eval", type=int, default=200, help="eval cases (default 200)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--dialect", default="hermes", help="tool-call dialect (default hermes)")
    hist = _command(data_sub, "from-history", cmd_from_history, "examples from your approved, edited and denied calls")
    hist.add_argument("--out", default="train/data/history.jsonl", help="output JSONL")
    hist.add_argument("--db", default=None, help="chat database (default: thau's own)")
    hist.add_argument("--dialect", default="hermes")

    train = _command(subparsers, "train", cmd_train, "train a LoRA adapter headless, with a progress bar")
    train.add_argument("--recipe", default=None, help="recipe YAML (default: train.recipe in config.yaml)")
    train.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    train.add_argument("--no-score", action="store_true", help="skip scoring the eval split before and after")
    train.add_argument("--score-limit", type=int, default=64, metavar="N", help="eval cases to score (default 64)")

    ev = _command(subparsers, "eval", cmd_eval, "predict the tool calls for eval cases and score them")
    ev.add_argument("cases", help="cases JSONL (ARCHITECTURE.md's eval format)")
    ev.add_argument("--output", required=True, help="predictions JSONL to write")
    ev.add_argument("--adapter", default=None,
                    help="GGUF LoRA adapter, a run folder holding adapter.gguf, or 'none' for the bare model "
                         "(default: the chat's adapter from config.yaml, lora_path auto included)")
    ev.add_argument("--model", default=None, help="GGUF model (default: the chat's model from config.yaml)")
    ev.add_argument("--limit", type=int, default=None, help="only the first N cases")
    ev.add_argument("--dialect", default=None, help="default: model.dialect from config.yaml")
    ev.add_argument("--threads", type=int, default=None,
                    help="llama.cpp threads (default: model.n_threads from config.yaml, else the chat's default)")

    export = _command(subparsers, "export", cmd_export, "export a run's adapter to GGUF for llama.cpp")
    export.add_argument("run", help="run folder (train/runs/NAME-TIMESTAMP)")
    export.add_argument("--out", default=None, help="output .gguf (default: RUN/adapter.gguf)")


def main(argv: list[str] | None = None) -> int:
    """Run one training command, as `thau` would; returns the exit code."""
    parser = argparse.ArgumentParser(prog="thau")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
