"""Issue 16: train on what the shipped adapter still gets wrong (hard-example mining).

Every pass since the fifteenth started at a training loss of about 0.03: fresh examples of
the generator are mostly learnt already, so most of a pass's gradient is spent on answers
the model gives anyway. This script draws fresh training-side examples, asks the adapter
for each one's scored turn (as `thau eval` does), and builds a data set of the ones it
misses, mixed with a share of the ones it gets right so that they are not unlearnt.

    python train/hard_examples.py draw RECIPE OUT [--n 1200] [--seed 50] [--parts 2]
    python train/hard_examples.py eval OUT ADAPTER [--part K] [--threads 1]
    python train/hard_examples.py select OUT [--replay 1.0] [--repeat 2] [--seed 50]

`draw` writes OUT/examples.jsonl (training form) and OUT/cases-K.jsonl (the same examples
as eval cases, split in parts to score side by side); `eval` runs `thau eval` on one part;
`select` writes OUT/data/train.jsonl (each missed example `--repeat` times, plus `--replay`
right ones per missed one) and OUT/data/eval.jsonl (the data set's eval split, for the
trainer's eval loss). Only the training side of the template split is drawn: no held-out
frame, value, tool or schema reaches the data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# eval_case() cuts these after their last tool result, where no call is due: every one would
# count as missed (27 of 27 in the first draw) though the reply is not what they train.
NOT_SCORED = {"named_command"}


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def draw(recipe_path: str, out: Path, n: int, seed: int, parts: int) -> None:
    from thau_tui.engine.dialects import get_dialect
    from thau_tui.tools import builtin_tools
    from thau_tui.train.data import generate, token_counter
    from thau_tui.train.eval_cases import eval_case
    from thau_tui.train.recipe import load_recipe

    recipe = load_recipe(Path(recipe_path))
    args = recipe.data_build_args()
    dialect = get_dialect(args["dialect"])
    counter = token_counter(None)
    examples = generate(
        n,
        "train",
        dialect=dialect,
        tools=builtin_tools(),
        seed=seed,
        fits=lambda messages: counter(messages) <= args["max_tokens"],
        tool_weights=args.get("tool_weights"),
        kind_shares=args.get("kind_shares"),
        family_weights=args.get("family_weights"),
        pair_share=args.get("pair_share"),
    )
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "examples.jsonl", examples)
    cases = [eval_case(e, dialect) for e in examples]
    for k in range(parts):
        _write(out / f"cases-{k}.jsonl", cases[k::parts])
    print(f"{len(examples)} examples, {parts} parts -> {out}")


def run_eval(out: Path, adapter: str, part: int, threads: int) -> int:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    command = [sys.executable, "-m", "thau_tui.cli", "eval", str(out / f"cases-{part}.jsonl")]
    command += ["--output", str(out / f"predictions-{part}.jsonl"), "--adapter", adapter, "--threads", str(threads)]
    return subprocess.run(command, env=env, check=False).returncode


def select(out: Path, replay: float, repeat: int, seed: int) -> dict[str, Any]:
    from thau_tui.train.score import case_correct

    examples = {str(e["id"]): e for e in _read(out / "examples.jsonl")}
    missed: list[dict[str, Any]] = []
    right: list[dict[str, Any]] = []
    kinds: dict[str, list[int]] = {}
    for cases_path in sorted(out.glob("cases-*.jsonl")):
        predictions = out / cases_path.name.replace("cases-", "predictions-")
        by_id = {str(p.get("id")): p for p in _read(predictions)} if predictions.exists() else {}
        for case in _read(cases_path):
            if str(case["id"]) not in by_id or case["kind"] in NOT_SCORED:
                continue
            ok = case_correct(by_id[str(case["id"])], case)
            (right if ok else missed).append(examples[str(case["id"])])
            tally = kinds.setdefault(case["kind"], [0, 0])
            tally[0 if ok else 1] += 1
    rng = random.Random(seed)
    kept = rng.sample(right, min(len(right), round(len(missed) * replay)))
    rows = missed * repeat + kept
    rng.shuffle(rows)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    _write(data / "train.jsonl", rows)
    shutil.copyfile(ROOT / "train" / "data" / "eval.jsonl", data / "eval.jsonl")
    summary = {
        "scored": len(missed) + len(right),
        "missed": len(missed),
        "replayed": len(kept),
        "repeat": repeat,
        "train_rows": len(rows),
        "by_kind_right_missed": kinds,
    }
    (out / "selected.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("draw")
    p.add_argument("recipe")
    p.add_argument("out", type=Path)
    p.add_argument("--n", type=int, default=1200)
    p.add_argument("--seed", type=int, default=50)
    p.add_argument("--parts", type=int, default=2)
    p = sub.add_parser("eval")
    p.add_argument("out", type=Path)
    p.add_argument("adapter")
    p.add_argument("--part", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("select")
    p.add_argument("out", type=Path)
    p.add_argument("--replay", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--seed", type=int, default=50)
    args = parser.parse_args(argv)
    if args.command == "draw":
        draw(args.recipe, args.out, args.n, args.seed, args.parts)
    elif args.command == "eval":
        return run_eval(args.out, args.adapter, args.part, args.threads)
    else:
        print(json.dumps(select(args.out, args.replay, args.repeat, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
