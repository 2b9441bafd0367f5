"""The data set builder: deterministic, balanced, schema-valid, template-disjoint, in the chat's format."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import random
import re

import pytest

from thau_tui.config import GenerationConfig
from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.prompt import system_content
from thau_tui.tools import ToolCall, ToolRegistry, builtin_tools
from thau_tui.train.data import DatasetError, build_dataset, read_jsonl
from thau_tui.train.evaluate import case_tools


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
    assert 0.3 <= no_call_share <= 0.45, no_call_share
    kinds = stats["train"]["by_kind"]
    assert kinds["conversation"] >= 0.15 * len(train) and kinds["multi_turn"] >= 0.03 * len(train)
    assert 0.15 * len(train) <= kinds["schema"] <= 0.25 * len(train)
    assert kinds["python"] and kinds["ask"]
    every_tool = {tool.name for tool in builtin_tools()}
    assert set(stats["train"]["by_tool"]) == every_tool | {"(synthetic)"}
    # Single calls are a fifth of the mix now; every built-in still appears in 600 examples.
    assert min(stats["train"]["by_tool"].values()) >= 2, stats["train"]["by_tool"]


def test_no_template_on_both_sides_of_the_split(built):
    _out, stats, train, eval_cases = built
    assert stats["shared_templates"] == []
    assert not {r["template"] for r in train} & {r["template"] for r in eval_cases}
    # The eval side still covers calls in both languages.
    assert {r["lang"] for r in eval_cases if r["expected_calls"]} == {"en", "es"}


def test_every_call_fits_its_schema_and_is_written_in_the_dialect(built):
    _out, _stats, train, _eval = built
    hermes, builtins = get_dialect("hermes"), builtin_tools()
    calls = 0
    for row in train:
        registry = ToolRegistry(case_tools(row, builtins))  # the row's own tools (synthetic ones included)
        assistant_calls = [
            p for m in row["messages"] if m["role"] == "assistant" for p in hermes.parse_calls(m["content"])
        ]
        assert [(p.call.name, p.call.arguments) for p in assistant_calls] == [
            (c["name"], c["arguments"]) for c in row["expected_calls"]
        ]
        for call in row["expected_calls"]:
            assert registry.validate(ToolCall(call["name"], call["arguments"])) == []
            calls += 1
    assert calls > 500


def test_system_message_is_what_the_chat_shows(built):
    _out, _stats, train, eval_cases = built
    prompt, hermes, builtins = GenerationConfig().system_prompt, get_dialect("hermes"), builtin_tools()
    expected = system_content(prompt, hermes, builtins)
    assert {r["messages"][0]["content"] for r in train + eval_cases if "tools" not in r} == {expected}
    # Synthetic tools render as `thau eval` renders a case's tools (and the chat its plugin tools).
    with_tools = [r for r in train + eval_cases if "tools" in r]
    assert with_tools
    for row in with_tools:
        assert row["messages"][0]["content"] == system_content(prompt, hermes, case_tools(row, builtins))


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
    after_result = [c for c in eval_cases if c["messages"][-1]["role"] == "tool" and c["kind"] != "conversation"]
    assert after_result and all(c["expected_calls"] == [] for c in after_result)
    # A conversation stops before a later call: one with a tool result earlier in the history.
    conversations = [c for c in eval_cases if c["kind"] == "conversation"]
    assert conversations and all(c["expected_calls"] for c in conversations)
    later = [c for c in conversations if any(m["role"] == "tool" for m in c["messages"])]
    assert len(later) >= 0.7 * len(conversations)


def test_spanish_image_request_keeps_the_users_words(built):
    _out, _stats, train, _eval = built

    def request_before(messages, call):
        # The user message the call answers (a conversation holds several requests).
        at = next(
            i
            for i, m in enumerate(messages)
            if m["role"] == "assistant"
            and call["arguments"]["prompt"] in m["content"]
            and "generate_image" in m["content"]
        )
        return [m["content"] for m in messages[:at] if m["role"] == "user"][-1]

    pairs = [
        (request_before(r["messages"], c), c["arguments"]["prompt"])
        for r in train
        if r["lang"] == "es" and r["kind"] != "conversation"
        for c in r["expected_calls"]
        if c["name"] == "generate_image"
    ]
    pairs += [
        (request_before(r["messages"], c), c["arguments"]["prompt"])
        for r in train
        if r["kind"] == "conversation"
        for c in r["expected_calls"]
        if c["name"] == "generate_image"
    ]
    assert pairs
    for request, prompt in pairs:
        assert prompt in request  # the prompt is the user's own Spanish words
    assert any(prompt.startswith(("un ", "una ", "la ")) for _request, prompt in pairs)


def test_stats_report_token_lengths(built):
    _out, stats, _train, _eval = built
    tokens = stats["train"]["tokens"]
    assert 100 < tokens["min"] <= tokens["p50"] <= tokens["p95"] <= tokens["max"] <= stats["max_tokens"] == 640
    assert set(stats["train"]["tokens_by_kind"]) == set(stats["train"]["by_kind"])
    assert json.loads((built[0] / "stats.json").read_text())["train"]["examples"] == 600


def test_missing_tool_is_a_clear_error(tmp_path):
    tools = [t for t in builtin_tools() if t.name != "run_shell"]
    with pytest.raises(DatasetError, match="lacks run_shell"):
        build_dataset(tmp_path, n_train=10, n_eval=2, tools=tools, count_tokens=False)


def test_tool_weights_draw_the_named_tools_more_often(tmp_path):
    """A second pass on the tools a model misses: their single requests come up more often,
    the eval split and the held-out files do not change, and a wrong name is an error."""
    plain, weighted = tmp_path / "plain", tmp_path / "weighted"
    build_dataset(plain, n_train=800, n_eval=40, seed=3, count_tokens=False, max_tokens=None)
    build_dataset(
        weighted,
        n_train=800,
        n_eval=40,
        seed=3,
        count_tokens=False,
        max_tokens=None,
        tool_weights={"debug_code": 6, "analyze_code": 6},
    )

    def single_requests(folder, tool):
        rows = read_jsonl(folder / "train.jsonl")
        return sum(1 for r in rows if r["kind"] == "call" and r["tool"] == tool)

    for tool in ("debug_code", "analyze_code"):
        # x6 on two of ~23 weights: about 3.5 times as many (160 single requests in all)
        assert single_requests(weighted, tool) > 2 * max(1, single_requests(plain, tool)), tool
    for name in ("eval.jsonl", "heldout_builtin.jsonl", "heldout_multiturn.jsonl", "heldout_schemas.jsonl"):
        assert (weighted / name).read_bytes() == (plain / name).read_bytes(), name
    with pytest.raises(DatasetError, match="not in the data set: debug"):
        build_dataset(tmp_path / "bad", n_train=10, n_eval=2, count_tokens=False, tool_weights={"debug": 2})


def test_family_weights_draw_one_family_of_phrasings_more_often(tmp_path):
    """family_weights: image requests that state a size come up more often, other image
    requests do not; the eval split stays; a name that is no family is an error naming them."""
    plain, weighted = tmp_path / "plain", tmp_path / "weighted"
    common = dict(n_train=800, n_eval=40, seed=3, count_tokens=False, max_tokens=None)
    build_dataset(plain, **common)
    build_dataset(weighted, family_weights={"generate_image_size": 8}, **common)

    def sized(folder):
        rows = [r for r in read_jsonl(folder / "train.jsonl") if r["kind"] == "call" and r["tool"] == "generate_image"]
        return sum(1 for r in rows if "width" in r["expected_calls"][0]["arguments"]), len(rows)

    (plain_sized, plain_all), (weighted_sized, weighted_all) = sized(plain), sized(weighted)
    assert weighted_sized > 2 * max(1, plain_sized), (plain_sized, weighted_sized)
    assert weighted_all - weighted_sized < 1.5 * (plain_all - plain_sized) + 3
    assert (weighted / "eval.jsonl").read_bytes() == (plain / "eval.jsonl").read_bytes()
    with pytest.raises(DatasetError, match="family_weights: no family image_size .*generate_image_size"):
        build_dataset(tmp_path / "bad", n_train=10, n_eval=2, count_tokens=False, family_weights={"image_size": 2})


def test_kind_shares_change_the_mix_of_the_training_split_only(tmp_path):
    """kind_shares: more conversations and schema examples, fewer no-tool questions; the
    kinds it does not name keep their default share and single calls take the rest."""
    from collections import Counter

    from thau_tui.train.data import KIND_SHARES

    plain, mixed = tmp_path / "plain", tmp_path / "mixed"
    build_dataset(plain, n_train=200, n_eval=20, seed=5, count_tokens=False, max_tokens=None)
    shares = {"conversation": 0.35, "schema": 0.25, "no_call": 0.15}
    build_dataset(mixed, n_train=200, n_eval=20, seed=5, count_tokens=False, max_tokens=None, kind_shares=shares)
    kinds = Counter(r["kind"] for r in read_jsonl(mixed / "train.jsonl"))
    assert Counter(r["kind"] for r in read_jsonl(plain / "train.jsonl"))["conversation"] == 40
    assert (kinds["conversation"], kinds["schema"], kinds["no_call"]) == (70, 50, 30)
    assert kinds["python"] == round(200 * KIND_SHARES["python"])
    rest = 1 - sum((KIND_SHARES | shares).values())
    assert sum(kinds.values()) == 200 and kinds["call"] >= round(200 * rest) > 0
    assert (mixed / "eval.jsonl").read_bytes() == (plain / "eval.jsonl").read_bytes()


def test_named_command_requests_call_the_shell_with_the_command_the_user_named(tmp_path):
    """'Show what is in this folder with ls' is run_shell ls, not list_directory: off by
    default (the default data set has none), on through kind_shares, after 0-2 commands."""
    build_dataset(tmp_path / "plain", n_train=100, n_eval=10, seed=2, count_tokens=False, max_tokens=None)
    assert not [r for r in read_jsonl(tmp_path / "plain" / "train.jsonl") if r["kind"] == "named_command"]
    out = tmp_path / "named"
    shares = {"named_command": 0.3, "no_call": 0.11}  # the defaults take 0.80 of the 1.0
    build_dataset(out, n_train=100, n_eval=10, seed=2, count_tokens=False, max_tokens=None, kind_shares=shares)
    rows = [r for r in read_jsonl(out / "train.jsonl") if r["kind"] == "named_command"]
    assert len(rows) == 30
    earlier = 0
    for row in rows:
        last_request = [m["content"] for m in row["messages"] if m["role"] == "user"][-1]
        last_call = row["expected_calls"][-1]
        assert last_call["name"] == "run_shell" and last_call["arguments"]["command"] in last_request, row
        assert all(c["name"] == "run_shell" for c in row["expected_calls"])
        earlier += len(row["expected_calls"]) > 1
    assert 0 < earlier < len(rows)  # some come after other commands in the chat, some alone


def test_written_requests_sound_like_tasks_and_are_answered_in_words(tmp_path):
    """A short poem, a name, a quick fact: no call, a reply in the request's language, off
    by default, training frames only; and no held-out no-tool question or its subject
    (autumn haiku, grey cat, minutes in a day, French) is among them."""
    from thau_tui.train import heldout
    from thau_tui.train.phrasings import eval_frame_indexes
    from thau_tui.train.phrasings.catalog import written_families

    build_dataset(tmp_path / "plain", n_train=100, n_eval=10, seed=5, count_tokens=False, max_tokens=None)
    assert not [r for r in read_jsonl(tmp_path / "plain" / "train.jsonl") if r["kind"] == "written"]
    out = tmp_path / "written"
    shares = {"written": 0.3, "no_call": 0.11}
    build_dataset(out, n_train=100, n_eval=10, seed=5, count_tokens=False, max_tokens=None, kind_shares=shares)
    rows = [r for r in read_jsonl(out / "train.jsonl") if r["kind"] == "written"]
    assert len(rows) == 30 and {r["template"].split(".")[0] for r in rows} == {"verse", "name", "fact"}
    for row in rows:
        assert row["expected_calls"] == [] and row["tool"] is None
        reply = row["messages"][-1]
        assert reply["role"] == "assistant" and reply["content"] and "<tool_call>" not in reply["content"]
        family, lang, index = row["template"].split(".")
        assert lang == row["lang"]
        fam = next(f for f in written_families() if f.id == family)
        assert int(index) not in eval_frame_indexes(len(fam.frames[lang]))
    texts = set()
    for fam in written_families():
        for lang in ("en", "es"):
            for frame in fam.frames[lang]:
                for seed in range(60):
                    item = fam.draw(random.Random(seed), 0)
                    texts.add(frame.format(**item.words[lang]).lower())
                    texts.add(item.answer[lang].lower())
    assert not {q.lower() for lang in ("en", "es") for q in heldout.NO_TOOL[lang]} & texts
    for word in ("haiku", "autumn", "otoño", "cat", "gato", "minute", "minuto", "french", "francés"):
        assert not [t for t in texts if word in t], word


def test_prose_requests_give_their_text_or_ask_advice_and_are_answered_in_words(tmp_path):
    """A sentence to reword, a couple of tips: no call, the reply in the request's language
    (the reworded sentence is not the one given), off by default, training frames only."""
    from thau_tui.train.phrasings import eval_frame_indexes
    from thau_tui.train.phrasings.catalog import prose_families

    base = {"written": 0.1, "no_call": 0.11}
    build_dataset(
        tmp_path / "off", n_train=60, n_eval=10, seed=6, count_tokens=False, max_tokens=None, kind_shares=base
    )
    off = read_jsonl(tmp_path / "off" / "train.jsonl")
    assert not [r for r in off if r["kind"] == "prose"]
    shares = {**base, "prose": 0.3}
    build_dataset(
        tmp_path / "on", n_train=100, n_eval=10, seed=6, count_tokens=False, max_tokens=None, kind_shares=shares
    )
    rows = [r for r in read_jsonl(tmp_path / "on" / "train.jsonl") if r["kind"] == "prose"]
    assert len(rows) == 30 and {r["template"].split(".")[0] for r in rows} == {"reword", "tips"}
    for row in rows:
        assert row["expected_calls"] == [] and row["tool"] is None
        request, reply = row["messages"][-2]["content"], row["messages"][-1]["content"]
        assert reply and "<tool_call>" not in reply and reply.lower() not in request.lower()
        family, lang, index = row["template"].split(".")
        assert lang == row["lang"]
        fam = next(f for f in prose_families() if f.id == family)
        assert int(index) not in eval_frame_indexes(len(fam.frames[lang]))
    for fam in prose_families():  # every frame reads whole in both languages
        for lang in ("en", "es"):
            for frame in fam.frames[lang]:
                text = frame.format(**fam.draw(random.Random(1), 0).words[lang])
                assert "{" not in text and text[0].isupper() or text[0] in "¿¡", text


def test_stated_requests_carry_every_value_exactly_as_the_user_wrote_it(tmp_path):
    """Values from large word lists, copied into the call: each string and number of the call
    is in the request, quoted text is written with no newline added, no value is held out,
    and the kind is off by default."""
    from thau_tui.train import heldout, stated_values

    build_dataset(tmp_path / "plain", n_train=100, n_eval=10, seed=4, count_tokens=False, max_tokens=None)
    assert not [r for r in read_jsonl(tmp_path / "plain" / "train.jsonl") if r["kind"] == "stated"]
    out = tmp_path / "stated"
    shares = {"stated": 0.4, "no_call": 0.11}  # the defaults take 0.49 of the 1.0
    build_dataset(out, n_train=300, n_eval=10, seed=4, count_tokens=False, max_tokens=None, kind_shares=shares)
    rows = [r for r in read_jsonl(out / "train.jsonl") if r["kind"] == "stated"]
    assert len(rows) == 120
    assert len({r["tool"] for r in rows}) >= 7
    values = set()
    for row in rows:
        request = row["messages"][1]["content"]
        (call,) = row["expected_calls"]
        for value in call["arguments"].values():
            if value != "append":
                assert str(value) in request, (value, request)
        if call["name"] == "write_file":
            assert not call["arguments"]["content"].endswith("\n")
            assert (call["arguments"].get("mode") == "append") == (row["template"].startswith("stated.append"))
        values |= {json.dumps(v) for v in call["arguments"].values()}
        assert not {v for v in call["arguments"].values() if isinstance(v, str)} & stated_values.HELD
    assert len(values) > len(rows)  # not a handful learned by heart (phrasings/ has 16 write_file texts in all)
    held_frames = {f for fam in stated_values.FAMILIES for lang in fam.frames for f in fam.frames[lang]}
    assert not {frame for entry in heldout.BUILTIN for frame in entry[1:3]} & held_frames
    # The last frame of a family of three or more is the eval side's (eval_frame_indexes): never in training.
    used = {r["template"] for r in rows}
    for fam in stated_values.FAMILIES:
        for lang in ("en", "es"):
            last = len(fam.frames[lang]) - 1
            assert last < 2 or f"stated.{fam.id}.{lang}.{last}" not in used


def _strings_in(value, out: set[str], depth: int = 0) -> None:
    """Every string in a module-level constant (dicts, lists, tuples, dataclasses)."""
    if depth > 8 or inspect.isclass(value) or inspect.ismodule(value) or callable(value):
        return
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings_in(key, out, depth + 1)
            _strings_in(item, out, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _strings_in(item, out, depth + 1)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _strings_in(getattr(value, field.name, None), out, depth + 1)


def test_no_held_out_frame_is_a_training_string():
    """heldout.BUILTIN's frames and values are promised to appear nowhere in training. "Paint me
    {subject}." and "Is this code safe?\\n{code}" did, in phrasings/: compared with the placeholders
    and the white space made alike, no constant string of any training module is a held-out frame
    or value."""
    import thau_tui.train as train_package
    from thau_tui.train import heldout, stated_values

    def alike(text: str) -> str:
        return " ".join(re.sub(r"\{[a-z_0-9]*\}", "{}", text).lower().split())

    held = {alike(frame): frame for entry in heldout.BUILTIN for frame in entry[1:3]}
    held |= {alike(q): q for lang in ("en", "es") for q in heldout.NO_TOOL[lang]}
    strings: set[str] = set()
    modules = [m.name for m in pkgutil.walk_packages(train_package.__path__, "thau_tui.train.")]
    assert "thau_tui.train.phrasings.images" in modules and "thau_tui.train.conversation_phrasings" in modules
    for name in modules:
        if name != "thau_tui.train.heldout":
            for key, value in vars(importlib.import_module(name)).items():
                if not key.startswith("__") and value is not stated_values.HELD:  # HELD keeps them out
                    _strings_in(value, strings)
    assert len(strings) > 3000
    shared = sorted(held[alike(s)] for s in strings if alike(s) in held)
    assert not shared
    # Nor its values: "nproc", "itertools.groupby", "tests/unit", "FIXME" and "assets" were training values.
    values = {v for entry in heldout.BUILTIN for row in entry[3] for v in (row if isinstance(row, tuple) else (row,))}
    assert not sorted(v for v in values if isinstance(v, str) and v in strings)


def test_a_data_set_is_not_written_through_planted_links(tmp_path):
    """From the training review: `thau data build --out out` with out/stats.json or
    out/train.jsonl a link wrote through it. A link at train.jsonl is refused, named; one at
    stats.json is replaced; what they point at is unchanged either way."""
    victim = tmp_path / "victim"
    victim.write_text("the user's file\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "stats.json").symlink_to(victim)
    build_dataset(out, n_train=20, n_eval=4, seed=0, count_tokens=False)
    assert victim.read_text() == "the user's file\n" and not (out / "stats.json").is_symlink()
    (out / "train.jsonl").unlink()
    (out / "train.jsonl").symlink_to(victim)
    with pytest.raises(OSError, match="is a link or not a plain file"):
        build_dataset(out, n_train=20, n_eval=4, seed=0, count_tokens=False)
    assert victim.read_text() == "the user's file\n"
