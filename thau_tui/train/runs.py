"""Starting a training run: its folder, its child processes and their environment.

Shared by the `thau train` command and the training screen (which must not import
the CLI: it runs these commands as child processes and reads their JSON events).
`python -m thau_tui.train.runs build-data ...` is the child that builds a missing
data set, and `... export --run-dir RUN` the one that writes a run's GGUF adapter when no
scoring after training does it; both print JSON events like the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

# The steps of a run, in the user's words, by the module each child runs.
STEP_DATA = "building the data set"
STEP_TRAIN = "training"
STEP_EXPORT = "exporting the adapter to GGUF"


def new_run_dir(runs_dir: str | Path, name: str) -> Path:
    """<runs_dir>/<recipe name>-<timestamp>: a fresh folder name for one run.

    The one naming rule for the screen, `thau train` and the trainer, so `--resume`
    finds a run whoever started it; `name` is the recipe's `name:`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(runs_dir) / f"{name}-{stamp}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = Path(runs_dir) / f"{name}-{stamp}-{suffix}"
    return path


def latest_run_dir(runs_dir: str | Path, name: str | None = None) -> Path | None:
    """The run `--resume` goes on with, when no folder is named: the newest run folder (of recipe
    `name`, when given) that holds a checkpoint; without one in any, the newest folder.

    Only `name`'s own folders (new_run_dir's `<name>-<timestamp>`), and of those whose recipe.yaml
    names a recipe, only `name`'s: `--recipe tiny` resumed a cancelled `tiny-long` run and marked
    it finished. A start that failed before training (`device: cuda` on a CPU machine) leaves a
    newer folder with no checkpoint, which `--resume` picked over the cancelled run (CLI review,
    2026-12-07 night)."""
    from .checkpoints import latest_checkpoint

    newest = [p for p in _run_folders(runs_dir) if name is None or _run_of(p, name)]
    return next((p for p in newest if latest_checkpoint(p) is not None), newest[0] if newest else None)


