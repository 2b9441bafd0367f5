"""`thau data build --out` naming a file (data review): a FileExistsError traceback before."""

from __future__ import annotations

from thau_tui.train.cli import main


def test_data_build_refuses_a_file_as_its_out_folder(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("the user's notes\n")
    assert main(["data", "build", "--out", str(taken), "--n-train", "2", "--n-eval", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == f"thau: {taken} is a file, not a folder: --out wants a folder for train.jsonl, eval.jsonl and stats.json"
    )
    assert taken.read_text() == "the user's notes\n"


def test_data_build_says_when_it_cannot_make_its_out_folder(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("the user's notes\n")
    assert main(["data", "build", "--out", str(taken / "data"), "--n-train", "2", "--n-eval", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err  # llama.cpp may say a line of its own first (the tokenizer loads)
    assert err.strip().splitlines()[-1].startswith(f"thau: cannot write the data set to {taken / 'data'}: ")
