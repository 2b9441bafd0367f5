"""Issue 16's paired check of two adapters: the same cases, the same scorer, case by case.

    python train/paired_eval.py [--sets train/runs/evsets] sets         # the fresh files
    python train/paired_eval.py run ADAPTER NAME [--threads 1]           # thau eval on all seven
    python train/paired_eval.py compare NAME NAME...                     # the first is the base

The seven files: train/data's eval split (200) and its held-out built-ins (112), chats (80)
and unseen schemas (80); the fresh held-out chats and schemas (build_heldout with seed 1, 80
each: the seed-0 files are the ones every adapter has been read against) and the 48 fresh
no-tool questions kept in models/thau-smollm2-135m-tools.json. `run` writes predictions to
train/runs/ev/NAME/FILE.jsonl with `thau eval` (temperature 0), skipping a file already
complete, so a run cut off goes on where it stopped. `compare` prints each adapter's right
answers per file and, against the first, the cases gained and lost over the 632 tool cases
and over all 680 with the exact two-sided McNemar p (a binomial test on the discordant
pairs). Totals alone hide a candidate that wins one file and loses another; the pairs do not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "train" / "data"
SETS = ROOT / "train" / "runs" / "evsets"
PREDICTIONS = ROOT / "train" / "runs" / "ev"
NO_TOOL = "notool48"


def files(sets: Path = SETS) -> dict[str, Path]:
    """The seven case files by the name their predictions are stored under."""
    return {
        "eval": DATA / "eval.jsonl",
        "heldout_builtin": DATA / "heldout_builtin.jsonl",
        "heldout_multiturn": DATA / "heldout_multiturn.jsonl",
        "heldout_schemas": DATA / "heldout_schemas.jsonl",
        "fresh-heldout_multiturn": sets / "fresh-heldout_multiturn.jsonl",
        "fresh-heldout_schemas": sets / "fresh-heldout_schemas.jsonl",
        NO_TOOL: sets / f"{NO_TOOL}.jsonl",
    }


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def no_tool_cases(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The fresh no-tool questions of the shipped adapter's record as eval cases."""
    rows: list[dict[str, Any]] = []
    for key in ("fresh_no_tool_check", "fresh_no_tool_check_2"):
        for question in record[key]["questions"]:
            rows.append(
                {
                    "id": f"{NO_TOOL}-{len(rows):03d}",
                    "lang": question["lang"],
                    "kind": "no_call",
                    "tool": None,
                    "messages": [{"role": "user", "content": question["text"]}],
                    "expected_calls": [],
                }
            )
    return rows


def write_sets(out: Path) -> None:
    from thau_tui.engine.dialects import get_dialect
    from thau_tui.tools import builtin_tools
    from thau_tui.train.heldout import build_heldout

    out.mkdir(parents=True, exist_ok=True)
    built = build_heldout(get_dialect("hermes"), builtin_tools(), 1)
    for name in ("heldout_multiturn.jsonl", "heldout_schemas.jsonl"):
        _write(out / f"fresh-{name}", built[name])
    record = json.loads((ROOT / "models" / "thau-smollm2-135m-tools.json").read_text(encoding="utf-8"))
    _write(out / f"{NO_TOOL}.jsonl", no_tool_cases(record))


def _count(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()) if path.exists() else 0


def run(adapter: str, name: str, threads: int, sets: Path) -> int:
    out = PREDICTIONS / name
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")  # llama.cpp's threads must not spin beside other work
    for key, cases in files(sets).items():
        if not cases.exists():
            raise SystemExit(f"{cases} is missing: run `python train/paired_eval.py sets` first")
        predictions = out / f"{key}.jsonl"
        if _count(predictions) >= _count(cases):
            continue
        command = [sys.executable, "-m", "thau_tui.cli", "eval", str(cases), "--output", str(predictions)]
        command += ["--adapter", adapter, "--threads", str(threads)]
        print(f"{name}: {key} ({_count(cases)} cases)", flush=True)
        with (out / f"{key}.log").open("w", encoding="utf-8") as log:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
        if done.returncode != 0:
            print(f"{name}: thau eval failed on {key}; see {out / (key + '.log')}", file=sys.stderr)
            return done.returncode
    return 0


def right_answers(name: str, sets: Path = SETS) -> dict[tuple[str, str], bool]:
    """(file, case id) -> right, for every case the adapter has a prediction for."""
    from thau_tui.train.score import case_correct, read_jsonl

    right = {}
    for key, cases_path in files(sets).items():
        predictions = PREDICTIONS / name / f"{key}.jsonl"
        if not predictions.exists():
            continue
        by_id = {str(p.get("id")): p for p in read_jsonl(predictions)}
        for case in read_jsonl(cases_path):
            if str(case["id"]) in by_id:
                right[(key, str(case["id"]))] = case_correct(by_id[str(case["id"])], case)
    return right


def mcnemar_p(gained: int, lost: int) -> float:
    """Exact two-sided McNemar p: the discordant pairs against a fair coin."""
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(gained, lost) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(base: dict[tuple[str, str], bool], other: dict[tuple[str, str], bool], with_no_tool: bool) -> dict[str, Any]:
    keys = [k for k in base if k in other and (with_no_tool or k[0] != NO_TOOL)]
    gained = sum(other[k] and not base[k] for k in keys)
    lost = sum(base[k] and not other[k] for k in keys)
    return {"cases": len(keys), "gained": gained, "lost": lost, "exact_mcnemar_p": round(mcnemar_p(gained, lost), 3)}


def compare(names: list[str], sets: Path) -> dict[str, Any]:
    answers = {name: right_answers(name, sets) for name in names}
    report: dict[str, Any] = {"right": {}, "of": {}, "paired": {}}
    for name, right in answers.items():
        report["right"][name] = {key: sum(v for (k, _), v in right.items() if k == key) for key in files(sets)}
        report["of"][name] = {key: sum(1 for (k, _) in right if k == key) for key in files(sets)}
    base = names[0]
    for name in names[1:]:
        report["paired"][f"{name} vs {base}"] = {
            "tool_cases": paired(answers[base], answers[name], with_no_tool=False),
            "with_no_tool": paired(answers[base], answers[name], with_no_tool=True),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=Path, default=SETS, help="where the fresh files are (default train/runs/evsets)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sets", help="write the fresh held-out files and the no-tool questions")
    run_parser = sub.add_parser("run", help="thau eval an adapter on the seven files")
    run_parser.add_argument("adapter", help="GGUF adapter, or 'none' for the bare model")
    run_parser.add_argument("name", help="the name its predictions are kept under (train/runs/ev/NAME)")
    run_parser.add_argument("--threads", type=int, default=1)
    compare_parser = sub.add_parser("compare", help="right answers per file, and pairs against the first")
    compare_parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "sets":
        write_sets(args.sets)
        print(f"wrote the fresh files to {args.sets}")
        return 0
    if args.command == "run":
        return run(args.adapter, args.name, args.threads, args.sets)
    print(json.dumps(compare(args.names, args.sets), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
