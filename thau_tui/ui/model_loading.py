"""The model behind the chat: loaded on a worker thread, what the status line says about
it, a message sent while it loads (queued, or given back to the prompt when none will
come), its threads while training shares the cores, and switching to another model or
adapter. The messages the load sends (`ThauApp.ModelLoaded`, `ThauApp.ModelFailed`) stay
on the app, where their handler names come from."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from ..engine.prompt import TemplateFailed
from .visible import visible
from .widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from ..config import Config
    from ..engine.backend import Backend
    from .app import ThauApp


QUIET_S = 8.0  # the model silent this long: the status line counts the seconds


class ModelLoading:
    """Mixin for the app."""

    turn_heard = 0.0  # when the turn last showed an activity (show_activity)
    # What the loaded model was asked as (model.path, model.server_model, adapter), and what
    # to load again when a switch away from it fails.
    model_in_use: tuple[str | None, str | None, str | None, str] | None = None
    model_fallback: tuple[str | None, str | None, str | None, str] | None = None
    weights_in_use: tuple[str, str] | None = None  # model_weights() of the loaded model

    def show_quiet(self) -> None:
        """While a turn's model says nothing for QUIET_S (a long prompt read, a server gone
        quiet), the status line counts the seconds and says Esc stops it: "writing…" stood
        still for minutes over a stalled server (servers review)."""
        if not self.turn_running or self.stopping:
            return
        activity = self.status.activity
        base = activity.split(" (", 1)[0]
        if base not in ("writing…", self.thinking) and not base.startswith("reading the result of"):
            return
        quiet = time.monotonic() - self.turn_heard
        if quiet >= QUIET_S:
            self.status.activity = f"{base} ({quiet:.0f} s with no word from the model; Esc stops)"

    @work(exclusive=True, group="model", exit_on_error=False)
    async def load_model(self, lora: Path | None | str = "config") -> None:
        """Load the model, or connect to the server, on a thread (`loaded`); ModelLoaded or
        ModelFailed says how it went. A load the user replaced by choosing another model
        meanwhile (exclusive cancels this worker; the thread finishes its load) says
        nothing: its model must not take the chat over."""
        started = time.perf_counter()
        try:
            backend = await loaded(self.config, lora)
        except Exception as exc:
            self.post_message(self.ModelFailed(str(exc)))
            return
        self.post_message(self.ModelLoaded(backend, time.perf_counter() - started))

    falling_back: str | None = None  # the model loading again after a switch failed

    def on_thau_app_model_loaded(self, message: ThauApp.ModelLoaded) -> None:
        self._backend_ready(message.backend)
        back, self.falling_back = self.falling_back, None
        if back is not None:  # said once it is true: "Back on X" came before X had loaded (reliability review)
            self.notify(f"Back on {back}.", title="model loaded again", markup=False)
        if self.queued is not None and not self.turn_running:
            text, self.queued = self.queued, None
            self.send(text)
            self.save_unsent(self.query_one(PromptInput).text)  # its turn keeps it now, not the draft

    def _backend_ready(self, backend) -> None:
        self.agent.backend = backend
        self.model_in_use = (self.config.model.path, self.config.model.server_model, backend.lora_path, backend.name)
        weights, self.weights_in_use = self.weights_in_use, model_weights(backend)
        self.model_error = None
        self.model_ready_s = time.perf_counter() - self.started
        self._freeze_heap()
        self.status.model = backend.name
        self.status.speed = ""  # the last model's tok/s read as this one's (UX review)
        self.status.context = context_after_load(self.status.context, backend.n_ctx, weights == self.weights_in_use)
        self.status.adapter = adapter_label(backend.lora_path)
        path = getattr(backend, "tool_path", None)  # a server backend says how its tool calls travel
        self.status.tools = path.status() if path is not None else ""
        self._say_if_no_chat_template(backend)
        warming = self.agent.warm_up()  # the system prompt goes into the cache now, not after Enter
        if warming is not None:
            self.run_worker(self._say_if_the_template_fails(warming), group="warm-up")

    def _say_if_no_chat_template(self, backend) -> None:
        """A GGUF with no chat template is most likely a base model: it loaded without a word,
        and answered "Say hello" by repeating it for 781 tokens (UX review)."""
        meta = getattr(backend, "metadata", None)
        if not isinstance(meta, dict) or meta.get("tokenizer.chat_template") or self.config.model.chat_template:
            return
        self.notify(
            visible(
                f"{backend.name} carries no chat template: it is likely a base model, not tuned to chat, "
                "and may ramble or repeat itself. An instruction-tuned GGUF answers better; "
                "model.chat_template in config.yaml sets a template."
            ),
            title="no chat template",
            severity="warning",
            timeout=15,
            markup=False,
        )

    async def _say_if_the_template_fails(self, warming) -> None:
        """A GGUF's template that fails would fail each question too: say so at once."""
        try:
            await asyncio.wrap_future(warming)
        except TemplateFailed as exc:
            self.notify(
                visible(f"{exc}. Each question fails the same way until it renders."),
                title="the model's chat template failed",
                severity="error",
                timeout=30,
                markup=False,
            )
        except Exception:  # noqa: BLE001 - reading ahead is best effort; a turn reports its own errors
            pass

    @staticmethod
    def _freeze_heap() -> None:
        """Keep what is loaded by now (modules, the app, the model) out of Python's cyclic
        garbage collections: a full one walked all of it, 45-60 ms with the GIL held (a
        stall for the model thread too, once every few answers); after this, under
        20 ms. Unfrozen first, so that whatever a previous model left behind is freed."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def on_thau_app_model_failed(self, message: ThauApp.ModelFailed) -> None:
        fallback, self.model_fallback = self.model_fallback, None
        if fallback is not None:
            # A model chosen in the picker that does not load (another architecture's adapter,
            # a broken file) left the chat with none (config review): the one that worked
            # loads again, and the picker's "(current)" is that one.
            path, server_model, lora, back = fallback
            self.config.model.path, self.config.model.server_model = path, server_model
            self.notify(
                f"{message.error}\nThe switch did not happen; loading {back} again…",
                title="model not loaded",
                severity="error",
                timeout=20,
                markup=False,
            )
            self.status.model = f"back to {back}…"
            self.status.adapter = ""
            self.falling_back = back
            self.load_model(lora)
            return
        self.falling_back = None
        self.model_error = message.error
        self.status.model = "no model"
        self.status.adapter = ""
        self.notify(message.error, title="model not loaded", severity="error", timeout=20, markup=False)
        if self.queued is not None:  # back in the prompt, to send once a model is chosen
            self.give_back(self.queued)
            self.queued = None
            self.status.activity = ""

    def give_back(self, text: str) -> None:
        """Put an unsent message back in the prompt (before anything typed since)."""
        prompt = self.query_one(PromptInput)
        prompt.load_text(text + ("\n" + prompt.text if prompt.text.strip() else ""))
        prompt.move_cursor(prompt.document.end)

    def _wait_for_model(self, text: str) -> None:
        """A message sent before a model is ready: queued while one loads, kept in the
        prompt when none will come."""
        if self.model_error is not None and self.config.model.backend == "openai":
            # A model server that was down may be up now: Enter repeated the old "no server"
            # (servers review). It is asked again, and the message waits for its answer.
            self.model_error, self.queued = None, text
            self.status.model = "connecting…"
            self.status.activity = "queued: sends when the server answers (Esc takes it back)"
            self.save_unsent(self.query_one(PromptInput).text)
            self.load_model()
            return
        if self.model_error is not None:
            self.give_back(text)
            self.notify(
                f"{self.model_error}\nYour message is still in the prompt; /model chooses another model.",
                title="no model is loaded",
                severity="error",
                timeout=20,
                markup=False,
            )
            return
        if self.queued is not None:
            self.give_back(text)
            self.notify(
                "one message is already waiting for the model; this one stays in the prompt", severity="warning"
            )
            return
        self.queued = text
        self.status.activity = "queued: sends when the model is loaded (Esc takes it back)"
        self.save_unsent(self.query_one(PromptInput).text)

    def save_unsent(self, text: str) -> None:
        """The draft kept for a crash or a closed terminal holds a queued message too, before
        what the prompt holds: only the prompt was kept, and the prompt is empty once the
        message is queued, so Ctrl+Q, SIGHUP or a crash while the model loaded lost it
        (reliability review). It leaves the draft when its turn starts. (This mixin comes
        before AppServices in ThauApp's bases, so every save of the draft passes here.)"""
        if self.queued is not None:
            text = self.queued + ("\n" + text if text.strip() else "")
        super().save_unsent(text)  # type: ignore[misc]

    def _fit_threads(self) -> bool:
        """While a training run shares the cores, the chat decodes on one thread. llama.cpp's
        threads and the trainer's spin-wait; on the same cores both crawl (measured on 2
        cores beside a 1-thread trainer: 7.4 tok/s on 2 threads, 41 tok/s on 1)."""
        run = self.training_run
        shared = run is not None and getattr(run, "running", False)
        set_threads = getattr(self.agent.backend, "set_threads", None)
        if set_threads is not None:
            set_threads(1 if shared else None)
        return shared

    def _reload_model(self, lora, status: str) -> None:
        problem = self._unloadable(lora)
        if problem is not None:
            self._switch_refused(problem)
            return
        # The load runs on the model thread after the generation there: stop the answer first.
        if self.turn_running:
            self.agent.cancel()
        self.status.model = status
        if self.agent.backend is not None:  # freed before the next loads: two may not fit in memory
            self.model_fallback = self.model_in_use
        self.agent.backend = None
        self.load_model(lora)

    def _unloadable(self, lora) -> str | None:
        """Why the model and adapter a switch asks for cannot load, told before the loaded
        model is freed: a file moved away threw the working model out, and the fallback
        asked for the same missing file (reliability review). A server is asked by its load."""
        if self.config.model.backend == "openai":
            return None
        from ..engine.models import resolve_model

        try:
            model, adapter = resolve_model(self.config)
        except Exception as exc:  # noqa: BLE001 - ModelLoadError and a bad setting say what is wrong
            return str(exc)
        if lora != "config":
            adapter = Path(lora) if lora else None
        for kind, path in (("model", model), ("adapter", adapter)):
            problem = None if path is None else gguf_problem(Path(path))
            if problem is not None:
                return f"{kind} {path}: {problem}"
        return None

    def _switch_refused(self, problem: str) -> None:
        """Keep the loaded model, and the config naming it, and say why the switch did not happen."""
        if self.model_in_use is not None:
            self.config.model.path, self.config.model.server_model = self.model_in_use[:2]
        backend = self.agent.backend
        still = f"Still on {backend.name}." if backend is not None else "No model is loaded."
        self.notify(
            f"{problem}\nThe switch did not happen. {still}",
            title="model not switched",
            severity="error",
            timeout=20,
            markup=False,
        )


def gguf_problem(path: Path) -> str | None:
    """Why `path` is not a GGUF thau can open, from its first bytes (llama.cpp wants the
    same magic); None when it looks like one."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError:
        return "file not found"
    except IsADirectoryError:
        return "a folder, not a file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if magic == b"GGUF" else "not a GGUF file"


def loaded(config: Config, lora: Path | None | str) -> asyncio.Future[Backend]:
    """`load_backend` on a thread of its own, as a future the worker awaits. Connecting to a
    server runs in a daemon thread: Ctrl+Q while /v1/models sent a space every 0.5 s blanked
    the screen, and the process lived on until model.timeout ran out, as Python waits for a
    worker's thread at exit (servers review). Such a load holds only sockets, which the exit
    closes. A GGUF loads in a thread the exit waits for: llama.cpp is not left mid-load
    while the process unloads its libraries."""
    from ..engine.models import load_backend

    done: concurrent.futures.Future[Backend] = concurrent.futures.Future()

    def load() -> None:
        if not done.set_running_or_notify_cancel():  # replaced before it began
            return
        try:
            done.set_result(load_backend(config, lora))
        except BaseException as exc:  # noqa: BLE001 - the worker raises it
            done.set_exception(exc)

    server = config.model.backend == "openai"
    threading.Thread(target=load, name="thau-model-load", daemon=server).start()
    return asyncio.wrap_future(done)


def adapter_label(lora_path: str | None) -> str:
    """How the status line names an adapter: a run's adapter.gguf by its run folder, as every
    run's is called adapter.gguf and "adapter adapter.gguf" said which of them none (training review)."""
    if not lora_path:
        return ""
    path = Path(lora_path)
    return f"{path.parent.name}/{path.name}" if path.name == "adapter.gguf" else path.name


def model_weights(backend) -> tuple[str, str]:
    """What counts a chat's tokens: the model file, or a server and its model. An adapter is
    not in it: a LoRA leaves the model's tokenizer (and chat template) as they were."""
    where = getattr(backend, "path", None) or getattr(backend, "base_url", "")
    return str(where), str(getattr(backend, "model_id", backend.name))


CONTEXT_SHOWN = re.compile(r"ctx (\d+|\?)/\d+")


def context_after_load(shown: str, n_ctx: int, same_weights: bool) -> str:
    """The status line's context once a model loads, from what it showed before. After Ctrl+O
    `ctx 1824/4096` became `ctx 4096`, as if the chat were empty (UX review). The chat's size
    in tokens holds for another adapter on the same model: the next answer re-reads the same
    tokens into the new cache. Another model counts them with its own tokenizer: unknown
    until its first answer, and the line says so."""
    used = CONTEXT_SHOWN.match(shown)
    if used is None:  # nothing counted in this chat yet
        return f"ctx {n_ctx}"
    if same_weights and used.group(1) != "?":
        return f"ctx {used.group(1)}/{n_ctx}"
    return f"ctx ?/{n_ctx} until the next answer"
