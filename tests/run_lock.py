"""Another process holding a run folder's trainer lock, as a live trainer does."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

HOLD = (
    "import sys, time; from pathlib import Path; from thau_tui.train.checkpoints import alone_in\n"
    "with alone_in(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"
)


@contextlib.contextmanager
def held_by_another(run_dir: Path) -> Iterator[None]:
    """While inside, a child process holds `run_dir`'s lock (train/checkpoints.alone_in); on
    leaving it is killed, and the system lets go of its lock."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
