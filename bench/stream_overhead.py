"""Streaming overhead: tokens/s the TUI shows ÷ tokens/s of raw llama-cpp-python.

Same model, prompt, sampling (greedy) and thread count. Each side runs in its own
process, the way a user runs it: the raw side is a plain streaming client on the
main thread; the TUI side is the real app, headless, which loads the model itself
and renders every token; the engine alone (Agent.run_turn, no screen) shows where any
loss comes from. The three processes load once, warm up, and then take turns, one
answer at a time (the order rotates each round), while the others wait on a pipe
with no CPU: answers seconds apart, so the shared machine's drift moves the sides
together. Every answer starts with the KV cache cleared, so it reads the whole
prompt. Printed: each side's median tokens/s, TUI / raw of the medians, the median of
each round's TUI / raw, and a third figure from the TUI's own process, which also
streams raw llama-cpp-python on the app's model just before or just after each of its
answers (in turn).
Goal: >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from _common import ROOT, median

from thau_tui.engine.cpu_load import RECENT_S

QUESTION = "Write a detailed, step by step explanation of how a refrigerator works."


def config(max_tokens: int):
    from thau_tui.config import Config

    cfg = Config()
    cfg.generation.temperature = 0.0
    cfg.generation.max_tokens = max_tokens
    cfg.model.lora_path = None  # the bundled model as shipped, on every side
    return cfg


def serve(once) -> None:
    """A side's process, loaded and warmed up: one timed answer per "go" on stdin."""
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        print(json.dumps(once()), flush=True)


def raw_side(max_tokens: int) -> None:
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
    llm = Llama(
        model_path=str(path),
        n_ctx=m.n_ctx,
        n_threads=m.n_threads or default_threads(),
        n_gpu_layers=m.n_gpu_layers,
        seed=m.seed,
        verbose=False,
    )
    meta = read_gguf_metadata(path)
    template = ChatTemplate(
        template_for(meta), bos_token=str(meta.get("bos_token", "")), eos_token=str(meta.get("eos_token", ""))
    )
    # thau's prompt text for the question, rendered without thau's backend
    shim = SimpleNamespace(
        name=path.stem,
        template=template,
        n_ctx=llm.n_ctx(),
        count_tokens=lambda text: len(llm.tokenize(text.encode(), special=True)),
    )
    agent = Agent(cfg, ToolRegistry(), backend=shim)
    session = agent.new_session()
    session.messages.append({"role": "user", "content": QUESTION})
    tokens_in = llm.tokenize(agent.render_prompt(session).encode(), add_bos=llm._model.add_bos_token(), special=True)
    g = cfg.generation

    def once() -> dict:
        llm.reset()
        started = time.perf_counter()
        n, text = 0, ""
        for chunk in llm.create_completion(
            prompt=tokens_in,
            max_tokens=g.max_tokens,
            temperature=g.temperature,
            top_p=g.top_p,
            top_k=g.top_k,
            repeat_penalty=g.repeat_penalty,
            stream=True,
        ):
            if chunk["choices"][0]["text"]:
                n += 1
                text += chunk["choices"][0]["text"]
        return {"tokens": n, "text": text, "seconds": time.perf_counter() - started}

    once()  # warm-up: page in the weights
    serve(once)


def engine_side(max_tokens: int) -> None:
    """The engine with no screen: Agent.run_turn, events consumed and dropped."""
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.events import TurnDone
    from thau_tui.engine.models import load_backend
    from thau_tui.tools import ToolRegistry

    cfg = config(max_tokens)
    backend = load_backend(cfg)
    agent = Agent(cfg, ToolRegistry(), backend=backend)

    async def once() -> dict:
        backend.llm.reset()
        started = time.perf_counter()
        done = [e async for e in agent.run_turn(agent.new_session(), QUESTION) if isinstance(e, TurnDone)][0]
        return {"tokens": done.stats.tokens, "seconds": time.perf_counter() - started}

    asyncio.run(once())
    serve(lambda: asyncio.run(once()))


