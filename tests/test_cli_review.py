"""The command line as the CLI review (2026-12-07 night) ran it: each problem said in one line
with a meaningful exit code, never a traceback, and no option or config.yaml error passed over
in silence. thau runs as a user runs it: `thau_tui.cli.main`, or a real process for Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_until_sync

from thau_tui.cli import main
from thau_tui.engine.dialects import HermesDialect
from thau_tui.engine.store import Store
from thau_tui.tools.base import ToolCall

TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _cases(folder: Path, count: int = 1, ask: str = "Time in Oslo?") -> Path:
    cases = folder / "cases.jsonl"
    lines = [
        {"id": f"t{i}", "tools": [TOOL], "messages": [{"role": "user", "content": ask}], "expected_calls": []}
        for i in range(count)
    ]
    cases.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return cases


def _eval(tmp_path: Path, output: Path | str, *before: str, after: tuple[str, ...] = ()) -> list[str]:
    cases = _cases(tmp_path)
    return [*before, "eval", str(cases), "--output", str(output), "--limit", "1", "--threads", "1", *after]


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- config.yaml errors ------------------------------------------------------------------


def test_eval_refuses_a_config_whose_model_section_could_not_be_read(tmp_path, capsys):
    """`lora_path: none` in a model section with a YAML error: eval scored the shipped adapter,
    said "(model.lora_path 'auto' in config.yaml)" and exited 0, the error never named."""
    config = tmp_path / "config.yaml"
    config.write_text("model:\n  lora_path: none\n  n_ctx: [\n", encoding="utf-8")
    output = tmp_path / "p.jsonl"
    assert main(_eval(tmp_path, output, "--config", str(config))) == 2
    err = capsys.readouterr().err
    assert "config: " in err and "not valid YAML" in err, err
    assert "model" in err.splitlines()[-1] and "--model" in err.splitlines()[-1], err
    assert not output.exists()
    # Named on the command line, nothing is taken from the section: it scores what it is told.
    from thau_tui.cli import build_parser
    from thau_tui.train.cli import eval_target

    args = build_parser().parse_args(
        ["--config", str(config), "eval", "c.jsonl", "--output", "p.jsonl", "--model", "m.gguf", "--dialect", "thau"]
    )
    assert eval_target(args)[:3] == (Path("m.gguf"), None, "thau")


def test_eval_goes_on_when_only_another_section_is_broken(tmp_path, capsys):
    from thau_tui.cli import build_parser
    from thau_tui.train.cli import eval_target

    config = tmp_path / "config.yaml"
    config.write_text("model:\n  lora_path: none\ntrain:\n  recipe: [\ngeneration:\n  max_tokens: 5\n")
    args = build_parser().parse_args(["--config", str(config), "eval", "c.jsonl", "--output", "p.jsonl"])
    assert eval_target(args)[1] is None  # the model section was read: lora_path none holds
    assert "config: " in capsys.readouterr().err  # and the train section's error is still said


def test_eval_says_when_lora_path_is_the_default_not_the_files(tmp_path):
    """ "(model.lora_path 'auto' in config.yaml)" was said of a file that never says auto."""
    from thau_tui.cli import build_parser
    from thau_tui.train.cli import eval_target

    config = tmp_path / "config.yaml"
    config.write_text("model:\n  n_threads: 1\n", encoding="utf-8")
    args = build_parser().parse_args(["--config", str(config), "eval", "c.jsonl", "--output", "p.jsonl"])
    note = eval_target(args)[4]
    assert "the default" in note and "in config.yaml" not in note, note
    config.write_text("model:\n  lora_path: auto\n", encoding="utf-8")
    assert "(model.lora_path 'auto' in config.yaml)" in eval_target(args)[4]


def test_train_refuses_a_config_whose_train_section_could_not_be_read(tmp_path, capsys):
    """`train:\\n  recipe: [` (broken YAML): `thau train --no-score` started the default 480-step
    recipe without a word."""
    from thau_tui.cli import build_parser
    from thau_tui.train.cli import _resolve_train_args

    config = tmp_path / "config.yaml"
    config.write_text("train:\n  recipe: [\n", encoding="utf-8")
    args = build_parser().parse_args(["--config", str(config), "train", "--no-score"])
    problem = _resolve_train_args(args)
    assert isinstance(problem, str) and "train" in problem and str(config) in problem, problem
    assert main(["--config", str(config), "train", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "config: " in err and "not valid YAML" in err
    assert err.splitlines()[-1].startswith("thau: ") and "fix" in err.splitlines()[-1], err
    # An error in another section is said, and the training goes on with its own settings.
    config.write_text("model:\n  n_ctx: big\n", encoding="utf-8")
    assert not isinstance(_resolve_train_args(args), str)
    assert "model.n_ctx" in capsys.readouterr().err


# --- one line, not a traceback -------------------------------------------------------


def test_eval_output_that_cannot_be_written_is_refused_before_the_model_loads(tmp_path, capsys):
    """--output a folder, or under a file: a traceback once the model had loaded."""
    folder = tmp_path / "out"
    folder.mkdir()
    a_file = tmp_path / "a-file"
    a_file.write_text("kept\n")
    for output in (folder, a_file / "x.jsonl"):
        assert main(_eval(tmp_path, output)) == 2, output
        line = _one_line(capsys.readouterr().err)
        assert line.startswith("thau: ") and str(output) in line and "--output" in line, line
    # checked before the model: a model that does not exist is never reached
    assert main(_eval(tmp_path, folder, after=("--model", str(tmp_path / "nope.gguf")))) == 2
    assert str(folder) in capsys.readouterr().err
    assert a_file.read_text() == "kept\n"


def test_ctrl_c_during_eval_says_how_many_predictions_the_partial_file_holds(tmp_path):
    """Ctrl-C: a 20-line KeyboardInterrupt traceback, and the partial predictions file left
    without a word."""
    cases = _cases(tmp_path, 40, "Write a long poem about the sea, with many verses.")
    output = tmp_path / "p.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "thau_tui.cli", "eval", str(cases), "--output", str(output), "--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_until_sync(
            lambda: output.is_file() and output.read_text().count("\n") >= 1 or process.poll() is not None,
            timeout=120,
            what="the first prediction",
        )
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    written = output.read_text().count("\n")
    line = _one_line(err)
    assert f"with {written} of 40 predictions" in line and "partial" in line and str(output) in line, line
    assert 1 <= written < 40


def _one_approved_call(db: Path) -> None:
    store = Store(db)
    sid = store.create_session()
    store.add_message(sid, "user", "list the files")
    mid = store.add_message(sid, "assistant", HermesDialect().format_call(ToolCall("list_directory", {"path": "."})))
    store.record_call(sid, "c1", "list_directory", {"path": "."}, "done", message_id=mid, result="a.py")
    store.record_decision(sid, "c1", "once")
    store.close()


def test_from_history_says_an_unwritable_out_and_a_db_that_is_not_one_in_a_line(tmp_path, capsys):
    db = tmp_path / "db.sqlite3"
    _one_approved_call(db)
    a_file = tmp_path / "a-file"
    a_file.write_text("kept\n")
    assert main(["data", "from-history", "--db", str(db), "--out", str(a_file / "h.jsonl")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("thau: ") and str(a_file / "h.jsonl") in line, line
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("these are notes, not a database\n" * 200)
    assert main(["data", "from-history", "--db", str(not_a_db), "--out", str(tmp_path / "h.jsonl")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert str(not_a_db) in line and "not a" in line and "--db" in line, line
    assert not (tmp_path / "h.jsonl").exists() and a_file.read_text() == "kept\n"


# --- thau's own options before a command ---------------------------------------------


def test_model_before_eval_is_the_model_it_scores(tmp_path, capsys):
    """`thau --model /tmp/nope.gguf eval ...` scored the bundled model: eval's own --model
    (default None) took the place of the one given before it."""
    nope = tmp_path / "nope.gguf"
    assert main(_eval(tmp_path, tmp_path / "p.jsonl", "--model", str(nope))) == 2
    assert str(nope) in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # two models: which one was meant?
        main(_eval(tmp_path, tmp_path / "p.jsonl", "--model", str(nope), after=("--model", "other.gguf")))
    assert exited.value.code == 2 and "--model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--base-url", "http://127.0.0.1:9/v1", "eval", "c.jsonl", "--output", "p.jsonl"], ["--base-url"]),
        (["-m", "hello", "--yes", "export", "run"], ["--message", "--yes"]),
        (["--resume", "train"], ["--resume", "thau train --resume"]),
        (["--model", "m.gguf", "data", "build"], ["--model"]),
        (["--yes", "doctor"], ["--yes"]),
    ],
)
def test_chat_options_before_a_command_that_does_not_take_them_are_refused(argv, named, capsys):
    """`thau --base-url URL eval` ran locally, `thau -m hello --yes export X` ignored both."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    command = next(word for word in argv if word in ("eval", "export", "train", "data", "doctor"))
    assert exited.value.code == 2 and f"'thau {command}'" in err, err
    assert all(name in err for name in named) and "thau: error:" in err, err
