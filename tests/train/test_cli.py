"""The training commands: clear errors in-process, from-history and data build, eval by subprocess,
a real headless run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tiny_training import tiny_recipe

from thau_tui.engine.dialects import HermesDialect
from thau_tui.engine.store import Store
from thau_tui.tools.base import ToolCall
from thau_tui.train.cli import main, run_commands


def test_missing_files_and_bad_recipes_fail_with_a_message(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "p.jsonl")]) == 2
    assert "eval cases not found" in capsys.readouterr().err
    assert main(["train", "--recipe", str(tmp_path / "nope.yaml")]) == 2
    assert "recipe not found" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("rank: 0\nsurprise: 1\n", encoding="utf-8")
    assert main(["train", "--recipe", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad recipe" in err and "rank" in err and "surprise" in err
    assert main(["train", "--resume", str(tmp_path / "no-run")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "no adapter/ folder" in capsys.readouterr().err
    broken = tmp_path / "broken-run" / "adapter"  # from the training review: a traceback before
    broken.mkdir(parents=True)
    (broken / "adapter_config.json").write_text("{not json")
    (broken / "adapter_model.safetensors").write_bytes(b"not safetensors")
    (broken.parent / "recipe.yaml").write_text("name: broken\n")
    assert main(["export", str(broken.parent)]) == 2
    assert "could not be exported: JSONDecodeError" in capsys.readouterr().err
    assert (
        main(["data", "from-history", "--db", str(tmp_path / "none.sqlite3"), "--out", str(tmp_path / "h.jsonl")]) == 2
    )
    assert "chat with thau first" in capsys.readouterr().err


def test_run_commands_score_before_and_after_but_not_again_on_resume(tmp_path):
    fresh = run_commands("r.yaml", tmp_path, limit=8)
    assert [c[2] for c in fresh] == ["thau_tui.train.evaluate", "thau_tui.train.trainer", "thau_tui.train.evaluate"]
    assert fresh[0][fresh[0].index("--stage") + 1] == "before" and fresh[2][fresh[2].index("--stage") + 1] == "after"
    resumed = run_commands("r.yaml", tmp_path, resume=True)
    assert [c[2] for c in resumed] == ["thau_tui.train.trainer", "thau_tui.train.evaluate"] and "--resume" in resumed[0]
    unscored = run_commands("r.yaml", tmp_path, score=False)  # the trainer, then the export scoring after did
    assert unscored[0] == resumed[0][:-1] and unscored[1][2:4] == ["thau_tui.train.runs", "export"]


def test_run_commands_score_the_recipes_eval_size_and_build_missing_data_first(tmp_path):
    from thau_tui.train.data import build_dataset

    build_dataset(tmp_path / "data", n_train=2, n_eval=2, seed=1, count_tokens=False)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\ndata_dir: data\neval_examples: 4\n", encoding="utf-8")  # beside the recipe
    commands = run_commands(recipe, tmp_path / "run")
    assert [c[2] for c in commands] == ["thau_tui.train.evaluate", "thau_tui.train.trainer", "thau_tui.train.evaluate"]
    assert [c[c.index("--limit") + 1] for c in commands if "--limit" in c] == ["4", "4"]
    recipe.write_text("name: r\ndata_dir: data\neval_examples: 0\n", encoding="utf-8")
    # 0: no scoring, so an export step of its own
    assert [c[2:4] for c in run_commands(recipe, tmp_path / "run")] == [
        ["thau_tui.train.trainer", "--recipe"],
        ["thau_tui.train.runs", "export"],
    ]
    recipe.write_text("name: r\ndata_dir: elsewhere\n", encoding="utf-8")
    assert run_commands(recipe, tmp_path / "run")[0][2:4] == ["thau_tui.train.runs", "build-data"]


SCRIPTED_RUN = """
import json, pathlib, sys, time, warnings
run, stage = pathlib.Path(sys.argv[1]), sys.argv[2]
def say(**event):
    print(json.dumps(event), flush=True)
if stage == "train":
    warnings.warn("a noisy library")
    say(event="start", run_dir=str(run), total_steps=2, device="cpu", examples=4)
    for step in (1, 2):
        say(event="step", step=step, total_steps=2, epoch=step / 2, loss=1.0 / step, tokens_per_s=50.0, eta_s=2 - step)
    (run / "adapter.gguf").write_bytes(b"GGUF")
    say(event="done", run_dir=str(run), adapter=str(run / "adapter"), summary={})
