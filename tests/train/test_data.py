"""The data set builder: deterministic, balanced, schema-valid, template-disjoint, in the chat's format."""

from __future__ import annotations

import json

import pytest

from thau_tui.config import GenerationConfig
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.prompt import system_content
from thau_tui.tools import ToolCall, build_registry, builtin_tools
from thau_tui.train.data import DatasetError, build_dataset, read_jsonl


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    stats = build_dataset(out, n_train=600, n_eval=120, seed=0)
    return out, stats, read_jsonl(out / "train.jsonl"), read_jsonl(out / "eval.jsonl")


def test_same_seed_same_files_other_seed_other_files(tmp_path, built):
    out, _stats, _train, _eval = built
    again = tmp_path / "again"
    build_dataset(again, n_train=600, n_eval=120, seed=0)
    for name in ("train.jsonl", "eval.jsonl", "stats.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    other = tmp_path / "other"
    build_dataset(other, n_train=600, n_eval=120, seed=1, count_tokens=False)
    assert (other / "train.jsonl").read_bytes() != (out / "train.jsonl").read_bytes()


def test_balanced_languages_kinds_and_tools(built):
    _out, stats, train, _eval = built
    assert stats["train"]["by_lang"] == {"en": 300, "es": 300}
    no_call_share = stats["train"]["no_call"] / len(train)
    assert 0.4 <= no_call_share <= 0.55, no_call_share
    assert stats["train"]["by_kind"]["multi_turn"] >= 0.1 * len(train)
    every_tool = {tool.name for tool in builtin_tools()}
    assert set(stats["train"]["by_tool"]) == every_tool
    assert min(stats["train"]["by_tool"].values()) >= 5


def test_no_template_on_both_sides_of_the_split(built):
    _out, stats, train, eval_cases = built
    assert stats["shared_templates"] == []
    assert not {r["template"] for r in train} & {r["template"] for r in eval_cases}
    # The eval side still covers calls in both languages.
    assert {r["lang"] for r in eval_cases if r["expected_calls"]} == {"en", "es"}


def test_every_call_fits_its_schema_and_is_written_in_the_dialect(built):
    _out, _stats, train, _eval = built
    registry, hermes = build_registry(), get_dialect("hermes")
    calls = 0
    for row in train:
        assistant_calls = [p for m in row["messages"] if m["role"] == "assistant" for p in hermes.parse_calls(m["content"])]
        assert [(p.call.name, p.call.arguments) for p in assistant_calls] == [
            (c["name"], c["arguments"]) for c in row["expected_calls"]]
        for call in row["expected_calls"]:
            assert registry.validate(ToolCall(call["name"], call["arguments"])) == []
            calls += 1
    assert calls > 250


def test_system_message_is_what_the_chat_shows(built):
    _out, _stats, train, eval_cases = built
    expected = system_content(GenerationConfig().system_prompt, get_dialect("hermes"), builtin_tools())
    assert {r["messages"][0]["content"] for r in train + eval_cases} == {expected}


def test_multi_turn_has_result_and_reply(built):
    _out, _stats, train, _eval = built
    with_result = [r for r in train if r.get("shape") == "result"]
    assert with_result
    for row in with_result:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant", "tool", "assistant"]
        assert row["messages"][3]["content"].startswith("<tool_response>")
        assert "<tool_call>" not in row["messages"][4]["content"]


def test_eval_lines_stop_before_the_turn_to_predict(built):
    _out, _stats, _train, eval_cases = built
    for case in eval_cases:
        assert case["messages"][-1]["role"] in ("user", "tool")
        assert set(case) >= {"id", "messages", "expected_calls"}
    after_result = [c for c in eval_cases if c["messages"][-1]["role"] == "tool"]
    assert after_result and all(c["expected_calls"] == [] for c in after_result)


def test_spanish_image_request_keeps_the_users_words(built):
    _out, _stats, train, _eval = built
    pairs = [([m["content"] for m in r["messages"] if m["role"] == "user"][-1], c["arguments"]["prompt"])
             for r in train if r["lang"] == "es" for c in r["expected_calls"] if c["name"] == "generate_image"]
    assert pairs
    for request, prompt in pairs:
        assert prompt in request  # the prompt is the user's own Spanish words
    assert any(prompt.startswith(("un ", "una ", "la ")) for _request, prompt in pairs)


def test_stats_report_token_lengths(built):
    _out, stats, _train, _eval = built
    tokens = stats["train"]["tokens"]
    assert 100 < tokens["min"] <= tokens["p50"] <= tokens["p95"] <= tokens["max"] < 1000
    assert json.loads((built[0] / "stats.json").read_text())["train"]["examples"] == 600


def test_missing_tool_is_a_clear_error(tmp_path):
    tools = [t for t in builtin_tools() if t.name != "run_shell"]
    with pytest.raises(DatasetError, match="lacks run_shell"):
        build_dataset(tmp_path, n_train=10, n_eval=2, tools=tools, count_tokens=False)
