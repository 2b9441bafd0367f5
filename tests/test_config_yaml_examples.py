"""The examples in the comments of the shipped config.yaml work when copied: the ui.keys one
was refused ("ctrl+c is already interrupt's key"; docs review)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from thau_tui.config import parse_config

ROOT = Path(__file__).resolve().parent.parent


def _example(after: str) -> dict:
    """The `{...}` example in the comment line of config.yaml that holds `after`."""
    line = next(line for line in (ROOT / "config.yaml").read_text().splitlines() if after in line)
    found = re.search(r"\{[^}]*\}", line)
    assert found, line
    return yaml.safe_load(found.group())


def test_the_key_rebinding_example_applies_without_problems():
    from textual.binding import Binding
    from textual.widgets import TextArea

    from thau_tui.ui.keymap_check import binding_ids, checked_keymap

    keys = _example("Rebind keys by binding id")
    assert keys and set(keys) <= binding_ids()
    kept, problems = checked_keymap(keys)
    assert problems == [] and kept == keys
    assert parse_config(f"ui:\n  keys: {keys}\n").ui.keys == keys
    # free in the prompt too (a TextArea), where a priority binding would take the key away
    prompt_keys = {k.strip() for b in TextArea.BINDINGS if isinstance(b, Binding) for k in b.key.split(",")}
    assert not set(keys.values()) & prompt_keys


def test_the_tools_policy_example_reads():
    policy = _example("Example:  policy:")
    assert parse_config(f"tools:\n  policy: {policy}\n").tools.policy == policy
