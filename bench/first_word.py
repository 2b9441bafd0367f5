"""The first word after Enter on a fresh chat: thau (system prompt read ahead, at model load)
÷ a plain llama-cpp-python script that must read the same prompt, in one run.

Each round: thau warms up (what the app does when the model loads and while the user
types), then the clock starts at Enter (`Agent.run_turn`) and stops at the first
TextDelta. The plain side streams thau's exact rendered prompt with create_completion
from a reset cache; its clock stops at the first chunk. The sides alternate; both use
the same model object, threads and greedy sampling. Goal: well under 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import load_backend, median

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.events import TextDelta
from thau_tui.tools import build_registry

QUESTIONS = [
    "What is a variable in Python?",
    "Give me a name for a dog.",
    "What does HTTP stand for?",
    "Say hello in Spanish.",
    "What is 12 times 7?",
    "Name a primary colour.",
]


async def thau_first_word(agent: Agent, question: str) -> float:
    agent.backend.llm.reset()
    agent.warm_up().result()  # done while the user types
    started = time.perf_counter()
    async for event in agent.run_turn(agent.new_session(), question):
        if isinstance(event, TextDelta):
            first = time.perf_counter() - started
            agent.cancel()
            return first
    return float("nan")


def plain_first_word(agent: Agent, question: str) -> float:
    from thau_tui.engine.backend import MODEL_THREAD

    session = agent.new_session()
    session.messages.append({"role": "user", "content": question})
    prompt = agent.render_prompt(session)
    llm = agent.backend.llm

    def run() -> float:
        llm.reset()
        started = time.perf_counter()
        for _chunk in llm.create_completion(prompt, max_tokens=4, temperature=0.0, stream=True):
            return time.perf_counter() - started
        return float("nan")

    return MODEL_THREAD.call(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    backend = load_backend()
    config = Config()
    config.generation.temperature = 0.0
    config.generation.max_tokens = 8
    agent = Agent(config, build_registry(), backend=backend)
    thau, plain = [], []
    for round_ in range(args.rounds):
        question = QUESTIONS[round_ % len(QUESTIONS)]
        if round_ % 2:
            plain.append(plain_first_word(agent, question))
            thau.append(asyncio.run(thau_first_word(agent, question)))
        else:
            thau.append(asyncio.run(thau_first_word(agent, question)))
            plain.append(plain_first_word(agent, question))
    print("thau  first word after Enter (s):", " ".join(f"{t:.3f}" for t in thau))
    print("plain first word (s):            ", " ".join(f"{t:.3f}" for t in plain))
    print(f"thau / plain of the medians: {median(thau) / median(plain):.2f}  (goal well under 0.5)")


if __name__ == "__main__":
    main()
