"""A chat template from a GGUF or a server cannot hang thau or take all its memory.

jinja's sandbox keeps a template from reaching Python, not from running long: before,
two nested range loops in a GGUF's template hung the chat (the render ran on the turn's
thread for ever), and `'x' * 10**11` was built in thau's own process while compiling
(jinja folds constants). Templates thau does not know now compile and render in a worker
process with a time and memory bound; thau's own and the bundled model's render here.
"""

from __future__ import annotations

import threading
import time

import jinja2
import pytest

from thau_tui.engine import template_bounds
from thau_tui.engine.prompt import CHATML, ChatTemplate, read_gguf_metadata
from thau_tui.paths import bundled_model

HANG = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
HUGE = "{{ 'x' * 100000000000 }}"
SLOW = (  # a second or two of work in the worker
    "{% set ns = namespace(n=0) %}{% for i in range(600) %}{% for j in range(600) %}"
    "{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}"
)
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi \ud800 <tag>"}]


def render_within(template: ChatTemplate, seconds: float) -> BaseException | str | None:
    """What render gave (its text or its error) if it ended within `seconds`; None if not."""
    out: list[BaseException | str] = []

    def run() -> None:
        try:
            out.append(template.render(MESSAGES))
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return out[0] if out else None


def test_a_template_that_loops_for_ever_is_stopped_and_the_next_render_works(monkeypatch):
    monkeypatch.setattr(template_bounds, "RENDER_TIMEOUT_S", 2.0)
    started = time.monotonic()
    outcome = render_within(ChatTemplate(HANG), 15)
    assert isinstance(outcome, jinja2.TemplateError), outcome
    assert "gave no prompt within 2 s" in str(outcome) and "model.chat_template" in str(outcome)
    assert time.monotonic() - started < 10
    other = ChatTemplate(CHATML + "{{ '' }}")  # a fresh worker takes the next one
    assert other.bounded and other.render(MESSAGES) == ChatTemplate(CHATML).render(MESSAGES)


def test_a_template_that_builds_a_huge_string_fails_in_the_worker_not_in_thau():
    outcome = render_within(ChatTemplate(HUGE), 30)
    assert isinstance(outcome, jinja2.TemplateError), outcome
    assert "more than 2 GB of memory" in str(outcome)


def test_thaus_own_and_the_bundled_models_templates_render_here():
    model = bundled_model()
    assert model is not None
    own = str(read_gguf_metadata(model)["tokenizer.chat_template"])
    for source in (CHATML, own, None):
        assert not ChatTemplate(source).bounded


def test_an_unknown_template_renders_exactly_as_it_would_here():
    """The worker is the same sandbox: the prompt (surrogates, tags, generation prompt,
    bos/eos, raise_exception) is the same text."""
    source = (
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('no tools') }}"
        "{% endif %}[{{ m['role'] | upper }}] {{ m['content'] | trim }}{{ eos_token }}\n{% endfor %}"
        "{% if add_generation_prompt %}[ASSISTANT] {% endif %}"
    )
    bounded = ChatTemplate(source, bos_token="<s>", eos_token="</s>")
    assert bounded.bounded
    here = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    here.globals["raise_exception"] = lambda message: (_ for _ in ()).throw(jinja2.TemplateError(message))
    for prompt in (True, False):
        expected = here.from_string(source).render(
            messages=MESSAGES, add_generation_prompt=prompt, bos_token="<s>", eos_token="</s>"
        )
        assert bounded.render(MESSAGES, prompt) == expected
    with pytest.raises(jinja2.TemplateError, match="no tools"):
        bounded.render([{"role": "tool", "content": "x"}])


def test_a_template_too_long_to_be_one_is_refused():
    with pytest.raises(jinja2.TemplateError, match="characters long"):
        ChatTemplate("x" * (template_bounds.MAX_TEMPLATE_CHARS + 1))


@pytest.fixture
def fresh_worker():
    """Each case starts its own worker (one may be left from another case)."""
    template_bounds.stop_worker()
    yield
    template_bounds.stop_worker()


