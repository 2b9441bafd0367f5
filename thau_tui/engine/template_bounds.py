"""Rendering a chat template thau did not write, with a time and memory bound.

A GGUF file or a server's /props brings its own jinja template. jinja's sandbox keeps it
from reaching Python, but not from running long or growing large: two nested
`range(100000)` loops hung the chat, and `'x' * 10**10` took all the memory. Templates
thau knows (its own ChatML and Gemma ones, the bundled model's) render in this process;
any other renders in a worker process (template_worker.py: isolated `python -I`, 2 GB of
address space where the system enforces it, at most MAX_PROMPT_CHARS back) that is killed
and replaced when a render runs past RENDER_TIMEOUT_S or the worker dies. Loading a GGUF
compiles nothing here either (llama_compat.templates_left_alone). The cost is a JSON round
trip per render (about half a millisecond for a 60 KB chat) and one worker start.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
from typing import Any

import jinja2

RENDER_TIMEOUT_S = 10.0
MAX_TEMPLATE_CHARS = 1_000_000  # chat templates are a few kilobytes; a GGUF may claim anything
MAX_PROMPT_CHARS = 64_000_000  # what a render may give back (a long chat's whole history is far less)


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=1)
def known_templates() -> frozenset[str]:
    """Digests of the templates that render in this process: thau's own, and the bundled
    model's (it ships in a package thau depends on)."""
    from .prompt import CHATML, GEMMA, read_gguf_metadata

    known = {_digest(CHATML), _digest(GEMMA)}
    try:
        from ..paths import bundled_model

        model = bundled_model()
        own = read_gguf_metadata(model).get("tokenizer.chat_template") if model is not None else None
        if own:
            known.add(_digest(str(own)))
    except Exception:  # noqa: BLE001 - an unreadable bundled model: its template is bounded like any other
        pass
    return frozenset(known)


def is_known(source: str) -> bool:
    return _digest(source) in known_templates()


def check_size(source: str) -> None:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise jinja2.TemplateError(
            f"the chat template is {len(source):,} characters long (more than {MAX_TEMPLATE_CHARS:,}); "
            "set model.chat_template in config.yaml to a template of your own"
        )


class _Worker:
    """One template_worker process and the thread that reads its answers."""

    def __init__(self, argv: list[str] | None = None) -> None:
        # Isolated (-I): neither the current folder (the workspace, which tools write: a
        # json.py there would run) nor PYTHON* variables reach sys.path; thau's own folder
        # goes last, after the standard library and site-packages.
        from ..paths import package_import_folder

        # A folder holding only a link to thau_tui: the checkout root itself put a planted
        # org/__init__.py there ahead of the standard library's optional imports (re-review).
        root = str(package_import_folder())
        code = f"import sys; sys.path.append({root!r}); from thau_tui.engine.template_worker import main; main()"
        self.process = subprocess.Popen(
            argv or [sys.executable, "-I", "-c", code, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=root,
            text=True,
            encoding="utf-8",
        )
        self.answers: queue.Queue[str] = queue.Queue()
        self.said = ""  # the end of what it wrote on stderr (an import error, a crash)
        threading.Thread(target=self._read, daemon=True, name="template-worker").start()
        threading.Thread(target=self._read_stderr, daemon=True, name="template-worker-stderr").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")  # it ended

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.said = (self.said + line)[-600:]

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | str:
        """The worker's answer, or why there is none: it gave none within `timeout`, or it
        ended (with its last words)."""
        stdin = self.process.stdin
        assert stdin is not None

        payload = json.dumps(request, default=str) + "\n"  # here: an error in it is the caller's

        def send() -> None:  # on a thread: a worker that does not read would block the write
            try:
                stdin.write(payload)
                stdin.flush()
            except (OSError, ValueError):
                pass  # it ended (or was stopped): the reader says so

        threading.Thread(target=send, daemon=True, name="template-worker-send").start()
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            return f"it gave no prompt within {timeout:g} s, so thau stopped it"
        if not line:
            said = " ".join(self.said.split())[-300:]
            return "the process that renders it ended" + (f" (it said: {said})" if said else "")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


_worker: _Worker | None = None
_lock = threading.Lock()  # one render at a time in the worker


@atexit.register
def stop_worker() -> None:
    """End the worker (the next render starts a new one)."""
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


def render_bounded(source: str, context: dict[str, Any], timeout: float | None = None) -> str:
    """`source` rendered with `context` in the worker; a jinja2.TemplateError that says what
    went wrong when it fails, runs past `timeout` (RENDER_TIMEOUT_S) or the memory bound."""
    global _worker
    timeout = RENDER_TIMEOUT_S if timeout is None else timeout
    with _lock:
        if _worker is None or _worker.process.poll() is not None:
            _worker = _Worker()
        reply = _worker.ask({"source": source, "context": context, "max_chars": MAX_PROMPT_CHARS}, timeout)
        if isinstance(reply, str):
            stop_worker()  # still busy with it, or gone: a fresh one takes the next render
            raise jinja2.TemplateError(
                f"the model's chat template failed: {reply}; the template may be broken or hostile: "
                "set model.chat_template in config.yaml"
            )
    if not reply.get("ok"):
        raise jinja2.TemplateError(
            f"the model's chat template failed to render ({reply.get('error')}); set model.chat_template in config.yaml"
        )
    return str(reply["text"])
