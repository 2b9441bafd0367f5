"""Multi-turn latency: time to first token at turn 8 ÷ at turn 1, with a growing history.

thau renders the prompt byte-stable and llama.cpp reuses the KV cache prefix, so
turn 8 reads only the new message. For contrast, the same turns with the cache
cleared before each turn are timed too. Goal: <= 1.5.
"""

from __future__ import annotations

import asyncio

from _common import load_backend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import TurnDone
from thau_tui.tools import build_registry

QUESTIONS = [
    "What is a variable in Python?",
    "And a function?",
    "What is a list?",
    "How do I sort it?",
    "What is a dictionary?",
    "How do I loop over one?",
    "What is a class?",
    "What is inheritance?",
]


async def turns(agent: Agent, clear_cache: bool) -> list[tuple[float, int, int]]:
    session = agent.new_session()
    out = []
    for question in QUESTIONS:
        if clear_cache:
            agent.backend.llm.reset()
        done = [e async for e in agent.run_turn(session, question) if isinstance(e, TurnDone)][0]
        out.append((done.stats.first_token_s or 0.0, done.stats.prompt_tokens, done.stats.prompt_evaluated))
    return out


def main() -> None:
    backend = load_backend()
    cfg = Config()
    cfg.generation.temperature = 0.0
    cfg.generation.max_tokens = 48
    agent = Agent(cfg, build_registry(), backend=backend)
    backend.llm.reset()
    cached = asyncio.run(turns(agent, clear_cache=False))
    uncached = asyncio.run(turns(agent, clear_cache=True))
    for i, ((t, n, e), (t2, _, e2)) in enumerate(zip(cached, uncached), 1):
        print(
            f"turn {i}: prompt {n} tok | cached: read {e} tok, first token {t * 1000:.0f} ms"
            f" | no cache: read {e2} tok, first token {t2 * 1000:.0f} ms"
        )
    print(f"TTFT turn 8 / turn 1 with thau's cache reuse: {cached[-1][0] / cached[0][0]:.2f}  (goal <= 1.5)")
    print(f"TTFT turn 8 / turn 1 re-reading the history:  {uncached[-1][0] / uncached[0][0]:.2f}")


if __name__ == "__main__":
    main()
