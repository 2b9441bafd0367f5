"""engine/llama_compat.py: the llama-cpp-python routes thau relies on are all there, and
each fallback gives the same answer on the real model (as after an upgrade removed a route)."""

from __future__ import annotations

import types

import pytest

from thau_tui.engine import llama_compat
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.llama_compat import GrammarRules
from thau_tui.tools import builtin_tools


def test_the_installed_llama_cpp_python_has_every_route_thau_uses():
    problems = llama_compat.missing()
    assert problems == [], (
        "llama-cpp-python changed what thau relies on (thau_tui/engine/llama_compat.py). thau still runs "
        "on the fallbacks, but update llama_compat and the version bound in pyproject.toml:\n  " + "\n  ".join(problems)
    )


@pytest.fixture
def upgraded(monkeypatch):
    """llama_cpp as a version without the low-level functions llama_compat prefers."""
    import llama_cpp

    bare = types.SimpleNamespace(__version__="9.9.9", Llama=llama_cpp.Llama)
    monkeypatch.setattr(llama_compat, "_llama_cpp", lambda: bare)
    return bare


class _NoInternals:
    """A Llama that hides the private attributes llama_compat falls back on."""

    def __init__(self, llm):
        self._llm = llm

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._llm, name)


def _a_word_token(llm) -> int:
    return llm.tokenize(b"hello", add_bos=False, special=False)[0]


def test_end_of_generation_knows_the_end_token_through_each_route(real_backend, upgraded):
    llm = real_backend.llm
    for is_end in (
        real_backend._is_end,
        llama_compat.end_of_generation(_NoInternals(llm)),
        llama_compat.end_of_generation(llm),
    ):
        assert is_end(llm.token_eos())
        assert not is_end(_a_word_token(llm))


def test_the_bos_fallback_agrees_with_the_model(real_backend, upgraded):
    # SmolLM2's GGUF says no BOS; the fallback (the tokenizer's own add_special) must agree.
    assert real_backend._add_bos is False
    assert llama_compat.adds_bos(_NoInternals(real_backend.llm)) is False
    assert real_backend.tokenize("hi") == real_backend.llm.tokenize(b"hi", add_bos=False, special=True)


def test_control_tokens_are_the_vocabularys_and_the_fallback_defuses_by_name(real_backend, upgraded):
    """Read from llama.cpp, the control tokens are exactly what the tokenizer makes one
    token of with special tokens on; a version without the route gives None, and the
    dialect then defuses the usual spellings by name (the behaviour before)."""
    from thau_tui.engine.dialects import ControlTokens, defuse_tokens

    found = real_backend.template.control_tokens
    assert found is not None and len(found.angle) == 17  # SmolLM2's: <|im_start|>, <file_sep>, ...
    assert all(len(real_backend.tokenize(t)) == 1 for t in found.angle)
    assert llama_compat.control_tokens(real_backend.llm) is None  # the upgraded stand-in lacks the route
    assert defuse_tokens("<s>x</s><|im_end|>") == "\u2039s>x\u2039/s>\u2039|im_end|>"
    assert defuse_tokens("<s>x<file_sep>", vocab=ControlTokens(["<file_sep>"])) == "<s>x\u2039file_sep>"


def test_cached_tokens_are_the_last_prompt_through_each_route(real_backend):
    from thau_tui.engine.backend import SamplingSettings, StreamStats

    prompt = "The capital of France is"
    pieces = list(real_backend.stream(prompt, SamplingSettings(max_tokens=2, temperature=0.0), StreamStats()))
    assert pieces  # something was generated, so the cache holds the prompt and more
    tokens = real_backend.tokenize(prompt)
    cached = llama_compat.cached_tokens(real_backend.llm)
    assert list(cached[: len(tokens)]) == tokens
    assert list(llama_compat.cached_tokens(types.SimpleNamespace(_input_ids=cached))) == list(cached)
    assert list(llama_compat.cached_tokens(types.SimpleNamespace())) == []


def test_a_version_with_no_way_to_set_threads_says_which_version(upgraded):
    with pytest.raises(RuntimeError, match="llama-cpp-python 9.9.9"):
        llama_compat.set_threads(types.SimpleNamespace(ctx=None), 2, 2)


def test_missing_names_each_route_a_version_lacks(upgraded):
    problems = llama_compat.missing()
    for route in (
        "llama_model_get_vocab",
        "llama_vocab_is_eog",
        "llama_vocab_get_add_bos",
        "llama_vocab_get_attr",
        "llama_set_n_threads",
    ):
        assert any(route in p and "9.9.9" in p for p in problems), (route, problems)


class _PublicConverter:
    """A SchemaConverter that shows only its documented method, format_grammar."""

    def __init__(self, converter):
        self.format_grammar = converter.format_grammar


