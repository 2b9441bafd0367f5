"""run_eval on the bundled SmolLM2 through llama-cpp-python: the chat's own generation path."""

from __future__ import annotations

import json
import os

import pytest

from thau_tui.train.evaluate import case_messages, resolve_adapter, run_eval, score_run
from thau_tui.train.score import SCORE_KEYS, read_jsonl, score

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

CASES = [
    {
        "id": "weather",
        "tools": [WEATHER],
        "messages": [{"role": "user", "content": "Weather in Paris? Use get_weather."}],
        "expected_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
    },
    {
        "id": "listing",
        "tools": ["list_directory", "read_file"],
        "messages": [{"role": "user", "content": "List the files in src."}],
        "expected_calls": [{"name": "list_directory", "arguments": {"path": "src"}}],
    },
]


@pytest.fixture
def cases_file(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return path


def test_run_eval_writes_one_prediction_per_case(cases_file, tmp_path):
    progress = []
    out = tmp_path / "out" / "pred.jsonl"
    predictions = run_eval(cases_file, out, max_tokens=24, on_progress=lambda d, t, p: progress.append((d, t, p["id"])))
    assert sorted(progress) == [(1, 2, "listing"), (2, 2, "weather")] or sorted(progress) == [
        (1, 2, "weather"),
        (2, 2, "listing"),
    ]
    assert [p["id"] for p in predictions] == ["weather", "listing"]  # the cases' order, whatever ran first
    assert sorted(read_jsonl(out), key=lambda p: p["id"]) == sorted(predictions, key=lambda p: p["id"])
    offered = {"weather": {"get_weather"}, "listing": {"list_directory", "read_file"}}
    for prediction in predictions:
        assert set(prediction) >= {"id", "calls", "text"}
        assert isinstance(prediction["text"], str) and prediction["text"]
        for call in prediction["calls"]:  # the grammar only lets the model name an offered tool
            assert call["name"] in offered[prediction["id"]] and isinstance(call["arguments"], dict)
    scores = score(predictions, CASES)
    assert list(scores) == list(SCORE_KEYS) and scores["n"] == 2 and 0.0 <= scores["overall"] <= 1.0

    # Temperature 0: the same cases give the same predictions; limit keeps the first N.
    again = run_eval(cases_file, tmp_path / "again.jsonl", max_tokens=24, limit=1)
    assert again == predictions[:1]


def test_problems_are_named_before_the_model_loads(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"id": "x", "tools": ["no_such_tool"], "messages": [{"role": "user", "content": "hi"}]}) + "\n"
    )
    with pytest.raises(ValueError, match="unknown tool 'no_such_tool'"):
        run_eval(bad, tmp_path / "p.jsonl")
    with pytest.raises(FileNotFoundError, match="thau data build"):
        run_eval(tmp_path / "missing.jsonl", tmp_path / "p.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"id": "y", "messages": []}) + "\n")
    with pytest.raises(ValueError, match="has no messages"):
        run_eval(empty, tmp_path / "p.jsonl")


def test_adapter_may_be_a_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="thau export"):
        resolve_adapter(tmp_path)
    (tmp_path / "adapter.gguf").write_bytes(b"GGUF")
    assert resolve_adapter(tmp_path) == tmp_path / "adapter.gguf"
    assert resolve_adapter(None) is None


def test_system_message_added_only_when_missing():
    from thau_tui.engine.dialects import get_dialect

    hermes = get_dialect("hermes")
    case = {"id": "a", "messages": [{"role": "user", "content": "hi"}]}
    assert case_messages(case, "SYS", hermes)[0] == {"role": "system", "content": "SYS"}
    own = {"id": "b", "messages": [{"role": "system", "content": "mine"}, {"role": "user", "content": "hi"}]}
    assert case_messages(own, "SYS", hermes) == own["messages"]


