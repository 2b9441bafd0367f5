"""Streaming overhead: tokens/s the TUI shows ÷ tokens/s of raw llama-cpp-python.

Same model, prompt, sampling (greedy) and thread count; the KV cache is cleared
before every run so both read the whole prompt. Runs alternate, and the medians
are compared. Goal: >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import load_backend, median

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import TextDelta, TurnDone
from thau_tui.tools import ToolRegistry

QUESTION = "Write a detailed, step by step explanation of how a refrigerator works."


def config(max_tokens: int) -> Config:
    cfg = Config()
    cfg.generation.temperature = 0.0
    cfg.generation.max_tokens = max_tokens
    return cfg


def raw_run(backend, prompt: str, cfg: Config) -> tuple[int, float]:
    """Plain llama-cpp-python streaming, the way a minimal client would."""
    backend.llm.reset()
    g = cfg.generation
    started = time.perf_counter()
    tokens, text = 0, ""
    for chunk in backend.llm.create_completion(
        prompt=backend.tokenize(prompt), max_tokens=g.max_tokens, temperature=g.temperature, top_p=g.top_p,
        top_k=g.top_k, repeat_penalty=g.repeat_penalty, stream=True,
    ):
        if chunk["choices"][0]["text"]:
            tokens += 1
            text += chunk["choices"][0]["text"]
    return tokens, text, time.perf_counter() - started


async def tui_run(backend, cfg: Config) -> tuple[int, float]:
    """The real app, headless: submit, stream into the Markdown widget, wait for the end."""
    from thau_tui.engine.store import Store
    from thau_tui.ui.app import ThauApp

    backend.llm.reset()
    import tempfile
    from pathlib import Path

    store = Store(Path(tempfile.mkdtemp()) / "db")
    app = ThauApp(ConfigResult(cfg, None), store=store, backend=backend, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for name in app.registry.names():  # the same prompt as the raw run: no tool block
            app.registry.unregister(name)
        started = time.perf_counter()
        await app.send(QUESTION).wait()
        elapsed = time.perf_counter() - started
        msgs = store.messages(app.session.id)
    return msgs[-1]["content"], elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    backend = load_backend()
    cfg = config(args.max_tokens)
    agent = Agent(cfg, ToolRegistry(), backend=backend)
    session = agent.new_session()
    session.messages.append({"role": "user", "content": QUESTION})
    prompt = agent.render_prompt(session)
    raw_rates, tui_rates = [], []
    for i in range(args.rounds):
        n, raw_text, t = raw_run(backend, prompt, cfg)
        raw_rates.append(n / t)
        tui_text, t2 = asyncio.run(tui_run(backend, cfg))
        # greedy decoding: both must have produced the same answer, so tokens are equal
        assert tui_text.strip() == raw_text.strip(), "the TUI and raw runs generated different text"
        n2 = n
        tui_rates.append(n2 / t2)
        print(f"round {i + 1}: raw {n} tok in {t:.2f}s = {n / t:.1f} tok/s | tui {n2} tok in {t2:.2f}s = {n2 / t2:.1f} tok/s")
    raw, tui = median(raw_rates), median(tui_rates)
    print(f"raw llama-cpp-python: {raw:.1f} tok/s (median)")
    print(f"thau TUI:             {tui:.1f} tok/s (median)")
    print(f"streaming overhead ratio (TUI / raw): {tui / raw:.3f}  (goal >= 0.97)")


if __name__ == "__main__":
    main()