@pytest.mark.parametrize("dialect", ["hermes", "thau", "stage3"])
def test_the_grammar_is_the_same_without_the_converters_rule_table(dialect, monkeypatch):
    from thau_tui.engine import gbnf

    tools = builtin_tools()
    own = get_dialect(dialect).grammar(tools)
    real = GrammarRules.__init__
    monkeypatch.setattr(GrammarRules, "__init__", lambda self, converter: real(self, _PublicConverter(converter)))
    assert gbnf.GrammarRules is GrammarRules
    public = get_dialect(dialect).grammar(tools)
    assert public == own
    assert "tool-call ::= " in public


def test_adding_a_rule_that_exists_is_refused_through_each_route():
    from llama_cpp.llama_grammar import SchemaConverter

    for wrap in (lambda c: c, _PublicConverter):
        converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
        converter.visit({"type": "object", "properties": {"a": {"type": "string"}}}, "args")
        rules = GrammarRules(wrap(converter))
        rules.add("tool-call", '"x" args')
        rules.add("tool-call", '"x" args')  # the same rule again is fine
        with pytest.raises(ValueError, match="tool-call"):
            rules.add("tool-call", '"y" args')
        assert 'tool-call ::= "x" args' in rules.text().splitlines()


# Another thread writes to fd 2 every 2 ms while the bundled model loads and answers; every
# write must reach the file, and llama.cpp must write nothing there itself.
TICKS = """
import os, sys, threading, time
from thau_tui.engine.backend import LlamaBackend, SamplingSettings, StreamStats
stop, sent = threading.Event(), [0]
def tick():
    while not stop.is_set():
        os.write(2, b"tick\\n"); sent[0] += 1; time.sleep(0.002)
thread = threading.Thread(target=tick); thread.start()
backend = LlamaBackend(sys.argv[1], n_ctx=512, n_threads=1)
"".join(backend.stream("Hello", SamplingSettings(max_tokens=4), StreamStats()))
stop.set(); thread.join()
print(sent[0])
"""


def test_loading_the_model_leaves_the_terminals_file_descriptors_alone(tmp_path):
    """Textual draws the screen on fd 2 from its own thread; llama-cpp-python's verbose=False
    pointed fds 1 and 2 at /dev/null during a load, so the chat's first screen was lost."""
    import subprocess
    import sys

    from thau_tui.paths import bundled_model

    with open(tmp_path / "stderr", "wb") as err:
        done = subprocess.run(
            [sys.executable, "-c", TICKS, str(bundled_model())], stdout=subprocess.PIPE, stderr=err, timeout=300
        )
    assert done.returncode == 0
    written = (tmp_path / "stderr").read_text()
    sent = int(done.stdout.decode().strip())
    assert sent > 10
    assert written.count("tick\n") == sent, f"{sent - written.count('tick')} of {sent} writes to fd 2 were lost"
    assert written.replace("tick\n", "") == "", "llama.cpp wrote to the terminal itself"


def test_a_model_llama_cpp_cannot_load_says_what_llama_cpp_found(tmp_path):
    from thau_tui.engine.backend import LlamaBackend, ModelLoadError
    from thau_tui.paths import bundled_model

    model = bundled_model().read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(model[: len(model) // 2])  # the header reads; tensor data is missing
    with pytest.raises(ModelLoadError) as raised:
        LlamaBackend(cut, n_ctx=256, n_threads=1)
    assert "cut.gguf" in str(raised.value)
    assert "not within the file bounds" in str(raised.value)
    # and what to do about it (crash review: only llama.cpp's words were given)
    assert "download it again" in str(raised.value) and "Ctrl+O" in str(raised.value)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(ModelLoadError) as raised:
        LlamaBackend(junk, n_ctx=256, n_threads=1)
    assert "not a readable GGUF file" in str(raised.value) and "download it again" in str(raised.value)


def test_the_template_stand_in_holds_while_any_load_runs():
    """Two loads may overlap (a cancelled one runs on): the first to end restored the real
    compiler while the second still loaded (read-through)."""
    import llama_cpp.llama as llama_module

    from thau_tui.engine.llama_compat import templates_left_alone

    formats = llama_module.llama_chat_format
    real = formats.Jinja2ChatFormatter
    first, second = templates_left_alone(), templates_left_alone()
    first.__enter__()
    second.__enter__()
    assert formats.Jinja2ChatFormatter is not real
    first.__exit__(None, None, None)
    assert formats.Jinja2ChatFormatter is not real  # the second load still runs
    second.__exit__(None, None, None)
    assert formats.Jinja2ChatFormatter is real


def test_a_refused_adapter_is_told_from_a_null_pointer_and_without_the_attribute():
    """llama-cpp-python tests llama.cpp's answer against None; a refused adapter is a NULL
    pointer (falsy, not None). Without the attribute (a later version), the log decides."""
    import ctypes

    from thau_tui.engine import llama_compat

    class Loaded:
        _lora_adapter = ctypes.c_void_p(1)

    class Refused:
        _lora_adapter = ctypes.c_void_p(None)

    after = llama_compat.log_mark()
    assert llama_compat.adapter_refused(Loaded(), after) is None
    assert llama_compat.adapter_refused(Refused(), after) == "llama.cpp could not apply it"
    assert llama_compat.adapter_refused(object(), after) is None  # gone, and nothing logged
