"""Helpers shared by the benchmarks (not part of the test run)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("THAU_HOME", tempfile.mkdtemp(prefix="thau-bench-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_backend(n_ctx: int = 4096):
    from thau_tui.engine.backend import LlamaBackend
    from thau_tui.paths import bundled_model

    return LlamaBackend(bundled_model(), n_ctx=n_ctx, seed=0)
