"""Streaming overhead: tokens/s the TUI shows ÷ tokens/s of raw llama-cpp-python.

Same model, prompt, sampling (greedy) and thread count. Each side runs in a fresh
process, the way a user runs it: the raw side is a plain streaming client on the
main thread; the TUI side is the real app, headless, which loads the model itself
and renders every token. Each process warms up once, then times a generation with
the KV cache cleared, so both read the whole prompt, --reps times. Processes
alternate, and the medians are compared (and, as a check against drift on a shared
machine, the median of each round's TUI / raw). The engine alone (Agent.run_turn, no screen) is timed too, to
show where any loss comes from. The TUI's process also times raw llama-cpp-python on the
app's own model just before each answer, for pairs seconds apart. Goal: >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from _common import ROOT, median

QUESTION = "Write a detailed, step by step explanation of how a refrigerator works."


def config(max_tokens: int):
    from thau_tui.config import Config

    cfg = Config()
    cfg.generation.temperature = 0.0
    cfg.generation.max_tokens = max_tokens
    cfg.model.lora_path = None  # the bundled model as shipped, on every side
    return cfg


def raw_side(max_tokens: int, reps: int) -> dict:
    """Plain llama-cpp-python streaming on the main thread, the way a minimal client would."""
    from types import SimpleNamespace

    from llama_cpp import Llama

    from thau_tui.engine.agent import Agent
    from thau_tui.engine.backend import default_threads
    from thau_tui.engine.models import resolve_model
    from thau_tui.engine.prompt import ChatTemplate, read_gguf_metadata, template_for
    from thau_tui.tools import ToolRegistry

    cfg = config(max_tokens)
    path, _ = resolve_model(cfg)
    m = cfg.model
    llm = Llama(model_path=str(path), n_ctx=m.n_ctx, n_threads=m.n_threads or default_threads(),
                n_gpu_layers=m.n_gpu_layers, seed=m.seed, verbose=False)
    meta = read_gguf_metadata(path)
    template = ChatTemplate(template_for(meta), bos_token=str(meta.get("bos_token", "")),
                            eos_token=str(meta.get("eos_token", "")))
    # thau's prompt text for the question, rendered without thau's backend
    shim = SimpleNamespace(name=path.stem, template=template, n_ctx=llm.n_ctx(),
                           count_tokens=lambda text: len(llm.tokenize(text.encode(), special=True)))
    agent = Agent(cfg, ToolRegistry(), backend=shim)
    session = agent.new_session()
    session.messages.append({"role": "user", "content": QUESTION})
    tokens_in = llm.tokenize(agent.render_prompt(session).encode(), add_bos=llm._model.add_bos_token(), special=True)
    g = cfg.generation

    def once() -> tuple[int, str, float]:
        llm.reset()
        started = time.perf_counter()
        n, text = 0, ""
        for chunk in llm.create_completion(
            prompt=tokens_in, max_tokens=g.max_tokens, temperature=g.temperature, top_p=g.top_p,
            top_k=g.top_k, repeat_penalty=g.repeat_penalty, stream=True,
        ):
            if chunk["choices"][0]["text"]:
                n += 1
                text += chunk["choices"][0]["text"]
        return n, text, time.perf_counter() - started

    once()  # warm-up: page in the weights
    runs = [once() for _ in range(reps)]
    return {"tokens": runs[0][0], "text": runs[0][1], "seconds": [r[2] for r in runs]}


def engine_side(max_tokens: int, reps: int) -> dict:
    """The engine with no screen: Agent.run_turn, events consumed and dropped."""
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.events import TurnDone
    from thau_tui.engine.models import load_backend
    from thau_tui.tools import ToolRegistry

    cfg = config(max_tokens)
    backend = load_backend(cfg)
    agent = Agent(cfg, ToolRegistry(), backend=backend)

    async def once() -> tuple[int, float]:
        backend.llm.reset()
        started = time.perf_counter()
        done = [e async for e in agent.run_turn(agent.new_session(), QUESTION) if isinstance(e, TurnDone)][0]
        return done.stats.tokens, time.perf_counter() - started

    asyncio.run(once())
    runs = [asyncio.run(once()) for _ in range(reps)]
    return {"tokens": runs[0][0], "seconds": [r[1] for r in runs]}


def tui_side(max_tokens: int, reps: int) -> dict:
    """The real app, headless: it loads the model, streams into the chat, stores the reply.

    Before each answer, the same process also times a plain create_completion stream on
    the app's own model (the UI idle meanwhile): a raw figure taken seconds, not
    minutes, from the TUI's, for a paired ratio that the machine's drift moves less."""
    import tempfile
    from pathlib import Path

    from thau_tui.config import ConfigResult
    from thau_tui.engine.backend import MODEL_THREAD
    from thau_tui.engine.store import Store
    from thau_tui.ui.app import ThauApp

    store = Store(Path(tempfile.mkdtemp()) / "db")
    cfg = config(max_tokens)
    app = ThauApp(ConfigResult(cfg, None), store=store, watch=False)
    g = cfg.generation

    def raw(tokens) -> tuple[str, float]:
        llm = app.agent.backend.llm
        llm.reset()
        started = time.perf_counter()
        text = "".join(chunk["choices"][0]["text"] for chunk in llm.create_completion(
            prompt=tokens, max_tokens=g.max_tokens, temperature=g.temperature, top_p=g.top_p,
            top_k=g.top_k, repeat_penalty=g.repeat_penalty, stream=True,
        ))
        return text, time.perf_counter() - started

    async def drive() -> tuple[str, list[float], list[float], str]:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.agent.backend is None:
                await pilot.pause(0.05)
            for name in app.registry.names():  # the same prompt as the raw side: no tool block
                app.registry.unregister(name)
            session = app.agent.new_session()
            session.messages.append({"role": "user", "content": QUESTION})
            tokens = app.agent.backend.tokenize(app.agent.render_prompt(session))
            await app.send(QUESTION).wait()  # warm-up
            times, raw_times = [], []
            for _ in range(reps):  # each in a new chat, as a user asks a first question
                raw_text, seconds = MODEL_THREAD.call(raw, tokens)  # the model's own thread
                raw_times.append(seconds)
                await app.action_new_chat()
                app.agent.backend.llm.reset()
                await pilot.pause()
                started = time.perf_counter()
                await app.send(QUESTION).wait()
                times.append(time.perf_counter() - started)
            return store.messages(app.session.id)[-1]["content"], times, raw_times, raw_text

    text, times, raw_times, raw_text = asyncio.run(drive())
    return {"text": text, "seconds": times, "raw_seconds": raw_times, "raw_text": raw_text}


SIDES = {"raw": raw_side, "engine": engine_side, "tui": tui_side}


def run_side(side: str, max_tokens: int, reps: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--max-tokens", str(max_tokens), "--reps", str(reps)],
        capture_output=True, text=True, cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"the {side} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3, help="timed generations per process")
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(SIDES[args.side](args.max_tokens, args.reps)))
        return
    rates: dict[str, list[float]] = {side: [] for side in SIDES}
    paired: list[float] = []  # TUI / raw within a round: the two ran minutes apart at most
    close: list[float] = []  # TUI / raw in the TUI's process, each pair seconds apart
    for i in range(args.rounds):
        raw = run_side("raw", args.max_tokens, args.reps)
        engine = run_side("engine", args.max_tokens, args.reps)
        tui = run_side("tui", args.max_tokens, args.reps)
        # greedy decoding: the TUI must have produced the same answer, so the token counts are equal
        assert tui["text"].strip() == raw["text"].strip(), "the TUI and raw runs generated different text"
        assert engine["tokens"] == raw["tokens"], "the engine and raw runs generated different lengths"
        assert tui["raw_text"].strip() == raw["text"].strip(), "the in-process raw run generated different text"
        n = raw["tokens"]
        close.extend(r / t for r, t in zip(tui["raw_seconds"], tui["seconds"]))
        for side, result in (("raw", raw), ("engine", engine), ("tui", tui)):
            rates[side].extend(n / seconds for seconds in result["seconds"])
        round_rate = {side: median(rates[side][-args.reps:]) for side in SIDES}
        paired.append(round_rate["tui"] / round_rate["raw"])
        print(f"round {i + 1}: {n} tokens x {args.reps} | raw {round_rate['raw']:.1f} tok/s | engine "
              f"{round_rate['engine']:.1f} | tui {round_rate['tui']:.1f} | tui/raw {paired[-1]:.3f}", flush=True)
    raw, engine, tui = (median(rates[s]) for s in ("raw", "engine", "tui"))
    print(f"raw llama-cpp-python: {raw:.1f} tok/s (median of {len(rates['raw'])})")
    print(f"thau engine, no UI:   {engine:.1f} tok/s (median)  ratio {engine / raw:.3f}")
    print(f"thau TUI:             {tui:.1f} tok/s (median)")
    print(f"streaming overhead ratio (TUI / raw): {tui / raw:.3f}  (goal >= 0.97)")
    print(f"  median of the per-round ratios:     {median(paired):.3f}")
    print(f"  paired in the TUI's process:        {median(close):.3f}  (median of {len(close)} pairs, "
          "raw on the app's model seconds before each answer)")

if __name__ == "__main__":
    main()
