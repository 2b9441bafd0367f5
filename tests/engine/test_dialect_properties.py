"""Properties of every dialect's reading of model text, on generated text (hypothesis):
a call's arguments survive format -> parse whatever their strings hold, a reply streamed
one character at a time comes out as it does in one chunk, no text makes the reader raise,
and reading time grows linearly with the text (issue 17)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_generate_reply import PROMPT, TOOLS, Replay

from thau_tui.config import Config
from thau_tui.engine.dialects import DIALECTS, get_dialect
from thau_tui.engine.generate import generate_reply
from thau_tui.tools import ToolCall

NAMES = sorted(DIALECTS)
# Every dialect's tags (a hostile reply mixes them), their odd spellings, and the pieces
# of their call syntax.
TAGS = sorted({tag for name in NAMES for tag in get_dialect(name).reserved_tags})
MARKS = (
    TAGS
    + [t.upper() for t in TAGS]
    + [t.replace("<", "< ") for t in TAGS]
    + [
        "<",
        ">",
        "</",
        "{",
        "}",
        "[",
        "]",
        '"',
        "\\",
        '\\"',
        ":",
        ",",
        "\n",
        " ",
        "  \n ",
        "call:",
        "Tool: x\n",
        "Arguments: ",
        '{"name": "run_shell", "arguments": ',
        '"command": ',
        "run_shell>",
        "<|im_end|>",
        "é",
        "🙂",
    ]
)
hostile = st.lists(st.one_of(st.sampled_from(MARKS), st.text(max_size=6)), max_size=30).map("".join)

strings = st.one_of(
    st.text(max_size=12), st.sampled_from(MARKS), st.lists(st.sampled_from(MARKS), max_size=4).map("".join)
)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), strings),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b_c"]), inner, max_size=2)
    ),
    max_leaves=6,
)
arguments = st.dictionaries(st.sampled_from(["command", "path", "content", "two words"]), values, max_size=3)


def _holds_escape(value) -> bool:
    """FunctionGemma has no way to write the text <escape> inside a string (see its docstring)."""
    if isinstance(value, str):
        return "<escape>" in value
    if isinstance(value, dict):
        return any(_holds_escape(k) or _holds_escape(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_escape(v) for v in value)
    return False


def replies(name: str):
    """Model replies in a dialect: prose and hostile fragments around real calls."""
    dialect = get_dialect(name)
    calls = st.builds(
        lambda tool, args: dialect.format_call(ToolCall(tool, args)),
        st.sampled_from(["run_shell", "write_file", "nope"]),
        arguments,
    )
    return st.lists(
        st.one_of(calls, calls.map(lambda c: "\n" + c), st.sampled_from(MARKS), st.text(max_size=8)), max_size=8
    ).map("".join)


def outcome(gen, shown):
    return (
        gen.text,
        gen.visible,
        shown,
        [(p.call.name, p.call.arguments) if p.call else p.error for p in gen.calls],
        [p.raw for p in gen.calls],
    )


def run(name: str, text: str, chunk: int):
    shown: list[str] = []
    gen = generate_reply(
        Replay(text, chunk), PROMPT, get_dialect(name), TOOLS, Config().generation, on_text=shown.append
    )
    return outcome(gen, "".join(shown))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_arguments_survive_format_then_parse(name, data):
    dialect = get_dialect(name)
    args = data.draw(arguments)
    if name == "functiongemma" and _holds_escape(args):
        return
    before = data.draw(st.text(max_size=10).filter(lambda t: dialect.first_tag(t) is None and not t.endswith("<")))
    text = (
        before
        + dialect.format_call(ToolCall("write_file", args))
        + "\n"
        + dialect.format_call(ToolCall("run_shell", {"command": "ls"}))
    )
    parsed = dialect.parse_calls(text)
    assert [(p.call.name, p.call.arguments) for p in parsed] == [("write_file", args), ("run_shell", {"command": "ls"})]
    assert run(name, text, 1) == run(name, text, len(text))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_streamed_one_character_at_a_time_equals_one_chunk(name, data):
    text = data.draw(st.one_of(replies(name), hostile))
    chunk = data.draw(st.integers(2, 9))
    whole = run(name, text, max(1, len(text)))
    assert run(name, text, 1) == whole == run(name, text, chunk)
    gen_text, visible, shown, _, _ = whole
    assert shown == visible and gen_text.startswith(visible)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(hostile, st.text()))
def test_no_text_makes_the_reader_raise(name, text):
    dialect = get_dialect(name)
    for parsed in dialect.parse_calls(text):
        assert (parsed.call is None) != (parsed.error is None)
    dialect.text_before_call(text)
    dialect.first_tag(text)
    assert 0 <= dialect.partial_tag_len(text) <= len(text)
    assert dialect.close_tag.lower() not in dialect.defuse(text).lower()
    run(name, text, 3)


def _cpu_seconds(read, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        read(text)
        best = min(best, time.thread_time() - started)
    return best


def _read(dialect):
    def read(text: str) -> None:
        dialect.parse_calls(text)
        dialect.text_before_call(text)
        dialect.render_result("x", text)

    return read


HEADS = ["", "Tool: x", "Tool:", "call:x{a:", '{"name": "x", "arguments": {"a": "', "x>", "{" * 30]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=st.sampled_from(HEADS),
    piece=st.one_of(st.sampled_from(MARKS), hostile.filter(bool)),
    tail=st.sampled_from(["", "y", "}"]),
    closed=st.booleans(),
)
@example(head="Tool: x", piece="\n", tail="y", closed=True)  # stage3 backtracked quadratically here
@example(head="Tool:", piece=" ", tail="y", closed=True)
@example(head="", piece="[", tail="", closed=True)
@example(head='{"name": "x", "arguments": {"a": "', piece="\\", tail="", closed=False)
@example(head="call:x{a:", piece="<escape>", tail="", closed=False)
@example(head="", piece="< ", tail="", closed=False)
def test_reading_time_grows_linearly(name, head, piece, tail, closed):
    """n and 8n copies of one piece: 8 times the text may cost about 8 times the time, never 64."""
    dialect = get_dialect(name)
    read = _read(dialect)

    def text(copies: int) -> str:
        return dialect.open_tag + head + piece * copies + tail + (dialect.close_tag if closed else "")

    copies = max(1, 2_000 // len(piece))
    small = _cpu_seconds(read, text(copies))
    large = _cpu_seconds(read, text(8 * copies))
    # Generous (linear is 8, quadratic 64), and a floor for texts read too fast to time.
    assert large < 24 * max(small, 2e-4), (small, large)