def test_the_worker_does_not_import_modules_from_the_workspace(tmp_path, monkeypatch, fresh_worker):
    """`python -m` put the current folder (the workspace, which tools write) first on
    sys.path: a json.py there ran, outside the sandbox, at the first render."""
    mark = tmp_path / "PWNED"
    for name in ("json.py", "jinja2.py", "thau_tui.py"):
        (tmp_path / name).write_text(f"open({str(mark)!r}, 'w').write('ran')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert ChatTemplate(CHATML + "{# x #}").render(MESSAGES).endswith("<|im_start|>assistant\n")
    assert not mark.exists()


def test_a_worker_left_rendering_ends_with_thau(tmp_path):
    """A worker busy with a template that loops for ever kept running at full CPU after
    thau exited."""
    import subprocess
    import sys

    script = (
        "from thau_tui.engine.prompt import ChatTemplate\n"
        "import threading, os\n"
        f"t = ChatTemplate({HANG!r})\n"
        "threading.Thread(target=lambda: t.render([]), daemon=True).start()\n"
        "import time; time.sleep(2)\n"
        "from thau_tui.engine import template_bounds\n"
        "print(template_bounds._worker.process.pid, flush=True)\n"
        "os._exit(0)\n"  # no clean-up at all, as a crash
    )
    pid = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_template_whose_prompt_is_far_too_long_is_refused(monkeypatch, fresh_worker):
    monkeypatch.setattr(template_bounds, "MAX_PROMPT_CHARS", 1_000_000)
    outcome = render_within(ChatTemplate("{% for i in range(2000) %}{{ 'x' * 1000 }}{% endfor %}"), 30)
    assert isinstance(outcome, jinja2.TemplateError) and "characters" in str(outcome), outcome


def hostile_gguf(path, template: str):
    """The bundled model with `template` as its chat template (gguf's own copying script)."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata, get_field_data

    reader = gguf.GGUFReader(str(bundled_model()))
    arch = get_field_data(reader, gguf.Keys.General.ARCHITECTURE)
    writer = gguf.GGUFWriter(str(path), arch=arch, endianess=reader.endianess)
    chat = {gguf.Keys.Tokenizer.CHAT_TEMPLATE: MetadataDetails(gguf.GGUFValueType.STRING, template)}
    copy_with_new_metadata(reader, writer, chat, [])
    return path


def test_loading_a_gguf_does_not_compile_its_template_in_thau(tmp_path):
    """llama-cpp-python compiles each chat template in a GGUF's metadata when it loads one,
    for chat handlers thau never uses; jinja folds constants while compiling, so this
    template built a 1.5 GB string in thau's own process before the worker ever saw it."""
    import subprocess
    import sys

    model = hostile_gguf(tmp_path / "hostile.gguf", "{{ 'x' * 1500000000 }}")
    script = (
        "from thau_tui.engine.backend import LlamaBackend\n"
        f"backend = LlamaBackend({str(model)!r}, n_ctx=256)\n"
        # VmHWM: this process's own peak (ru_maxrss keeps the forking test worker's across exec)
        "peak = [int(l.split()[1]) // 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('loaded', backend.template.bounded, 'peak MB', peak, flush=True)\n"
        "try:\n"
        "    backend.template.render([{'role': 'user', 'content': 'hi'}])\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "loaded True" in run.stdout, run.stdout + run.stderr[-2000:]
    peak = int(run.stdout.split("peak MB")[1].split()[0])
    assert peak < 1000, run.stdout  # the bundled model alone: about 300 MB
    assert "TemplateError" in run.stdout and ("memory" in run.stdout or "characters" in run.stdout), run.stdout


def test_a_slow_template_does_not_freeze_the_chat_while_it_renders():
    """The prompt was rendered on the event loop: a GGUF's template that takes seconds (up
    to the bound, each time the history is trimmed) froze the screen, Esc included."""
    import asyncio

    from scripted import ScriptedBackend

    from thau_tui.config import Config
    from thau_tui.engine.agent import Agent
    from thau_tui.engine.events import TurnDone
    from thau_tui.tools import ToolRegistry

    backend = ScriptedBackend(["Hi."])
    backend.template = ChatTemplate(SLOW + CHATML)
    agent = Agent(Config(), ToolRegistry(), backend=backend)

    async def turn_and_ticks() -> tuple[list, int]:
        ticks = 0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        events = [event async for event in agent.run_turn(agent.new_session(), "hello")]
        seconds = time.monotonic() - started
        done.set()
        await ticker
        return events, int(ticks / max(seconds / 0.02, 1) * 100)

    events, share = asyncio.run(turn_and_ticks())
    assert isinstance(events[-1], TurnDone) and backend.prompts, events
    assert share > 50, f"the event loop ticked {share}% of the time while the template rendered"


def test_reading_the_system_prompt_ahead_does_not_wait_for_the_template():
    """Warming the cache up rendered the template on the event loop at each load and config
    change: a template that takes seconds froze the screen there too (read-through)."""
    from concurrent.futures import Future

    from scripted import ScriptedBackend

    from thau_tui.config import Config
    from thau_tui.engine.agent import Agent
    from thau_tui.tools import ToolRegistry

    read: list[str] = []

    def prefill(text: str) -> Future[int]:
        read.append(text)
        done: Future[int] = Future()
        done.set_result(len(text))
        return done

    backend = ScriptedBackend([])
    backend.prefill = prefill  # type: ignore[attr-defined]
    backend.template = ChatTemplate(SLOW + CHATML)
    agent = Agent(Config(), ToolRegistry(), backend=backend)
    started = time.monotonic()
    warming = agent.warm_up()
    assert warming is not None and time.monotonic() - started < 0.5
    assert warming.result(timeout=30) > 0 and read[0].startswith("<|im_start|>system")


def test_a_worker_that_dies_is_not_reported_as_a_slow_template(monkeypatch, fresh_worker):
    """A worker that crashed (or could not start) read as "gave no prompt within 10 s ...
    may be broken or hostile" (read-through): it now says the process ended."""
    import os
    import signal

    monkeypatch.setattr(template_bounds, "RENDER_TIMEOUT_S", 30.0)
    template = ChatTemplate(HANG)
    outcome: list[BaseException | str | None] = []
    thread = threading.Thread(target=lambda: outcome.append(render_within(template, 25)), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while template_bounds._worker is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # it is rendering now
    assert template_bounds._worker is not None
    os.kill(template_bounds._worker.process.pid, signal.SIGKILL)
    thread.join(10)
    assert outcome and isinstance(outcome[0], jinja2.TemplateError), outcome
    assert "the process that renders it ended" in str(outcome[0]) and "no prompt within" not in str(outcome[0])


def test_a_worker_that_does_not_read_its_request_cannot_block_thau(fresh_worker):
    """The request was written on the caller's thread, outside the time bound: a worker that
    never read (stuck as it started) blocked a long prompt's render, and the chat, for good."""
    import sys

    template_bounds._worker = template_bounds._Worker([sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    outcome: list[BaseException] = []

    def render() -> None:
        try:
            template_bounds.render_bounded(HANG, {"messages": [{"role": "user", "content": "x" * 4_000_000}]}, 1.0)
        except jinja2.TemplateError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=render, daemon=True)
    thread.start()
    thread.join(15)
    assert outcome and "gave no prompt within 1 s" in str(outcome[0]), outcome
    assert time.monotonic() - started < 10
    assert template_bounds._worker is None  # stopped; the next render starts a fresh one
