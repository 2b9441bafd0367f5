"""Decoding beside busy processes: thau's adaptive threads vs the same model pinned to as
many threads as the machine has cores (what thau did before), in one run.

For 0, 1 and 2 background busy loops (plain `while True: pass` processes), the two sides
take turns answering the same greedy prompt (the order alternates each round). Printed
per load: each side's median tokens/s, the longest pause between two tokens (a stall the
user sees), adaptive / pinned of the medians, and the threads adaptive chose.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _common import load_backend, median

PROMPT = "<|im_start|>user\nWrite a short story about a lighthouse keeper.<|im_end|>\n<|im_start|>assistant\n"


def answer(backend, adaptive: bool, tokens: int) -> tuple[float, float, int]:
    from thau_tui.engine.backend import SamplingSettings, StreamStats

    backend.adaptive = adaptive
    backend.llm.reset()  # both sides read the prompt afresh
    stats = StreamStats()
    stamps = []
    started = time.perf_counter()
    for _piece in backend.stream(PROMPT, SamplingSettings(max_tokens=tokens, temperature=0.0), stats):
        stamps.append(time.perf_counter())
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    first = stamps[0] if stamps else started
    rate = (stats.tokens - 1) / (stamps[-1] - first) if len(stamps) > 1 else float("nan")
    return rate, max(gaps, default=0.0), stats.threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=96)
    args = parser.parse_args()
    backend = load_backend()
    cores = os.cpu_count() or 1
    print(f"{cores} cores; pinned side: {backend.n_threads} threads")
    for busy in (0, 1, 2):
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            time.sleep(1.0)
            backend._load.others_busy()
            sides: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
            for round_ in range(args.rounds):
                for adaptive in (True, False) if round_ % 2 == 0 else (False, True):
                    if adaptive:
                        time.sleep(0.5)  # a window for the load reading, as between two chat turns
                    sides[adaptive].append(answer(backend, adaptive, args.tokens))
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
        a, p = sides[True], sides[False]
        rate_a, rate_p = median([r for r, _g, _t in a]), median([r for r, _g, _t in p])
        print(
            f"{busy} busy: adaptive {rate_a:.1f} tok/s (longest pause {max(g for _r, g, _t in a):.2f} s, "
            f"threads {sorted({t for _r, _g, t in a})}) | pinned {rate_p:.1f} tok/s (longest pause "
            f"{max(g for _r, g, _t in p):.2f} s) | adaptive / pinned {rate_a / rate_p:.2f}"
        )


if __name__ == "__main__":
    main()
