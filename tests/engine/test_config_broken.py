"""config.yaml files broken in ways that must neither stop nor hang thau (review)."""

from __future__ import annotations

import time

from thau_tui.config import load_config, parse_config


def _list_bomb(levels: int, where: str) -> str:
    """~500 bytes whose anchors and aliases stand for 10**levels strings."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "x:\n" + "\n".join("  " + line for line in lines) + f"\ntools:\n  {where}: *a{levels - 1}\n"


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path):
    """Seven levels cost minutes and a MemoryError; at five the one error was 522 kB (the
    full repr of the aliased list)."""
    path = tmp_path / "config.yaml"
    for where in ("policy:\n    run_shell", "shell:\n    hidden_paths"):
        for levels in (5, 7):
            path.write_text(_list_bomb(levels, where))
            started = time.monotonic()
            result = load_config(path)
            assert time.monotonic() - started < 5
            assert not result.ok and sum(map(len, result.errors)) < 1500, result.errors
            assert "anchors and aliases" in result.errors[0] and "10000 values" in result.errors[0]
            assert result.config.tools.policy.get("run_shell") in (None, "ask")
    # Mappings of aliased mappings (each key an alias): refused the same way.
    lines = ["d0: &d0 {" + ",".join(f"k{j}: 1" for j in range(10)) + "}"]
    lines += [f"d{i}: &d{i} {{" + ",".join(f"k{j}: *d{i - 1}" for j in range(10)) + "}" for i in range(1, 6)]
    path.write_text("bomb:\n" + "\n".join("  " + line for line in lines) + "\n")
    last_good = parse_config("generation:\n  temperature: 0.7\n")
    result = load_config(path, last_good)
    assert result.config is last_good and "anchors and aliases" in result.errors[0]
    # A list that holds itself is refused too (it never ends).
    path.write_text("tools:\n  shell:\n    hidden_paths: &me [~/a, *me]\n")
    assert "anchors and aliases" in load_config(path).errors[0]


def test_a_long_bad_value_is_cut_short_in_the_message(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tools:\n  policy:\n    run_shell: [" + ", ".join(["y" * 500] * 40) + "]\n")
    result = load_config(path)
    (error,) = result.errors
    assert error.startswith(f"{path}: tools.policy.run_shell: Input should be 'ask', 'auto' or 'deny' (got ['yyy")
    assert len(error) < 400, len(error)
    assert result.config.tools.policy == {"run_shell": "ask"}


def test_thousands_of_bad_entries_make_one_short_report(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tools:\n  policy:\n" + "".join(f"    t{i}: dney\n" for i in range(3000)))
    result = load_config(path)
    assert len(result.errors) == 21 and result.errors[-1] == f"{path}: and 2980 more problems like these"
    assert result.config.tools.policy["t2999"] == "ask"
