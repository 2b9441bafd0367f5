"""Per-step time of thau's generate_image path vs the same diffusers pipeline called directly.

    python bench/image_step.py                 # a tiny SD built from configs (CPU, seconds)
    python bench/image_step.py models/sd-turbo [--size 512] [--steps 4] [--rounds 5]

Both sides use the one cached pipeline, the same size, steps and seed, interleaved
round by round so drift (thermal, other processes) hits both. thau's side includes
its progress callback, cancel check and writing the PNG + sidecar. Prints the
median per-step time of each and the ratio (goal: <= 1.05).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "images"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="diffusers folder or checkpoint (default: a tiny SD built here)")
    parser.add_argument("--size", type=int, default=None, help="width and height in pixels")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: steadier on a shared machine; 0 = torch's choice)",
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="thau-bench-"))
    os.environ.setdefault("THAU_HOME", str(scratch / "home"))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from thau_tui.config import ImagesConfig
    from thau_tui.tools.imaging import generate, load_pipeline

    if args.model:
        model, size, steps = args.model, args.size, args.steps
    else:
        from tiny_sd import build_tiny_sd

        model, size, steps = str(build_tiny_sd(scratch / "tiny-sd")), args.size or 64, args.steps or 8
    settings = ImagesConfig(model=model)
    loaded = load_pipeline(settings)
    size = size or loaded.defaults.width
    steps = steps or loaded.defaults.steps
    guidance = loaded.defaults.guidance
    print(
        f"model {loaded.model.name} ({loaded.defaults.family}) on {loaded.device} {loaded.dtype}, "
        f"{size}x{size}, {steps} steps, guidance {guidance}, {args.rounds} rounds, "
        f"{torch.get_num_threads()} torch threads"
    )

    def direct() -> float:
        started = time.perf_counter()
        with loaded.lock:
            loaded.pipe(
                prompt="a lighthouse at dusk",
                width=size,
                height=size,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=torch.Generator("cpu").manual_seed(1),
            )
        return (time.perf_counter() - started) / steps

    def through_thau() -> float:
        seen: list[float] = []
        started = time.perf_counter()
        generate(
            settings,
            "a lighthouse at dusk",
            width=size,
            height=size,
            steps=steps,
            guidance=guidance,
            seed=1,
            on_progress=lambda done, total, label: seen.append(done),
            cancel_event=threading.Event(),
        )
        elapsed = time.perf_counter() - started
        assert seen[-1] == steps, "progress did not reach the last step"
        return elapsed / steps

    direct(), through_thau()  # warm-up: first calls pay allocator and kernel set-up
    plain, thau = [], []
    for n in range(args.rounds):
        # Alternate which goes first so neither always runs on a warmer cache.
        order = (direct, through_thau) if n % 2 == 0 else (through_thau, direct)
        for fn in order:
            (plain if fn is direct else thau).append(fn())
    plain_s, thau_s = statistics.median(plain), statistics.median(thau)
    print(f"diffusers directly : {plain_s * 1000:8.2f} ms/step (median)")
    print(f"thau generate_image: {thau_s * 1000:8.2f} ms/step (median, incl. PNG + sidecar)")
    print(f"ratio thau/direct  : {thau_s / plain_s:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
