"""Server backend overhead: tokens/s the chat shows through the server backend ÷ tokens/s
of a plain streaming HTTP client, against the same server, in one run.

Starts llama-cpp-python's server on the bundled model (one thread by default), renders
thau's prompt once, then takes turns, one answer at a time (the order alternates each
round): the raw side streams /v1/completions with httpx and counts chunks; the thau side
runs Agent.run_turn with the server backend and counts what reaches the screen (TextDelta
events, tokens from the backend's stats). Both sides send the same prompt, so the server's
prefix cache serves both alike; tokens/s runs from the first token to the last.
Printed: each side's median tokens/s, thau / raw of the medians, the median of each
round's ratio. Goal: >= 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time

from _common import median

QUESTION = "Write a detailed, step by step explanation of how a refrigerator works."


def start_server(threads: int) -> tuple[subprocess.Popen, str]:
    import httpx

    from thau_tui.paths import bundled_model

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled_model()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            str(threads),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


def raw_rate(url: str, model: str, prompt: str, max_tokens: int) -> float:
    import httpx

    body = {"model": model, "prompt": prompt, "stream": True, "max_tokens": max_tokens, "temperature": 0.0}
    tokens, first = 0, None
    with httpx.stream("POST", f"{url}/completions", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if not line.startswith("data:") or line.strip() == "data: [DONE]":
                continue
            if any(c.get("text") for c in json.loads(line[5:]).get("choices", [])):
                tokens += 1
                first = first or time.perf_counter()
    return (tokens - 1) / (time.perf_counter() - first)


async def thau_rate(agent) -> float:
    from thau_tui.engine.events import TextDelta, TurnDone

    first, tokens = None, 0
    async for event in agent.run_turn(agent.new_session(), QUESTION):
        if isinstance(event, TextDelta) and first is None:
            first = time.perf_counter()
        if isinstance(event, TurnDone):
            tokens = event.stats.tokens
    return (tokens - 1) / (time.perf_counter() - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from thau_tui.config import Config
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.openai_backend import OpenAiBackend
    from thau_tui.tools import build_registry

    process, url = start_server(args.threads)
    try:
        config = Config()
        config.generation.temperature = 0.0
        config.generation.max_tokens = args.max_tokens
        config.model.n_ctx = 2048
        backend = OpenAiBackend(url, n_ctx=2048)
        agent = Agent(config, build_registry(), backend=backend)
        session = agent.new_session()
        session.messages.append({"role": "user", "content": QUESTION})
        prompt = agent.render_prompt(session)
        raw_rate(url, backend.model_id, prompt, 8)  # warm: the prompt is in the server's cache
        raws, thaus, ratios = [], [], []
        for round_ in range(args.rounds):
            sides = ["raw", "thau"] if round_ % 2 == 0 else ["thau", "raw"]
            got = {}
            for side in sides:
                got[side] = (
                    raw_rate(url, backend.model_id, prompt, args.max_tokens)
                    if side == "raw"
                    else asyncio.run(thau_rate(agent))
                )
            raws.append(got["raw"])
            thaus.append(got["thau"])
            ratios.append(got["thau"] / got["raw"])
            print(f"round {round_ + 1}: raw {got['raw']:.1f} tok/s, thau {got['thau']:.1f} tok/s", flush=True)
        print(f"raw  median {median(raws):.1f} tok/s")
        print(f"thau median {median(thaus):.1f} tok/s")
        print(f"thau / raw (medians) {median(thaus) / median(raws):.3f}")
        print(f"median of the rounds' ratios {median(ratios):.3f}")
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
