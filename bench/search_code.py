"""search_code over 10,000 small files: seconds with workspace.path_under comparing path parts
(now) ÷ with `folder in path.parents` (before: it built every parent anew, per file and per
hidden folder), taking turns in one process.

Printed: the median seconds of each and their ratio (parents ÷ parts)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (THAU_HOME and the path to thau)

from thau_tui.config import Config
from thau_tui.tools import workspace
from thau_tui.tools.base import ToolContext
from thau_tui.tools.file_search import search_code


def by_parents(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="thau-search-"))
    for d in range(100):
        sub = folder / f"d{d}"
        sub.mkdir()
        for f in range(100):
            (sub / f"f{f}.txt").write_text(f"file {d} {f}\nnothing here\n")
    ctx = ToolContext(workspace=folder, config=Config())
    parts = workspace.path_under
    times: dict[str, list[float]] = {"parts": [], "parents": []}
    for _ in range(args.rounds):
        for name, under in (("parents", by_parents), ("parts", parts)):
            workspace.path_under = under
            started = time.perf_counter()
            out = search_code({"pattern": "file 99 99"}, ctx).output
            times[name].append(time.perf_counter() - started)
            assert out.startswith("1 match(es) in 1 file(s)"), out
    workspace.path_under = parts
    first, now = statistics.median(times["parents"]), statistics.median(times["parts"])
    print(
        f"10,000 files: by parents {first:.2f} s, by parts {now:.2f} s "
        f"(medians of {args.rounds}); ratio {first / now:.1f}x"
    )


if __name__ == "__main__":
    main()