def _run_of(folder: Path, name: str) -> bool:
    """`folder` is a run of the recipe named `name`: named as new_run_dir names its runs, and its
    recipe.yaml, when readable, says that name."""
    import yaml

    if not re.fullmatch(re.escape(name) + r"-\d{8}-\d{6}(-\d+)?", folder.name):
        return False
    try:
        recipe = yaml.safe_load((folder / "recipe.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True  # not written yet, or damaged: the folder's name is all there is to go by
    return not isinstance(recipe, dict) or not isinstance(recipe.get("name"), str) or recipe["name"] == name


def _run_folders(runs_dir: str | Path) -> list[Path]:
    """The folders in `runs_dir`, the newest (by modification time) first."""
    try:
        folders = [p for p in Path(runs_dir).iterdir() if p.is_dir()]
    except OSError:  # no runs folder yet, or not readable
        return []
    return sorted(folders, key=_mtime, reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def last_run(runs_dir: str | Path) -> tuple[Path, str, bool] | None:
    """The newest run folder, how it ended in words, and whether it can be resumed (a
    checkpoint and its recipe, and no adapter.gguf yet): the training screen opened after a restart said
    "No run yet" beside a cancelled run, and only the CLI could resume it (training review)."""
    from .checkpoints import trained_now

    run = next(iter(_run_folders(runs_dir)), None)  # with a checkpoint or not: how the last start ended
    if run is None:
        return None
    if trained_now(run):  # by `thau train` or another window: not to be resumed here
        return run, "being trained now by another process", False
    events: list[dict[str, Any]] = []
    with contextlib.suppress(OSError):
        for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()[-50:]:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                events.append(event if isinstance(event, dict) else {})
    kinds = [e.get("event") for e in events]
    steps = [e for e in events if e.get("event") == "step"]
    total = next((e.get("total_steps") for e in reversed(events) if e.get("event") == "start"), None)
    at = f" at step {steps[-1].get('step')}" + (f" of {total}" if total else "") if steps else ""
    if "done" in kinds and exported(run):
        how = "finished"
    elif "done" in kinds:  # a cancel that landed in the last step skipped scoring and the export (UX review)
        how = "trained, but not exported to GGUF or scored after training"
    elif kinds and kinds[-1] == "cancelled":
        how = f"cancelled{at}"
    elif "error" in kinds:
        how = f"failed{at}"
    else:
        how = f"stopped{at} (thau or the trainer ended)" if steps else "stopped before training"
    return run, how, how != "finished" and resumable(run)


def exported(run: Path) -> bool:
    """The run's GGUF adapter exists: only then is the run finished (the chat can load it)."""
    if (run / "adapter.gguf").is_file():
        return True
    summary: Any = None
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    named = summary.get("adapter_gguf") if isinstance(summary, dict) else None
    return isinstance(named, str) and Path(named).is_file()


def finished_training(run: Path, recipe: str | Path | None = None) -> tuple[int, int] | None:
    """(steps, total) when the trainer finished the run, else None: its summary.json says every
    step trained and none cancelled, and its newest checkpoint is that last step (a later one: a
    resume went on and stopped). With `recipe` (the one it would resume with), only when that is
    the run's own: another may train on (more max_steps). `thau train --resume` of a finished run
    loaded the model to train nothing and ended on a "training 0/2 · 0 tok/s" bar (docs review)."""
    from .checkpoints import latest_checkpoint
    from .recipe import load_recipe

    summary: Any = None
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    if not isinstance(summary, dict) or summary.get("cancelled") is not False:
        return None
    steps, total = summary.get("steps"), summary.get("total_steps")
    last = latest_checkpoint(run)
    if not isinstance(steps, int) or steps < 1 or steps != total or last is None or last.name != f"step-{steps}":
        return None
    if not (run / "adapter" / "adapter_config.json").is_file():
        return None
    if recipe is not None:
        try:
            if load_recipe(recipe) != load_recipe(run / "recipe.yaml"):
                return None
        except Exception:  # RecipeError, a copy gone: the trainer says what is wrong
            return None
    return steps, total


def scored_after(run: Path) -> bool:
    """The run's summary.json holds the scores after training."""
    summary: Any = None
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return isinstance(summary, dict) and isinstance(summary.get("after"), dict)


def resumable(run: Path) -> bool:
    """`--resume` can go on with the run: it holds a checkpoint and its recipe."""
    from .checkpoints import latest_checkpoint

    return latest_checkpoint(run) is not None and (run / "recipe.yaml").is_file()


def trainer_command(recipe: str | Path, run_dir: str | Path, resume: bool = False) -> list[str]:
    """The child process that trains: it prints one JSON event a line on stdout."""
    recipe, run_dir = Path(recipe).resolve(), Path(run_dir).resolve()  # it starts in paths.start_folder()
    command = [sys.executable, "-m", "thau_tui.train.trainer", "--recipe", str(recipe), "--run-dir", str(run_dir)]
    return command + ["--resume"] if resume else command


def data_command(recipe: str | Path) -> list[str]:
    """The child that builds the recipe's data set where the recipe says it lives."""
    return [sys.executable, "-m", "thau_tui.train.runs", "build-data", "--recipe", str(Path(recipe).resolve())]


def export_command(run_dir: str | Path) -> list[str]:
    """The child that writes RUN/adapter.gguf and RUN/Modelfile from RUN/adapter."""
    return [sys.executable, "-m", "thau_tui.train.runs", "export", "--run-dir", str(Path(run_dir).resolve())]


def needs_data(recipe_path: str | Path) -> bool:
    """True when the recipe's data folder lacks train.jsonl or eval.jsonl."""
    from .recipe import load_recipe

    data = Path(load_recipe(recipe_path).data_dir)
    return not ((data / "train.jsonl").is_file() and (data / "eval.jsonl").is_file())


def run_commands(
    recipe: str | Path,
    run_dir: str | Path,
    *,
    resume: bool = False,
    score: bool = True,
    limit: int | None = None,
    trained: bool = False,
) -> list[list[str]]:
    """The children of one run, in order: build the data set when it is missing, score
    the eval split before, train, score after (which exports the GGUF adapter first), or
    without scoring, export it.

    `limit` (eval cases to score) defaults to the recipe's `eval_examples`; 0 scores
    nothing. A resumed run was scored before when it first started, so it is not
    scored again. `trained` (a run the trainer finished: finished_training) runs only
    what is missing of the rest: the export, the scores after.
    """
    from .evaluate import score_command
    from .recipe import load_recipe

    try:
        loaded = load_recipe(recipe)
    except ValueError:  # check_recipe reports it; the trainer's error event says it again
        loaded = None
    if limit is None and loaded is not None:
        limit = loaded.eval_examples
    scoring = score and limit != 0
    if trained:
        run_dir = Path(run_dir)
        commands = [] if exported(run_dir) else [export_command(run_dir)]
        return commands + (
            [score_command(run_dir, "after", None, limit)] if scoring and not scored_after(run_dir) else []
        )
    commands = [trainer_command(recipe, run_dir, resume)]
    if scoring:
        if not resume:
            commands.insert(0, score_command(run_dir, "before", recipe, limit))
        commands.append(score_command(run_dir, "after", None, limit))
    else:  # the export came only with scoring after: `--no-score` left no adapter.gguf (docs review)
        commands.append(export_command(run_dir))
    if loaded is not None and needs_data(recipe):
        commands.insert(0, data_command(recipe))
    return commands


def command_step(command: list[str]) -> str:
    """What a child of `run_commands` does, in words: the screen's and the CLI's step name."""
    module = command[2] if len(command) > 2 and command[1] == "-m" else ""
    if module == "thau_tui.train.runs":
        return STEP_EXPORT if "export" in command[3:4] else STEP_DATA
    if module == "thau_tui.train.evaluate" and "--stage" in command:
        return f"scoring {command[command.index('--stage') + 1]} training"
    return STEP_TRAIN


def trainer_env() -> dict[str, str]:
    """The child's environment: unbuffered, so each event line arrives as it is printed, and
    importing this very thau_tui (a source checkout run from another folder would otherwise
    start the children on whatever copy is installed): PYTHONPATH names a folder holding only
    a link to it, never the checkout root, whose other top-level modules a tool can write."""
    from ..paths import package_import_folder

    root = str(package_import_folder())
    # The user's own entries stay, but none relative or in the current folder, where thau was
    # started (the workspace): `PYTHONPATH=src` put a planted src/yaml.py ahead of the real
    # one in the trainer, which runs unsandboxed (attacker review, 2026-12-06).
    from .. import KEEP_OUT_VARIABLE

    kept_out = [Path.cwd().resolve()]  # and the configured workspace (cli._config names it)
    kept_out += [Path(f) for f in os.environ.get(KEEP_OUT_VARIABLE, "").split(os.pathsep) if os.path.isabs(f)]
    path = [root]
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if not entry or not os.path.isabs(entry) or entry == root:
            continue
        real = Path(os.path.realpath(entry))
        if not any(real == folder or folder in real.parents for folder in kept_out):
            path.append(entry)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(path)}
    env.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)  # a user's own tunables win; other libcs ignore it
    return env


# glibc hands every freed block over 32 MB (and, by its sliding threshold, many smaller
# ones) back to the kernel, so each training step faulted its ~8-14 GB of activations in
# again: a third of a step was kernel time on 2 cores, and the largest batches took 60-110 s
# instead of ~10 s. A fixed 32 MB threshold keeps activations (a 8x640x1536 float32 MLP
# output is 31.5 MB) in the heap for reuse, a high trim threshold keeps free() from giving
# it back, huge pages make the first faults cheaper, and the trainer trims the heap itself
# every few steps (trainer.TRIM_EVERY) so it cannot grow without bound. Measured here on
# 6 x 30 tensors of 31.5 MB, 20 rounds: 21.8 s -> 10.8 s, 3.7M -> 1.5M page faults.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184:glibc.malloc.hugetlb=1"


def check_recipe(path: str | Path) -> str | None:
    """None when the recipe loads; else the problem, in words (no command-line advice:
    the screen shows this too)."""
    path = Path(path)
    if not path.is_file():
        from .recipe import available_recipes

        names = ", ".join(choice.name for choice in available_recipes())
        return f"recipe not found: {path} (choose one of: {names})"
    try:
        from .recipe import load_recipe

        recipe = load_recipe(path)
    except Exception as exc:  # pydantic or YAML errors: show them as they are, they name the key
        return f"bad recipe {path}:\n{exc}"
    try:  # before minutes of building data: a missing base model was said only after them (training review)
        recipe.base_model_path()
        recipe.init_adapter_path()
    except Exception as exc:  # RecipeError: names the key and what to give
        return f"bad recipe {path}: {exc}"
    data = Path(recipe.data_dir)
    held = [name for name in ("train.jsonl", "eval.jsonl") if (data / name).exists()]
    if len(held) == 1:  # building the missing one replaced the other, the user's own data (review)
        missing = "eval.jsonl" if held == ["train.jsonl"] else "train.jsonl"
        return (
            f"the data folder {data} holds {held[0]} but no {missing}: add it, or move {held[0]} away "
            "and thau builds both"
        )
    return None


def build_data(recipe_path: str | Path, say) -> dict[str, Any]:
    """Build the recipe's data set (its dialect, seed and max_seq_len) into its data_dir."""
    from .data import build_dataset
    from .recipe import load_recipe

    recipe = load_recipe(recipe_path)
    say(event="log", message=f"no data set in {recipe.data_dir}; building it (a few minutes on a slow machine)")
    stats = build_dataset(Path(recipe.data_dir), **recipe.data_build_args())
    say(event="data_built", data_dir=recipe.data_dir, train=stats["train"]["examples"], eval=stats["eval"]["examples"])
    return stats


def watch_parent(on_gone: Callable[[], None], every_s: float = 1.0) -> None:
    """Call `on_gone` once when the process that started this one has ended (thau killed, its
    terminal closed): a child left behind went on for minutes, and a paused trainer held
    gigabytes and waited forever (training review)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        on_gone()

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def follow_parent(cancel: threading.Event) -> Callable[[dict], None]:
    """The trainer child's say(): one JSON line per event on stdout. When the parent is gone (a
    broken pipe, a hangup, a new parent), or asks (SIGTERM, SIGINT), `cancel` is set: the
    trainer saves a checkpoint and stops. It died on the first line after thau did, with
    nothing saved since the last checkpoint (training review)."""
    import signal

    if threading.current_thread() is threading.main_thread():  # run in-process elsewhere: no signals
        for signum in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
            # a hangup nohup told it to ignore stays ignored (rereview2)
            if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, lambda *_: cancel.set())
    watch_parent(cancel.set)
    gone = threading.Event()

    def say(record: dict) -> None:
        if gone.is_set():
            return  # metrics.jsonl keeps every event for the run's next reader
        try:
            print(json.dumps(record), flush=True)
        except (BrokenPipeError, OSError):
            gone.set()
            cancel.set()

    return say


def export_run(run_dir: str | Path, say) -> Path:
    """Write the run's GGUF adapter and Modelfile (export.export_adapter), saying where."""
    from .export import export_adapter

    run_dir = Path(run_dir)
    path = export_adapter(run_dir)
    say(event="log", message=f"exported the adapter for llama.cpp: {path} (and {run_dir / 'Modelfile'} for Ollama)")
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m thau_tui.train.runs build-data --recipe R` or `... export --run-dir RUN`:
    JSON events on stdout."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m thau_tui.train.runs")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build-data", help="build a recipe's data set").add_argument("--recipe", required=True)
    sub.add_parser("export", help="write a run's adapter.gguf and Modelfile").add_argument("--run-dir", required=True)
    args = parser.parse_args(argv)

    def say(**event: Any) -> None:
        print(json.dumps(event, ensure_ascii=False), flush=True)

    if args.command == "export":
        # Stopped by SIGTERM or a parent gone, it exits through Python, so the half-written
        # GGUF's temporary file is removed and an adapter.gguf already there stays whole.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        watch_parent(lambda: os.kill(os.getpid(), signal.SIGTERM))
        try:
            export_run(args.run_dir, say)
        except Exception as exc:  # ExportError, a broken adapter: one error event, not a traceback
            say(event="error", message=f"exporting the adapter failed: {type(exc).__name__}: {exc}")
            return 1
        return 0
    watch_parent(lambda: os._exit(1))  # nobody is waiting for the data any more
    try:
        build_data(args.recipe, say)
    except Exception as exc:  # the parent reads one error event, not a traceback
        say(event="error", message=f"building the data set failed: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