def tui_side(max_tokens: int) -> None:
    """The real app, headless: it loads the model, streams into the chat, stores the reply.

    Next to each answer, just before it or just after it in turn, the same process also
    times a plain create_completion stream on the app's own model (the UI idle
    meanwhile): a raw figure taken seconds from the TUI's, in the same process."""
    import tempfile
    from pathlib import Path

    from thau_tui.config import ConfigResult
    from thau_tui.engine.backend import MODEL_THREAD
    from thau_tui.engine.store import Store
    from thau_tui.ui.app import ThauApp
    from thau_tui.ui.widgets.prompt_input import PromptInput

    store = Store(Path(tempfile.mkdtemp()) / "db")
    cfg = config(max_tokens)
    app = ThauApp(ConfigResult(cfg, None), store=store, watch=False)
    g = cfg.generation

    def raw(tokens) -> tuple[str, float]:
        llm = app.agent.backend.llm
        llm.reset()
        started = time.perf_counter()
        text = "".join(
            chunk["choices"][0]["text"]
            for chunk in llm.create_completion(
                prompt=tokens,
                max_tokens=g.max_tokens,
                temperature=g.temperature,
                top_p=g.top_p,
                top_k=g.top_k,
                repeat_penalty=g.repeat_penalty,
                stream=True,
            )
        )
        return text, time.perf_counter() - started

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.agent.backend is None:
                await pilot.pause(0.05)
            for name in app.registry.names():  # the same prompt as the raw side: no tool block
                app.registry.unregister(name)
            session = app.agent.new_session()
            session.messages.append({"role": "user", "content": QUESTION})
            tokens = app.agent.backend.tokenize(app.agent.render_prompt(session))
            await app.send(QUESTION).wait()  # warm-up
            prompt = app.query_one(PromptInput)
            print(json.dumps({"ready": True}), flush=True)
            count = 0
            while (await asyncio.to_thread(sys.stdin.readline)).strip() == "go":
                count += 1
                raw_first = count % 2 == 1  # the pair's order alternates: no side always goes first
                if raw_first:
                    raw_text, raw_seconds = MODEL_THREAD.call(raw, tokens)  # the model's own thread
                await app.action_new_chat()  # each answer in a new chat, as a first question
                app.agent.backend.llm.reset()
                await pilot.pause()
                started = time.perf_counter()
                await app.send(QUESTION).wait()
                seconds = time.perf_counter() - started
                # the app does nothing now (no blinking cursor, no work left from the turn)
                # that would take CPU from what runs next
                prompt.cursor_blink = False
                await pilot.pause(0.2)
                if not raw_first:
                    raw_text, raw_seconds = MODEL_THREAD.call(raw, tokens)
                print(
                    json.dumps(
                        {
                            "text": store.messages(app.session.id)[-1]["content"],
                            "seconds": seconds,
                            "raw_text": raw_text,
                            "raw_seconds": raw_seconds,
                            "raw_first": raw_first,
                        }
                    ),
                    flush=True,
                )

    asyncio.run(drive())


SIDES = {"raw": raw_side, "engine": engine_side, "tui": tui_side}


class Side:
    """A side's process, loaded and waiting for "go"."""

    def __init__(self, name: str, max_tokens: int) -> None:
        import tempfile

        self.name = name
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--side", name, "--max-tokens", str(max_tokens)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
        )
        self._read()  # loaded and warmed up

    def _read(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith("{"):
                return json.loads(line)
        self.log.seek(0)
        raise SystemExit(f"the {self.name} side failed:\n{self.log.read()[-3000:]}")

    def answer(self) -> dict:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9, help="answers per side, taking turns")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        SIDES[args.side](args.max_tokens)
        return
    sides = [Side(name, args.max_tokens) for name in SIDES]  # one at a time: loading takes the cores
    rates: dict[str, list[float]] = {name: [] for name in SIDES}
    per_round: list[float] = []  # TUI / raw of one round: answers seconds apart
    close: list[float] = []  # TUI / raw in the TUI's process, each pair seconds apart
    before: list[float] = []  # ...of those, the pairs whose raw run went first
    after: list[float] = []
    text = None
    try:
        for i in range(args.rounds):
            results = {}
            for side in sides[i % 3 :] + sides[: i % 3]:  # the order rotates
                # Each side starts on a quiet machine: thau sizes its threads to the last
                # second's load, and the side before had just used both cores.
                time.sleep(RECENT_S + 0.3)
                results[side.name] = side.answer()
            raw, engine, tui = results["raw"], results["engine"], results["tui"]
            # greedy decoding: the same answer on every side, so the token counts are equal
            text = text or raw["text"]
            assert raw["text"] == text and tui["raw_text"].strip() == text.strip(), "raw runs generated different text"
            assert tui["text"].strip() == text.strip(), "the TUI and raw runs generated different text"
            assert engine["tokens"] == raw["tokens"], "the engine and raw runs generated different lengths"
            n = raw["tokens"]
            for name in SIDES:
                rates[name].append(n / results[name]["seconds"])
            per_round.append(rates["tui"][-1] / rates["raw"][-1])
            close.append(tui["raw_seconds"] / tui["seconds"])
            (before if tui["raw_first"] else after).append(close[-1])
            print(
                f"round {i + 1}: {n} tokens | raw {rates['raw'][-1]:.1f} tok/s | engine {rates['engine'][-1]:.1f} "
                f"| tui {rates['tui'][-1]:.1f} | tui/raw {per_round[-1]:.3f}",
                flush=True,
            )
    finally:
        for side in sides:
            side.close()
    raw, engine, tui = (median(rates[s]) for s in ("raw", "engine", "tui"))
    print(f"raw llama-cpp-python: {raw:.1f} tok/s (median of {len(rates['raw'])})")
    print(f"thau engine, no UI:   {engine:.1f} tok/s (median)  ratio {engine / raw:.3f}")
    print(f"thau TUI:             {tui:.1f} tok/s (median)")
    print(f"streaming overhead ratio (TUI / raw): {tui / raw:.3f}  (goal >= 0.97)")
    print(f"  median of the per-round ratios:     {median(per_round):.3f}")
    print(
        f"  paired in the TUI's process:        {median(close):.3f}  (median of {len(close)} pairs, raw on "
        f"the app's model seconds before or after each answer: {median(before):.3f} before, {median(after):.3f} after)"
    )


if __name__ == "__main__":
    main()