def test_score_run_before_training_writes_the_summary(tmp_path):
    from thau_tui.train.data import build_dataset

    build_dataset(tmp_path / "data", n_train=2, n_eval=1, seed=5, count_tokens=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nbase_model: bundled\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    scores = score_run(run_dir, "before", recipe_path=recipe, limit=1, max_tokens=24)
    assert list(scores) == list(SCORE_KEYS) and scores["n"] == 1
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["before"] == scores and "after" not in summary
    assert len(read_jsonl(run_dir / "eval-before.jsonl")) == 1
    with pytest.raises(ValueError, match="'before' or 'after'"):
        score_run(run_dir, "during", recipe_path=recipe)


def test_a_run_from_an_adapter_is_scored_before_with_that_adapter(tmp_path):
    """A run from the shipped adapter was scored 'before' on the bare model (0.167), so it
    'beat the current model' at 0.667, the shipped adapter's own score, and was promoted as the
    default (training review)."""
    from thau_tui.paths import bundled_adapter
    from thau_tui.train.data import build_dataset

    build_dataset(tmp_path / "data", n_train=2, n_eval=1, seed=5, count_tokens=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: r\nbase_model: bundled\ninit_adapter: bundled\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8"
    )
    run_dir = tmp_path / "run"
    score_run(run_dir, "before", recipe_path=recipe, limit=1, max_tokens=24)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["before_adapter"] == str(bundled_adapter().resolve())


def test_the_first_case_after_loading_takes_only_the_free_cores(monkeypatch):
    """An eval generates at once after loading the model: that first generation must already
    leave the cores other processes hold (a trainer beside it stalled it 300 s on 2 cores)."""
    import os
    import time

    from thau_tui.engine import backend as backend_module
    from thau_tui.engine.backend import LlamaBackend, SamplingSettings, StreamStats
    from thau_tui.engine.cpu_load import CpuSampler
    from thau_tui.paths import bundled_model

    cores = max(os.cpu_count() or 1, 2)  # a one-core machine still asks for two threads below
    ticks = os.sysconf("SC_CLK_TCK")

    def busy_machine() -> CpuSampler:
        # Every core but one busy with other processes, whenever it is sampled.
        return CpuSampler(machine=lambda: int((cores - 1) * ticks * time.monotonic()), own=lambda: 0)

    monkeypatch.setattr(backend_module, "CpuSampler", busy_machine)
    backend = LlamaBackend(bundled_model(), n_ctx=512, n_threads=2)  # two wanted: the busy core must cut it to one
    stats = StreamStats()
    for _piece in backend.stream("Hello", SamplingSettings(temperature=0.0, max_tokens=1), stats):
        pass
    assert stats.threads == 1


def test_smoke_scoring_loads_once_and_stops_each_case_early(tmp_path, tiny_data, monkeypatch):
    """Scoring a smoke run costs one model load and eval_examples cases, each cut at
    SCORE_MAX_TOKENS: a regression in any of them makes the smoke run slow again."""
    from thau_tui.engine import backend as backend_module
    from thau_tui.engine import generate as generate_module
    from thau_tui.train.evaluate import SCORE_MAX_TOKENS
    from thau_tui.train.recipe import SHIPPED_RECIPES, load_recipe

    smoke = load_recipe(SHIPPED_RECIPES / "tiny-smoke.yaml")
    recipe = tmp_path / "smoke.yaml"
    recipe.write_text(smoke.model_copy(update={"data_dir": str(tiny_data)}).to_yaml(), encoding="utf-8")
    loads, budgets, tokens = [], [], []
    real_init, real_generate = backend_module.LlamaBackend.__init__, generate_module.generate_reply

    def counting_init(self, *args, **kwargs):
        loads.append(1)
        real_init(self, *args, **kwargs)

    def counting_generate(backend, prompt, dialect, tools, settings, *args, **kwargs):
        budgets.append(settings.max_tokens)
        reply = real_generate(backend, prompt, dialect, tools, settings, *args, **kwargs)
        tokens.append(reply.tokens)
        return reply

    monkeypatch.setattr(backend_module.LlamaBackend, "__init__", counting_init)
    monkeypatch.setattr(generate_module, "generate_reply", counting_generate)
    scores = score_run(tmp_path / "run", "before", recipe_path=recipe)
    assert scores["n"] == smoke.eval_examples == len(tokens) and loads == [1]
    assert budgets == [SCORE_MAX_TOKENS] * smoke.eval_examples
    assert all(0 < n <= 2 * SCORE_MAX_TOKENS for n in tokens)  # prose, then at most one call block


def test_cases_with_the_same_tools_run_one_after_another(tmp_path, monkeypatch):
    """The system message (the tool block) is most of a case's prompt: cases that share it
    run in a row, so llama.cpp reads it once from its cache instead of once a case."""
    from thau_tui.engine import generate as generate_module

    again = {**CASES[1], "id": "reading", "messages": [{"role": "user", "content": "Show me README.md."}]}
    cases = [CASES[1], CASES[0], again]  # two cases with the same tools, split by one with others
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    ran: list[tuple[int, int]] = []  # (prompt tokens read, prompt tokens) per case, as they ran
    real_generate = generate_module.generate_reply

    def recording_generate(backend, prompt, *args, **kwargs):
        reply = real_generate(backend, prompt, *args, **kwargs)
        ran.append((reply.evaluated, reply.prompt_tokens))
        return reply

    monkeypatch.setattr(generate_module, "generate_reply", recording_generate)
    order: list[str] = []
    predictions = run_eval(path, tmp_path / "p.jsonl", max_tokens=4, on_progress=lambda d, t, p: order.append(p["id"]))
    assert [p["id"] for p in predictions] == ["listing", "weather", "reading"]
    assert abs(order.index("listing") - order.index("reading")) == 1
    evaluated, prompt_tokens = ran[max(order.index("listing"), order.index("reading"))]
    assert evaluated < prompt_tokens / 2  # the second of the two read its system message from the cache


def test_the_scoring_child_waits_passively_beside_other_llama_processes(tmp_path, monkeypatch, capsys):
    from thau_tui.train import evaluate

    monkeypatch.setenv("OMP_WAIT_POLICY", "unset")  # so the test leaves the variable as it found it
    monkeypatch.delenv("OMP_WAIT_POLICY")
    seen = {}

    def fake_score_run(run_dir, stage, **kwargs):
        seen["policy"] = os.environ.get("OMP_WAIT_POLICY")  # what llama.cpp's OpenMP will read
        return {"n": 0}

    monkeypatch.setattr(evaluate, "score_run", fake_score_run)
    assert evaluate.main(["--run-dir", str(tmp_path), "--stage", "before"]) == 0
    assert seen["policy"] == "PASSIVE"


def test_predictions_are_not_written_through_a_planted_link(cases_file, tmp_path):
    """From the training review: `thau eval cases.jsonl --output pred.jsonl` in a cloned
    repository holding pred.jsonl -> ~/.bashrc wrote the predictions into ~/.bashrc. The
    link is refused now, named, and what it points at is unchanged."""
    victim = tmp_path / "victim"
    victim.write_text("export PATH=/usr/bin\n")
    (tmp_path / "pred.jsonl").symlink_to(victim)
    with pytest.raises(OSError, match="is a link or not a plain file"):
        run_eval(cases_file, tmp_path / "pred.jsonl", max_tokens=8, limit=1)
    assert victim.read_text() == "export PATH=/usr/bin\n"