else:
    for done in (1, 2):
        say(event="eval_progress", stage=stage, done=done, total=2, eta_s=2.0 - done)
    summary = run / "summary.json"
    data = json.loads(summary.read_text()) if summary.exists() else {}
    data[stage] = {"n": 2, "overall": 0.5 if stage == "before" else 0.75}
    summary.write_text(json.dumps(data))
    say(event="scores", stage=stage, scores=data[stage])
"""


def test_headless_train_reads_the_children_with_the_screens_run_model(tmp_path, capsys, monkeypatch):
    """thau train and the screen share one event reader: scripted children stand in for the real ones."""
    import thau_tui.train.cli as cli

    script = tmp_path / "child.py"
    script.write_text(SCRIPTED_RUN, encoding="utf-8")
    seen: dict = {}

    def scripted(recipe, run_dir, **kwargs):
        seen.update(kwargs, run_dir=run_dir)
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        (Path(run_dir) / "recipe.yaml").write_text(Path(recipe).read_text())  # as the trainer does
        stages = ["before", "train", "after"]
        return [[sys.executable, str(script), str(run_dir), stage, "--stage", stage] for stage in stages]

    monkeypatch.setattr(cli, "run_commands", scripted)
    monkeypatch.chdir(tmp_path)  # outside the repository: --recipe by name finds the shipped one
    runs = tmp_path / "runs"
    monkeypatch.setattr(cli, "_config_train_settings", lambda _f=None: ("train/recipes/smollm2-tools.yaml", str(runs)))
    assert main(["train", "--recipe", "tiny-smoke"]) == 0
    out = capsys.readouterr().out
    assert "Trained." in out and "before and after training" in out and "0.750" in out and "+0.250" in out
    assert "warning: a noisy library (UserWarning)" in out and "warnings.warn(" not in out
    assert seen["run_dir"].parent == runs and seen["run_dir"].name.startswith("smoke-")
    assert seen["limit"] is None  # the recipe's eval_examples, decided by run_commands

    # --resume without a folder continues the newest run, whoever started it.
    assert main(["train", "--resume"]) == 0
    assert seen["run_dir"].name.startswith("smoke-") and seen["resume"] is True
    # by the name the screen and this command print: "is not a run folder (they live in RUNS/)"
    # though it was right there (concurrency review)
    newest, seen["run_dir"] = seen["run_dir"], None
    assert main(["train", "--resume", newest.name]) == 0
    assert seen["run_dir"] == newest and seen["resume"] is True


def test_runs_started_anywhere_share_one_naming_rule(tmp_path):
    from thau_tui.train.recipe import SHIPPED_RECIPES, load_recipe
    from thau_tui.train.runs import latest_run_dir, new_run_dir
    from thau_tui.train.trainer import latest_run_dir as trainer_latest
    from thau_tui.train.trainer import new_run_dir as trainer_new

    recipe = load_recipe(SHIPPED_RECIPES / "tiny-smoke.yaml")
    first = new_run_dir(tmp_path, recipe.name)
    first.mkdir()
    second = trainer_new(recipe, tmp_path)
    assert second != first and second.name.startswith(first.name)  # same stamp: a suffix, not a clash
    assert latest_run_dir(tmp_path, recipe.name) == trainer_latest(recipe, tmp_path) == first


def _one_approved_call(db: Path) -> None:
    """A chat store holding one approved list_directory call."""
    store = Store(db)
    sid = store.create_session()
    store.add_message(sid, "user", "list the files")
    mid = store.add_message(sid, "assistant", HermesDialect().format_call(ToolCall("list_directory", {"path": "."})))
    store.record_call(sid, "c1", "list_directory", {"path": "."}, "done", message_id=mid, result="a.py")
    store.record_decision(sid, "c1", "once")
    store.close()


def test_from_history_and_data_build(tmp_path, capsys):
    _one_approved_call(tmp_path / "db.sqlite3")
    out = tmp_path / "history.jsonl"
    assert main(["data", "from-history", "--db", str(tmp_path / "db.sqlite3"), "--out", str(out)]) == 0
    assert "Wrote 1 example to" in capsys.readouterr().out
    assert json.loads(out.read_text())["expected_calls"] == [{"name": "list_directory", "arguments": {"path": "."}}]

    data = tmp_path / "data"
    assert main(["data", "build", "--out", str(data), "--n-train", "6", "--n-eval", "2", "--seed", "1"]) == 0
    assert len((data / "train.jsonl").read_text().splitlines()) == 6
    assert len((data / "eval.jsonl").read_text().splitlines()) == 2
    assert (data / "stats.json").is_file()


def test_eval_by_subprocess_prints_the_score_table(tmp_path):
    tool = {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The time in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"id": "t1", "tools": [tool], "messages": [{"role": "user", "content": "Hi there!"}], "expected_calls": []},
        {
            "id": "t2",
            "tools": [tool],
            "messages": [{"role": "user", "content": "Time in Oslo?"}],
            "expected_calls": [{"name": "get_time", "arguments": {"city": "Oslo"}}],
        },
    ]
    cases.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-m", "thau_tui.train.cli", "eval", str(cases), "--output", str(pred), "--limit", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote 1 predictions" in done.stdout
    # By default it scores what the chat runs: the bundled model with the shipped adapter.
    assert "with adapter thau-smollm2-135m-tools.lora.gguf (model.lora_path 'auto'" in done.stdout
    assert "overall" in done.stdout and "no_call_accuracy" in done.stdout
    predictions = [json.loads(line) for line in pred.read_text().splitlines()]
    assert [p["id"] for p in predictions] == ["t1"]


def test_headless_train_runs_the_real_trainer(tmp_path, capsys, monkeypatch):
    recipe = tiny_recipe(tmp_path)
    import thau_tui.train.cli as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_config_train_settings", lambda _f=None: (str(recipe), str(tmp_path / "train" / "runs")))
    # The whole run: score the eval split, train, export the GGUF adapter, score again.
    assert main(["train", "--recipe", str(recipe), "--score-limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "Trained." in out and "eval loss" in out and "before and after training" in out
    runs = list((tmp_path / "train" / "runs").glob("tiny-*"))
    assert len(runs) == 1
    events = [json.loads(line)["event"] for line in (runs[0] / "metrics.jsonl").read_text().splitlines()]
    assert events.count("step") == 2 and events[-1] == "done"
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["before"]["n"] == summary["after"]["n"] == 1 and summary["steps"] == 2
    assert summary["adapter_gguf"] == str(runs[0] / "adapter.gguf") and (runs[0] / "adapter.gguf").is_file()


def _eval_args(tmp_path, *extra: str):
    from thau_tui.cli import build_parser

    return build_parser().parse_args(
        ["--config", str(tmp_path / "config.yaml"), "eval", "c.jsonl", "--output", "p.jsonl", *extra]
    )


def test_eval_scores_what_the_chat_runs_unless_told_otherwise(tmp_path):
    from thau_tui.paths import bundled_adapter, bundled_model
    from thau_tui.train.cli import eval_target

    (tmp_path / "config.yaml").write_text("model:\n  n_threads: 1\n  dialect: thau\n", encoding="utf-8")
    model, adapter, dialect, threads, note = eval_target(_eval_args(tmp_path))
    assert (model, adapter, dialect, threads) == (bundled_model(), bundled_adapter(), "thau", 1)
    assert "lora_path 'auto'" in note
    assert eval_target(_eval_args(tmp_path, "--adapter", "none"))[1] is None  # the bare model
    assert eval_target(_eval_args(tmp_path, "--threads", "2", "--dialect", "hermes"))[2:4] == ("hermes", 2)
    other = tmp_path / "other.gguf"
    assert eval_target(_eval_args(tmp_path, "--model", str(other)))[:2] == (other, None)
    (tmp_path / "config.yaml").write_text("model:\n  lora_path: none\n", encoding="utf-8")
    assert eval_target(_eval_args(tmp_path))[1] is None


def test_the_smoke_recipe_stays_a_smoke_test():
    """The shipped smoke recipe checks the whole path in about a minute: a few training
    examples, two steps, and scoring children told its small eval size."""
    from thau_tui.train.recipe import SHIPPED_RECIPES, load_recipe

    path = SHIPPED_RECIPES / "tiny-smoke.yaml"
    recipe = load_recipe(path)
    assert recipe.max_steps == 2 and recipe.batch_size <= 2 and recipe.train_examples is not None
    assert recipe.train_examples <= 16 and 0 < recipe.eval_examples <= 4
    commands = [c for c in run_commands(path, "run") if c[2] != "thau_tui.train.runs"]  # data may be missing in CI
    assert [c[c.index("--stage") + 1] for c in commands if "--stage" in c] == ["before", "after"]
    assert [c[c.index("--limit") + 1] for c in commands if "--limit" in c] == [str(recipe.eval_examples)] * 2


def test_data_commands_write_to_thaus_train_data_not_the_current_folder(tmp_path, monkeypatch, capsys):
    """Run in a cloned repository that planted train/data/history.jsonl -> ~/.bashrc, a bare
    `thau data from-history` truncated the link's target. The defaults now name thau's own
    train/data (the checkout's, else its data folder), and an --out that is a link is
    replaced, not written through."""
    from thau_tui import paths

    _one_approved_call(tmp_path / "db.sqlite3")
    victim = tmp_path / "victim" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("precious\n")
    workspace = tmp_path / "clone"
    (workspace / "train" / "data").mkdir(parents=True)
    (workspace / "train" / "data" / "history.jsonl").symlink_to(victim)
    fake_package = tmp_path / "site-packages" / "thau_tui"
    fake_package.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(fake_package / "paths.py"))
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "thau-data")
    monkeypatch.chdir(workspace)

    assert main(["data", "from-history", "--db", str(tmp_path / "db.sqlite3")]) == 0
    assert victim.read_text() == "precious\n"  # before: truncated and rewritten
    written = tmp_path / "thau-data" / "train" / "data" / "history.jsonl"
    assert str(written) in capsys.readouterr().out and len(written.read_text().splitlines()) == 1

    link = workspace / "train" / "data" / "history.jsonl"
    history = ["data", "from-history", "--db", str(tmp_path / "db.sqlite3"), "--out", str(link)]
    assert main(history) == 2  # a file is there (a link): replaced only with --force
    assert main([*history, "--force"]) == 0
    assert victim.read_text() == "precious\n" and not link.is_symlink() and len(link.read_text().splitlines()) == 1


def test_eval_refuses_counts_below_one_and_shows_a_rate_over_no_cases_as_n_a(tmp_path, capsys):
    """`--limit -1` scored nothing and exited 0, `--threads 0` was taken, and no_call_accuracy
    over no no-call case read 0.000, a failure (first-hour and training reviews)."""
    import pytest

    from thau_tui.train.training_run import score_rows

    for flags in (["--limit", "-1"], ["--limit", "0"], ["--threads", "0"], ["--threads", "-1"]):
        with pytest.raises(SystemExit) as exited:
            main(["eval", "c.jsonl", "--output", str(tmp_path / "p.jsonl"), *flags])
        assert exited.value.code == 2 and "is below 1" in capsys.readouterr().err, flags
    rows = {
        key: value
        for key, _b, value, _c in score_rows(
            {"n": 1, "call_cases": 1, "no_call_cases": 0, "no_call_accuracy": 0.0, "overall": 1.0}
        )
    }
    assert rows["no_call_accuracy"] == "n/a" and rows["overall"] == "1.000"


def test_eval_with_a_runs_adapter_folder_names_the_run_to_export(tmp_path):
    """`--adapter RUN/adapter` said 'run `thau export RUN/adapter` first', which then failed:
    export takes the run folder (training review)."""
    import pytest

    from thau_tui.train.evaluate import resolve_adapter

    run = tmp_path / "tiny-1"
    (run / "adapter").mkdir(parents=True)
    (run / "recipe.yaml").write_text("name: tiny\n")
    with pytest.raises(FileNotFoundError, match=f"run `thau export {run}` first"):
        resolve_adapter(run / "adapter")
    (run / "adapter.gguf").write_bytes(b"GGUF")
    assert resolve_adapter(run / "adapter") == run / "adapter.gguf"


def test_train_reads_the_config_named_with_config(tmp_path, capsys):
    """`thau --config runs.yaml train --resume` looked for runs in the usual config's runs
    folder, not the one runs.yaml names (re-review)."""
    runs = tmp_path / "my-runs"
    config = tmp_path / "runs.yaml"
    config.write_text(f"train:\n  runs_dir: {runs}\n")
    from thau_tui.cli import main as thau

    assert thau(["--config", str(config), "train", "--resume"]) == 2
    assert str(runs) in capsys.readouterr().err


def test_from_history_replaces_a_file_only_with_force_and_takes_a_folder(tmp_path, capsys):
    """It replaced an existing file without a word, and a folder as --out (as `data build`
    takes it) ended in an IsADirectoryError traceback (docs review)."""
    _one_approved_call(tmp_path / "db.sqlite3")
    out = tmp_path / "h.jsonl"
    out.write_text('{"x": 1}\n{"x": 2}\n')
    db = ["--db", str(tmp_path / "db.sqlite3")]
    assert main(["data", "from-history", *db, "--out", str(out)]) == 2
    assert f"{out} already exists (2 examples); pass --force" in capsys.readouterr().err
    assert out.read_text() == '{"x": 1}\n{"x": 2}\n'
    assert main(["data", "from-history", *db, "--out", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["expected_calls"][0]["name"] == "list_directory"
    folder = tmp_path / "d"
    folder.mkdir()
    assert main(["data", "from-history", *db, "--out", str(folder)]) == 0
    assert (folder / "history.jsonl").is_file()
