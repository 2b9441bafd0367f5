"""A 200-turn chat past the context limit: time to first token of the last 10 turns ÷ the
first 10, memory and storage, in one run on the bundled model (n_ctx 2048).

Goal: within 1.5x (each turn reads its own words from a cached prefix, not the whole
prompt), RSS bounded, every message stored. Printed: medians, the ratio, how many turns
moved the model's view, the prompt tokens read on those turns, RSS first/last, messages stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile

from _common import load_backend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import HistoryTrimmed, TurnDone
from thau_tui.engine.store import Store
from thau_tui.tools import ToolRegistry


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def chat(agent: Agent, turns: int) -> tuple[list[float], list[int], list[float], int]:
    session = agent.new_session()
    ttft, cuts, rss = [], [], []
    for turn in range(turns):
        events = [e async for e in agent.run_turn(session, f"Question {turn}: name an animal, in one word.")]
        done = events[-1]
        assert isinstance(done, TurnDone)
        ttft.append(done.stats.first_token_s or float("nan"))
        if any(isinstance(e, HistoryTrimmed) for e in events):
            cuts.append(done.stats.prompt_evaluated)
        rss.append(rss_mb())
    stored = len(agent.store.messages(session.id))
    return ttft, cuts, rss, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    backend = load_backend(n_ctx=2048)
    config = Config()
    config.generation.temperature = 0.0
    config.generation.max_tokens = 12
    agent = Agent(config, ToolRegistry(), store=Store(os.path.join(tempfile.mkdtemp(), "db")), backend=backend)
    ttft, cuts, rss, stored = asyncio.run(chat(agent, args.turns))
    first, last = statistics.median(ttft[:10]), statistics.median(ttft[-10:])
    print(
        f"TTFT median, turns 1-10: {first * 1000:.0f} ms; last 10: {last * 1000:.0f} ms; "
        f"ratio {last / first:.2f} (goal <= 1.5)"
    )
    print(f"the model's view moved on {len(cuts)} of {args.turns} turns (prompt tokens read then: {cuts})")
    print(f"RSS: {rss[0]:.0f} MB after turn 1, {max(rss):.0f} MB at most, {rss[-1]:.0f} MB at the end")
    print(f"messages stored: {stored} (2 per turn: {2 * args.turns})")


if __name__ == "__main__":
    main()
