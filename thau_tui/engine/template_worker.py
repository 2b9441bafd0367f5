"""The process that renders chat templates thau does not know (template_bounds.py).

    python -I -c "...; from thau_tui.engine.template_worker import main; main()" PARENT_PID

One JSON request a line on stdin ({"source", "context", "max_chars"}), one answer a line
on stdout ({"ok": true, "text"} or {"ok": false, "error"}). It limits its own address space
before it reads anything (POSIX; macOS does not enforce it, so there only the time bound
holds), and on POSIX exits when thau does, even mid-render; elsewhere it exits at the end
of stdin. It imports jinja2 alone, so it starts in a fraction of a second.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MEMORY_LIMIT_BYTES = 2 * 1024**3  # POSIX; elsewhere the time bound alone


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


def sandboxed_environment() -> jinja2.Environment:
    """The environment every chat template renders in, here and in thau itself."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loader=jinja2.BaseLoader())
    env.globals["raise_exception"] = _raise
    return env


@functools.lru_cache(maxsize=8)
def _compiled(source: str) -> jinja2.Template:
    return sandboxed_environment().from_string(source)


def answer(request: dict[str, Any]) -> dict[str, Any]:
    try:
        text = _compiled(request["source"]).render(**request["context"])
        if len(text) > request["max_chars"]:
            return {
                "ok": False,
                "error": f"it made a prompt of {len(text):,} characters (more than {request['max_chars']:,})",
            }
        return {"ok": True, "text": text}
    except MemoryError:
        return {"ok": False, "error": f"it needed more than {MEMORY_LIMIT_BYTES // 1024**3} GB of memory"}
    except Exception as exc:  # noqa: BLE001 - reported to the chat as the template's error
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):  # Windows has no resource module; macOS may refuse
        pass


def _end_with(parent: int) -> None:
    """Exit when thau does: a render that loops for ever would otherwise keep running
    (stdin's end is not seen in the middle of a render)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def main() -> None:
    _limit_memory()
    if os.name == "posix":  # Windows keeps a dead parent's id (and a venv's launcher is the parent there)
        threading.Thread(target=_end_with, args=(int(sys.argv[1]),), daemon=True).start()
    for line in sys.stdin:
        try:
            reply = answer(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            reply = {"ok": False, "error": f"a request thau should not send: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
