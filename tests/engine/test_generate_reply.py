"""generate_reply on a scripted model: raw tags never reach the chat, a call is read to its
real end while it streams, and a call that runs away is stopped early (issues 16 and 17)."""

from __future__ import annotations

import random

import pytest
from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent
from thau_tui.engine.backend import SamplingSettings, StreamStats
from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.engine.events import TextDelta, ToolCallInvalid, ToolFinished, TurnDone
from thau_tui.engine.generate import generate_reply
from thau_tui.engine.store import Store
from thau_tui.tools import Tool, ToolCall, ToolRegistry

PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
TOOLS = [
    Tool(
        "run_shell",
        "Run a shell command",
        {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        "exec",
        lambda a, c: "ran",
    ),
    Tool(
        "write_file",
        "Write a file",
        {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
        "write",
        lambda a, c: "written",
    ),
]
# The tag that starts a result, per dialect: what the model must not write itself.
RESULT_OPEN = {
    "hermes": "<tool_response>",
    "thau": "<TOOL_RESULT:run_shell>",
    "stage3": "<|tool_result|>",
    "functiongemma": "<start_function_response>",
}


class Replay:
    """A model that writes `reply`, whatever it is asked: each stream goes on from what the
    prompt already holds of it (the grammar phase continues the free text), `chunk`
    characters a token, up to `max_tokens` tokens a stream."""

    name, n_ctx, lora_path = "replay", 8192, None

    def __init__(self, reply: str, chunk: int = 3, max_tokens: int = 10**9) -> None:
        self.reply, self.chunk, self.max_tokens = reply, chunk, max_tokens
        self.sent = 0  # tokens handed out, all streams together

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def _after_tag(self, done: str) -> str:
        """The reply after its open tag, where the model wrote the tag in another case or with
        spaces and generate_reply went on from the dialect's exact tag (the end of `done`)."""
        at = done.rfind("<")
        tag, wanted = done[at:], len("".join(done[at:].split()))
        assert at >= 0 and self.reply[:at] == done[:at], (self.reply, done)
        end, seen = at, 0
        while seen < wanted:
            seen += not self.reply[end].isspace()
            end += 1
        assert "".join(self.reply[at:end].split()).lower() == "".join(tag.split()).lower()
        return self.reply[end:]

    def stream(self, prompt: str, settings: SamplingSettings, stats: StreamStats, grammar: str | None = None):
        done = prompt[len(PROMPT) :]
        rest = self.reply[len(done) :] if self.reply.startswith(done) else self._after_tag(done)
        stats.finish_reason = "stop"
        for n, i in enumerate(range(0, len(rest), self.chunk)):
            if n >= self.max_tokens:
                stats.finish_reason = "length"
                return
            stats.tokens += 1
            self.sent += 1
            yield rest[i : i + self.chunk]


def reply(text: str, name: str = "hermes", chunk: int = 3, tools=TOOLS, **kw):
    shown: list[str] = []
    backend = Replay(text, chunk, **kw)
    gen = generate_reply(backend, PROMPT, get_dialect(name), tools, Config().generation, on_text=shown.append)
    return gen, "".join(shown), backend


@pytest.mark.parametrize("name", list(DIALECTS))
@pytest.mark.parametrize("shape", [str, str.upper, lambda tag: tag.replace("<", "< ", 1)])
def test_a_result_tag_the_model_writes_ends_its_message(name, shape):
    """The model wrote `<tool_response> [exit status 0]` as prose; the user saw raw tags (issue 16)."""
    gen, shown, _ = reply("Done, here it is. " + shape(RESULT_OPEN[name]) + " [exit status 0]\nmore", name)
    assert shown == gen.visible == gen.text == "Done, here it is. "
    assert gen.calls == [] and gen.finish_reason == "stop"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_stray_close_tag_ends_the_message_and_no_tools_means_no_call(name):
    dialect = get_dialect(name)
    gen, shown, _ = reply(f"Hi {dialect.close_tag} junk", name)
    assert shown == gen.text == "Hi "
    call = dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    gen, shown, _ = reply("Sure. " + call, name, tools=[])
    assert shown == gen.text == "Sure. " and gen.calls == []


@pytest.mark.parametrize("name", list(DIALECTS))
@pytest.mark.parametrize("shape", [str.upper, str.title, lambda tag: tag.replace("<", "< ", 1)])
def test_an_open_tag_in_another_case_still_opens_the_call(name, shape):
    """`<Tool_Call>` used to end the answer without a word: no card, no error."""
    dialect = get_dialect(name)
    call = dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    body = call[len(dialect.open_tag) :]
    gen, shown, _ = reply("Sure. " + shape(dialect.open_tag) + body, name)
    assert shown == gen.visible == "Sure. "
    assert gen.text == "Sure. " + call  # stored with the dialect's own tag: the next prompt reads it as a call
    assert [(p.call.name, p.call.arguments) for p in gen.calls if p.call] == [("run_shell", {"command": "ls"})]


def test_text_that_only_looks_like_a_tag_is_shown_whole():
    text = "if a < b and c <= d: print('<tool') # <tool_resp"
    gen, shown, _ = reply(text, chunk=1)
    assert shown == gen.visible == gen.text == text


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_close_tag_inside_a_string_does_not_end_the_call(name):
    """The stream's reading of a call agrees with the parser: to its real end (issue 17)."""
    dialect = get_dialect(name)
    args = {"path": "t.html", "content": f"<p>{dialect.close_tag}</p> {dialect.open_tag}"}
    text = (
        "Writing. "
        + dialect.format_call(ToolCall("write_file", args))
        + "\n"
        + dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    )
    for chunk in (1, 5, len(text)):
        gen, shown, _ = reply(text, name, chunk=chunk)
        assert shown == gen.visible == "Writing. "
        assert gen.text == text
        assert [(p.call.name, p.call.arguments) for p in gen.calls] == [
            ("write_file", args),
            ("run_shell", {"command": "ls"}),
        ]


@pytest.mark.parametrize("name", list(DIALECTS))
def test_prose_or_a_made_up_result_after_a_call_ends_the_call_block(name):
    dialect = get_dialect(name)
    call = dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    for after in ("\nThe output of the command is", "\n\n" + RESULT_OPEN[name] + "made up", " Done."):
        gen, _, backend = reply(call + after + " and a long made-up rest" * 50, name, chunk=2)
        assert gen.text == call and len(gen.calls) == 1 and gen.calls[0].call is not None
        assert backend.sent < (len(call) + len(after)) // 2 + 8  # it stopped reading right there


def test_a_half_written_call_is_an_invalid_call():
    gen, shown, _ = reply('Sure. <tool_call>{"name": "run_shell", "arguments": {"comm')
    assert shown == gen.visible == "Sure. "
    assert len(gen.calls) == 1 and gen.calls[0].call is None
    assert "never closed with </tool_call>" in gen.calls[0].error
    text = '<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "' + "word " * 40
    gen, _, _ = reply(text, chunk=4, max_tokens=20)
    assert gen.calls[0].call is None and "cut off at the token limit (generation.max_tokens)" in gen.calls[0].error


def test_the_prose_and_the_call_block_share_one_token_cap():
    """The call block was streamed with the whole generation.max_tokens again, so one message
    could run to twice the cap the config names (read-through review)."""

    class Capped(Replay):  # stops each stream at the settings' cap, as LlamaBackend does
        def stream(self, prompt, settings, stats, grammar=None):
            self.max_tokens = settings.max_tokens
            return super().stream(prompt, settings, stats, grammar)

    config = Config().generation
    config.max_tokens = 30
    text = "word " * 8 + '<tool_call>{"name": "run_shell", "arguments": {"command": "' + "y" * 200 + '"}}</tool_call>'
    backend = Capped(text, chunk=3)
    gen = generate_reply(backend, PROMPT, get_dialect("hermes"), TOOLS, config)
    assert backend.sent <= 30 and gen.tokens <= 30, (backend.sent, gen.tokens)
    assert gen.calls[0].call is None and "token limit (generation.max_tokens)" in gen.calls[0].error


def test_the_call_block_is_decoded_on_its_own_settings():
    """A call copies the request's values: a repeat penalty on the quotes and commas it already
    wrote cut lists short and left stated optional values out, and sampling at the prose's
    temperature moved values off the likeliest (issue 16: +21/-5 of 632 held-out cases for the
    shipped adapter). The prose keeps generation.temperature and repeat_penalty; the call block
    takes generation.call_temperature and call_repeat_penalty."""

    class Recording(Replay):
        def __init__(self, *args, **kw) -> None:
            super().__init__(*args, **kw)
            self.settings: list[tuple[float, float, bool]] = []  # (temperature, penalty, under a grammar)

        def stream(self, prompt, settings, stats, grammar=None):
            self.settings.append((settings.temperature, settings.repeat_penalty, grammar is not None))
            return super().stream(prompt, settings, stats, grammar)

    config = Config().generation
    assert (config.temperature, config.repeat_penalty) == (0.2, 1.1)
    assert (config.call_temperature, config.call_repeat_penalty) == (0.0, 1.0)
    text = 'Sure. <tool_call>{"name": "run_shell", "arguments": {"command": "ls"}}</tool_call>'
    for call_settings in ((0.0, 1.0), (0.7, 1.3)):
        config.call_temperature, config.call_repeat_penalty = call_settings
        backend = Recording(text)
        gen = generate_reply(backend, PROMPT, get_dialect("hermes"), TOOLS, config)
        assert gen.calls[0].call is not None
        assert backend.settings == [(0.2, 1.1, False), (*call_settings, True)]


@pytest.mark.parametrize(
    "runaway, why",
    [
        ('{"name": "run_shell", "arguments": {"command": "' + "ls; " * 5000, "over and over"),
        ('{"name": "write_file", "arguments": {"path": "a", "content": ["a", ' + '"a", ' * 5000, "over and over"),
        ('{"name": "run_shell", "arguments": {"command": ' + "[" * 1000, "deeper than 32 levels"),
    ],
    ids=["repeated-string", "repeated-array-item", "deep-nesting"],
)
def test_a_runaway_call_is_stopped_early_and_is_invalid(runaway, why):
    gen, _, backend = reply("<tool_call>" + runaway, chunk=4)
    assert len(gen.calls) == 1 and gen.calls[0].call is None and why in gen.calls[0].error
    assert backend.sent < 150  # of well over a thousand tokens
    assert len(gen.text) < 700


def test_a_string_past_the_bound_is_stopped():
    words = random.Random(7).choices(["alpha", "beta", "gamma", "delta", "pi"], k=3000)
    text = '<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "' + " ".join(words)
    gen, _, _ = reply(text, chunk=50)
    assert gen.calls[0].call is None and "a string in it passed 8192 characters" in gen.calls[0].error


def _registry() -> ToolRegistry:
    return ToolRegistry(
        [
            Tool(
                "echo",
                "Echo text",
                {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                    "additionalProperties": False,
                },
                "read",
                lambda a, c: f"ECHO {a['text']}",
                summary="echo text",
            )
        ]
    )


async def test_the_chat_never_shows_or_stores_a_result_tag_the_model_writes(tmp_path):
    """Issue 16's second tool request: the model answered with a made-up `<tool_response>`."""
    store = Store(tmp_path / "db.sqlite3")
    echo = '<tool_call>{"name": "echo", "arguments": {"text": "hi"}}</tool_call>'
    backend = ScriptedBackend(
        [
            echo,
            "It said hi.",
            "Sure. <tool_response> [exit status 0]\n</tool_response>",
            '<tool_call>{"name": "echo", "arguments": {"te',
        ]
    )
    agent = Agent(Config(), _registry(), store=store, backend=backend, workspace=tmp_path)
    session = agent.new_session()
    first = [e async for e in agent.run_turn(session, "echo hi")]
    assert next(e for e in first if isinstance(e, ToolFinished)).result.output == "ECHO hi"

    second = [e async for e in agent.run_turn(session, "again")]
    shown = "".join(e.text for e in second if isinstance(e, TextDelta))
    assert shown == "Sure. " and second[-1].text == "Sure. "
    said = [m["content"] for m in store.messages(session.id) if m["role"] == "assistant"]
    assert said[-1] == "Sure. " and not any("<tool_response>" in m for m in said)

    third = [e async for e in agent.run_turn(session, "once more")]
    invalid = next(e for e in third if isinstance(e, ToolCallInvalid))
    assert invalid.call is None and "never closed" in invalid.errors[0]
    assert isinstance(third[-1], TurnDone)
