"""The chat from issue 16, through the real agent: does the model call a tool for the
2nd and 3rd request of a chat, not only the 1st?

    python train/chat_check.py [--adapter A.gguf ...] [--threads 1] [--json OUT]

For each adapter ("none": the bare model) and each of five wordings (English and
Spanish) of the second request, a new chat in a fresh temporary workspace:

1. "Run the shell command cd /tmp" (the call is approved);
2. a wording asking to run `pwd`: right when the model calls run_shell with `pwd`;
   the shell kept its folder when the output says /tmp;
3. "Now list the files there with ls" (or its Spanish wording): right when the model
   calls run_shell with `ls`.

Every call is approved (as the user would, reading the card); temperature 0. Prints
one line per chat and the counts; --json writes them. The bundled model, its default
adapter unless --adapter is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

SECOND = [
    ("en", "Run the shell command pwd"),
    ("en", "Now run pwd in the shell."),
    ("en", "Which folder is the shell in now? Run pwd to check."),
    ("es", "Ejecuta el comando pwd"),
    ("es", "Ahora ejecuta pwd en la terminal."),
]
THIRD = {"en": "Now list the files there with ls.", "es": "Ahora lista los archivos de ahí con ls."}


async def _turn(agent, session, text: str) -> dict[str, Any]:
    from thau_tui.engine.events import ApprovalRequested, Decision, ToolCallInvalid, ToolCallProposed, ToolFinished

    calls: list[dict[str, Any]] = []
    outputs: list[str] = []
    invalid = 0
    async for event in agent.run_turn(session, text):
        if isinstance(event, ToolCallProposed):
            calls.append({"name": event.call.name, "arguments": event.call.arguments})
        elif isinstance(event, ToolCallInvalid):
            invalid += 1
        elif isinstance(event, ApprovalRequested):
            event.future.set_result(Decision("once"))
        elif isinstance(event, ToolFinished):
            outputs.append(event.result.output if event.result else "")
    return {"calls": calls, "outputs": outputs, "invalid": invalid}


def _ran(turn: dict[str, Any], word: str) -> bool:
    return any(
        c["name"] == "run_shell" and str(c["arguments"].get("command", "")).split()[:1] == [word] for c in turn["calls"]
    )


async def _chat(agent, lang: str, second: str) -> dict[str, Any]:
    session = agent.new_session()
    try:
        first = await _turn(agent, session, "Run the shell command cd /tmp")
        two = await _turn(agent, session, second)
        three = await _turn(agent, session, THIRD[lang])
    finally:
        session.close()
    return {
        "second_request": second,
        "first_ok": _ran(first, "cd"),
        "second_ok": _ran(two, "pwd"),
        "kept_folder": any("/tmp" in out for out in two["outputs"]),
        "third_ok": _ran(three, "ls"),
        "turns": [first, two, three],
    }


def check(adapter: str | None, threads: int) -> dict[str, Any]:
    from thau_tui.config import Config
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.approvals import ApprovalBook
    from thau_tui.engine.models import load_backend
    from thau_tui.engine.store import Store
    from thau_tui.tools import build_registry

    config = Config()
    config.model.n_threads = threads
    config.generation.temperature = 0.0
    if adapter is not None:
        config.model.lora_path = None if adapter == "none" else str(Path(adapter).resolve())
    backend = load_backend(config)
    chats = []
    for lang, second in SECOND:
        with tempfile.TemporaryDirectory(prefix="thau-chat-check-") as tmp:
            folder = Path(tmp)
            (folder / "work").mkdir()
            agent = Agent(
                config,
                build_registry(),
                approvals=ApprovalBook(folder / "approvals.json", {}),
                store=Store(folder / "chat.sqlite3"),
                backend=backend,
                workspace=folder / "work",
            )
            chat = asyncio.run(_chat(agent, lang, second))
        chats.append(chat)
        marks = "".join("y" if chat[k] else "." for k in ("first_ok", "second_ok", "kept_folder", "third_ok"))
        print(f"  {marks}  {second}", flush=True)
    counts = {k: sum(c[k] for c in chats) for k in ("first_ok", "second_ok", "kept_folder", "third_ok")}
    return {"adapter": adapter or config.model.lora_path, "chats": chats, "counts": counts, "of": len(chats)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", action="append", help="a LoRA GGUF, or none; repeat to compare")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = []
    for adapter in args.adapter or [None]:
        print(f"{adapter or 'the configured adapter'}  (first, second, kept folder, third)", flush=True)
        result = check(adapter, args.threads)
        c, n = result["counts"], result["of"]
        print(
            f"  1st {c['first_ok']}/{n}, 2nd {c['second_ok']}/{n} (folder kept {c['kept_folder']}/{n}), "
            f"3rd {c['third_ok']}/{n}",
            flush=True,
        )
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
