"""`thau data build` and `thau data from-history`: the data set, and examples from chats.

`register_data(subparsers)` adds the `data` command to the parser train/cli.py builds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import paths


def _err(message: str) -> int:
    """Print a problem on stderr and return the exit code for a usage error."""
    print(f"thau: {message}", file=sys.stderr)
    return 2


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
    try:
        counts = examples_from_history(db, out, dialect=args.dialect)
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))

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
