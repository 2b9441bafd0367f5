"""What the shipped LoRA adapter costs the chat: decode tokens/s and prompt reading with the
bundled model and its adapter ÷ the bare model, side by side in one run.

Each round runs every side in turn (the order rotates each round) on the same prompts:
a fixed number of greedy tokens (ignore_eos) after a fresh cache, one llama.cpp thread,
each side its own Llama object loaded once. `--adapter FILE` adds more adapters to
compare (an older rank-16 adapter, an f32 export of the same one). Prints each side's
median tokens/s and its ratio to the bare model.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _common import median

PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\nExplain in a few sentences what a Python list is and how to sort one.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def one_round(llm, tokens: int) -> tuple[float, float]:
    """(prompt tokens/s, decode tokens/s) for one answer from a fresh cache."""
    ids = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    llm.reset()
    started = time.perf_counter()
    llm.eval(ids[:-1])
    read = time.perf_counter() - started
    started = time.perf_counter()
    made = 0
    # generate() finds the prompt read above as its cache prefix and reads only the last token
    for _token in llm.generate(ids, temp=0.0, top_k=1, reset=True):
        made += 1
        if made == tokens:
            break
    return (len(ids) - 1) / read, made / (time.perf_counter() - started)


def main() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as thau eval: no spinning beside other work
    import llama_cpp

    from thau_tui.paths import bundled_adapter, bundled_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--adapter", action="append", default=[], help="another adapter GGUF to compare")
    args = parser.parse_args()
    model = bundled_model()
    shipped = bundled_adapter()
    sides: dict[str, str | None] = {"bare model": None}
    if shipped is not None:
        sides[f"shipped ({shipped.name})"] = str(shipped)
    for extra in args.adapter:
        sides[Path(extra).name] = extra
    llms = {
        name: llama_cpp.Llama(
            str(model),
            lora_path=path,
            n_ctx=1024,
            n_threads=args.threads,
            n_threads_batch=args.threads,  # as the chat does: llama.cpp's default reads on every core
            verbose=False,
            seed=0,
        )
        for name, path in sides.items()
    }
    reads: dict[str, list[float]] = {name: [] for name in sides}
    decodes: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.rounds + 1):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            read, decode = one_round(llms[name], args.tokens)
            if round_:  # the first round warms every side up
                reads[name].append(read)
                decodes[name].append(decode)
    bare_read, bare_decode = median(reads["bare model"]), median(decodes["bare model"])
    print(f"{args.rounds} rounds, {args.tokens} tokens each, {args.threads} thread(s); medians:")
    for name in names:
        read, decode = median(reads[name]), median(decodes[name])
        print(
            f"  {name:48s} decode {decode:6.1f} tok/s ({decode / bare_decode:.2f} of bare)  "
            f"prompt {read:7.1f} tok/s ({read / bare_read:.2f} of bare)"
        )


if __name__ == "__main__":
    main()
