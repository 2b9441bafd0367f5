"""`thau data build` and `thau data from-history`: the data set, and examples from chats.

`register_data(subparsers)` adds the `data` command to the parser train/cli.py builds.
The checks every training command makes before it starts live here too: config.yaml's
errors said, an output file that cannot be written refused, a count below one refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths

if TYPE_CHECKING:
    from ..config import ConfigResult


def _err(message: str) -> int:
    """Print a problem on stderr and return the exit code for a usage error."""
    print(f"thau: {message}", file=sys.stderr)
    return 2


def said_config(config_file: str | None) -> ConfigResult:
    """config.yaml (the one --config names, else the usual one), its errors said on stderr as
    `thau -m` says them: `thau train` and `thau eval` ran on the defaults of a file with a YAML
    error without a word of it (CLI review, 2026-12-07 night)."""
    from rich.console import Console

    from ..config import load_config
    from ..config_load import say_errors

    result = load_config(Path(config_file).expanduser() if config_file else paths.default_config_file())
    err = Console(stderr=True)
    err.soft_wrap = not err.is_terminal  # a log keeps each error on one line (headless.stderr_console)
    say_errors(err, result.errors)
    return result


def section_unread(result: ConfigResult, section: str) -> bool:
    """Whether one of `result`'s errors leaves a setting of `section` (model, train) at its
    default: an error naming one of its keys, the section among those YAML could not read,
    or a problem with the whole file. An error that names another section does not."""
    from ..config import Config

    for error in result.errors:
        text = error.removeprefix(f"{result.path}: ")
        first = text.split(":", 1)[0].split(".", 1)[0]
        if first in Config.model_fields:
            if first == section:
                return True
        elif unread := re.search(r"not read: (.*?); the other sections apply", text):
            if any(part.startswith(f"{section} (line ") for part in unread.group(1).split(", ")):
                return True
        elif "each section was read on its own" not in text:  # a misspelt section could be this one
            return True
    return False


def output_problem(path: Path, option: str, *, replaced: bool = False) -> str | None:
    """Why a new file cannot be written at `path`, in a line naming `option`; None when it can
    (`replaced`: a link or file there is replaced, not written through). `thau eval --output`
    a folder, under a file or on a read-only file system ended in a traceback once the model
    had loaded (CLI review, 2026-12-07 night): asked first."""
    try:
        if not replaced and (path.is_symlink() or (path.exists() and not path.is_file())):
            if path.is_dir() and not path.is_symlink():
                return f"{option} {path} is a folder: name a file in it ({path / 'predictions.jsonl'})"
            return f"{option} {path} is a link or not a plain file; thau does not write through it: pick another path"
        folder = path.parent
        while not (folder.exists() or folder.is_symlink()):  # the command makes the folders missing
            folder = folder.parent
        if not folder.is_dir():
            return f"{option} {path}: {folder} is a file, not a folder: name a path in a folder"
        with tempfile.TemporaryFile(dir=folder, prefix=".thau-"):
            pass
    except OSError as exc:
        return f"{option} {path} cannot be written ({exc.strerror or exc}): name a path in a folder you can write"
    return None


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (--limit -1 scored nothing, exit 0)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def held_data_set(folder: Path) -> str | None:
    """What the data set in `folder` holds, in words ("3840 training examples, 200 eval
    cases"), or None when it has neither train.jsonl nor eval.jsonl."""
    held = []
    for name, what in (("train.jsonl", "training examples"), ("eval.jsonl", "eval cases")):
        path = folder / name
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                held.append(f"{sum(1 for line in lines if line.strip())} {what}")
        except OSError:  # a dangling link, a folder of that name: still not ours to replace unasked
            held.append(f"{name} (unreadable)")
    return ", ".join(held) or None


def held_lines(path: Path) -> str:
    """How many examples a JSONL file holds, in words."""
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            return f"{sum(1 for line in lines if line.strip())} examples"
    except OSError:
        return "unreadable"


def cmd_data_build(args: argparse.Namespace) -> int:
    """Build train.jsonl / eval.jsonl / stats.json with the data set builder; an existing
    data set is replaced only with --force (headless review: a bare `thau data build
    --n-train 20` replaced the checkout's 3,840 tracked examples without a word)."""
    from . import data

    out = Path(args.out) if args.out else paths.train_data_dir()
    if (out.exists() or out.is_symlink()) and not out.is_dir():  # a traceback before (data review)
        return _err(f"{out} is a file, not a folder: --out wants a folder for train.jsonl, eval.jsonl and stats.json")
    held = held_data_set(out)
    if held and not args.force:
        return _err(
            f"{out} already holds a data set ({held}); pass --force to replace it, "
            "or --out FOLDER to write a new one elsewhere"
        )
    try:
        stats = data.build_dataset(out, n_train=args.n_train, n_eval=args.n_eval, seed=args.seed, dialect=args.dialect)
    except ValueError as exc:  # DatasetError and an unknown dialect both say what to change
        return _err(str(exc))
    except OSError as exc:  # --out under a file, a folder not ours to write: said, not a traceback
        return _err(f"cannot write the data set to {out}: {exc}")
    print(f"Replaced the data set in {out} (it held {held})" if held else f"Wrote the data set to {out}")
    if isinstance(stats, dict):
        print(json.dumps(stats, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_from_history(args: argparse.Namespace) -> int:
    """Turn the stored chats' approved, edited and denied calls into examples."""
    from .history import examples_from_history

    db = Path(args.db) if args.db else paths.database_path()
    out = Path(args.out) if args.out else paths.train_data_dir() / "history.jsonl"
    if out.is_dir():  # --out as `data build` takes it: a folder (a traceback before; docs review)
        out = out / "history.jsonl"
    if (out.exists() or out.is_symlink()) and not args.force:  # replaced without a word (docs review)
        held = held_lines(out)
        return _err(f"{out} already exists ({held}); pass --force to replace it, or --out FILE to write another")
    if problem := output_problem(out, "--out", replaced=True):  # a traceback once the chats were read (CLI review)
        return _err(problem)
    try:
        counts = examples_from_history(db, out, dialect=args.dialect)
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))
    except OSError as exc:  # the folder went read-only, or full, meanwhile
        return _err(f"cannot write {out} ({exc.strerror or exc}): pass --out with a path in a folder you can write")

    def some(count: int, word: str) -> str:
        return f"{count} {word}" + ("" if count == 1 else "s")

    print(
        f"Wrote {some(counts['examples'], 'example')} to {out} from {some(counts['calls'], 'call')} in "
        f"{some(counts['sessions'], 'chat')} "
        f"({counts['approved']} approved, {counts['edited']} of them edited; {counts['denied']} denied; "
        f"{counts['skipped']} skipped; {counts['duplicates']} duplicates)"
    )
    return 0


def register_data(subparsers) -> None:
    """Add `data build` and `data from-history` to the `thau` parser's subcommands."""
    data = subparsers.add_parser("data", help="build training data", description="Build training data.")
    data_sub = data.add_subparsers(dest="data_command", metavar="{build,from-history}", required=True)
    about = "generate the tool-calling data set (train/eval JSONL)"
    build = data_sub.add_parser("build", help=about, description=about)
    build.set_defaults(func=cmd_data_build)
    build.add_argument(
        "--out",
        default=None,
        help="folder for train.jsonl, eval.jsonl, stats.json (default: thau's train/data, "
        "which the shipped recipes train on)",
    )
    build.add_argument(
        "--force", action="store_true", help="replace the train.jsonl and eval.jsonl already in the folder"
    )
    build.add_argument("--n-train", type=int, default=2000, help="training examples (default 2000)")
    build.add_argument("--n-eval", type=int, default=200, help="eval cases (default 200)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--dialect", default="hermes", help="tool-call dialect (default hermes)")
    about = "examples from your approved, edited and denied calls"
    hist = data_sub.add_parser("from-history", help=about, description=about)
    hist.set_defaults(func=cmd_from_history)
    hist.add_argument(
        "--out", default=None, help="output JSONL, or a folder for history.jsonl (default: thau's train/data)"
    )
    hist.add_argument("--force", action="store_true", help="replace the output file if it exists")
    hist.add_argument("--db", default=None, help="chat database (default: thau's own)")
    hist.add_argument("--dialect", default="hermes")
