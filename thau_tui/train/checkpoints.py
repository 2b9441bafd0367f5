"""A training run's checkpoints: checkpoints/step-N folders, each written whole or not at all.

Each holds the trained weights (a LoRA's adapter folder, or for `method: full` the
projections) and trainer_state.pt (step, optimizer, scheduler, RNG); `keep` of them stay.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import Iterator

_STEP = re.compile(r"step-(\d+)")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest checkpoints/step-N folder that holds a complete trainer state. A step-N.tmp
    left by a run killed while saving is not one (it stopped every resume with a ValueError)."""
    found = [
        (int(match.group(1)), p)
        for p in (run_dir / "checkpoints").glob("step-*")
        if (match := _STEP.fullmatch(p.name)) and (p / "trainer_state.pt").is_file()
    ]
    return max(found, key=lambda item: item[0])[1] if found else None


def save_checkpoint(model, optimizer, scheduler, step: int, run_dir: Path, keep: int, extra: dict) -> Path:
    """Write checkpoints/step-<step> through a .tmp folder and drop all but the newest `keep`."""
    import torch

    folder = run_dir / "checkpoints" / f"step-{step}"
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(model, "peft_config"):
        model.save_pretrained(tmp)
    else:  # method: full; the trained projections, not the whole model
        from .full_tuning import save_projections

        tmp.mkdir(parents=True)
        save_projections(model, tmp)
    torch.save(
        {
            "step": step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
            **extra,
        },
        tmp / "trainer_state.pt",
    )
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # a checkpoint is either whole or absent
    older = sorted(
        (p for p in folder.parent.glob("step-*") if p != folder and not p.name.endswith(".tmp")),
        key=lambda p: int(p.name.split("-")[1]),
    )
    for stale in older[: max(0, len(older) - (keep - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    return folder


class CheckpointError(RuntimeError):
    """A checkpoint's trainer_state.pt that cannot be loaded safely."""


def load_state(checkpoint: Path) -> dict:
    """trainer_state.pt as tensors and plain values only (`weights_only`): a run folder can be
    within the tools' reach, and a full unpickle would run whatever a planted file says."""
    import pickle

    import torch

    path = checkpoint / "trainer_state.pt"
    try:
        state = torch.load(path, weights_only=True)
        if not isinstance(state, dict) or "step" not in state:
            raise ValueError("it is not a trainer state (no step)")
        return state
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, IndexError, OSError) as exc:
        raise CheckpointError(
            f"{path} is not a trainer state thau wrote (it holds more than tensors and plain values, "
            f"or it is damaged: {(str(exc).splitlines() or [type(exc).__name__])[0][:200]}); it was not loaded. "
            f"Delete {checkpoint.name} to resume from an earlier checkpoint, or start a new run"
        ) from exc


def trained_now(run_dir: Path) -> bool:
    """Whether a trainer holds `run_dir` now (see `alone_in`): the screen offered to resume a
    run another process was training (rereview2)."""
    try:
        with alone_in(run_dir):
            return False
    except RunBusy:
        return True
    except OSError:  # cannot tell (a folder thau cannot write): not said to be busy
        return False


class RunBusy(RuntimeError):
    """Another trainer works in the run folder."""


@contextlib.contextmanager
def alone_in(run_dir: Path) -> Iterator[None]:
    """An exclusive lock on RUN_DIR/.trainer while a trainer runs there (the system releases it
    if the trainer dies); RunBusy when another holds it. Without fcntl (not POSIX): no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    from ..paths import open_for_writing

    with open_for_writing(run_dir / ".trainer", append=True) as handle:  # not through a link, nor a FIFO
        try:  # a write lock (lockf), not flock: a tool's command sees the runs folder read-only and
            # could take an flock through it, blocking every run with "another process" (re-review)
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            raise RunBusy(
                f"{run_dir.name} is being trained by another process (the training screen or thau train): "
                "wait for it to end, or start a new run"
            ) from None
        yield
