"""ui.keys checked before it is applied: each binding id must name one of thau's keys, and
each key must be one Textual can press. `new-chat: banana` took Ctrl+N away (the footer
showed a banana) and `gallry: ctrl+k` did nothing, both without a word (docs review)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import lru_cache

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


@lru_cache(maxsize=1)
def binding_ids() -> frozenset[str]:
    """Every binding id in thau's UI: the app's, each screen's and widget's (their BINDINGS)
    and the tool card's."""
    from textual.binding import Binding

    from .. import ui
    from .widgets.tool_card_text import CARD_BINDINGS

    found = {binding.id for binding in CARD_BINDINGS if binding.id}
    for info in pkgutil.walk_packages(ui.__path__, f"{ui.__name__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            for binding in getattr(value, "BINDINGS", ()) if isinstance(value, type) else ():
                if isinstance(binding, Binding) and binding.id:
                    found.add(binding.id)
    return frozenset(found)


@lru_cache(maxsize=1)
def _key_names() -> frozenset[str]:
    from textual.keys import Keys

    return frozenset(key.value for key in Keys) | {"space", "enter", "tab", "escape", "backspace", "delete"}


def key_problem(keys: str) -> str | None:
    """Why `keys` ("ctrl+n", "f5,ctrl+g") is not a key Textual can press, or None."""
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+") if key.strip() not in ("+", "") else ["", key.strip()]
        if not name or any(m not in MODIFIERS for m in modifiers):
            return f"{key.strip() or '(empty)'} is not a key"
        if len(name) != 1 and name not in _key_names():
            return f"{key.strip()} is not a key (a character, or a name such as ctrl+n, f5, escape, pageup)"
    return None


def _app_keys() -> dict[str, set[str]]:
    """The chat's own keys (the app's bindings) by binding id, as the code binds them."""
    from .app import ThauApp

    found: dict[str, set[str]] = {}
    for binding in ThauApp.BINDINGS:
        if getattr(binding, "id", None):
            found.setdefault(binding.id, set()).update(k.strip() for k in binding.key.split(","))
    return found


def checked_keymap(keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The entries of ui.keys that can be applied, and a line for each that cannot: also one
    that takes a key another of the chat's keys keeps (`toggle-sessions: ctrl+n` left New chat
    with no key at all; skeptic review)."""
    known = binding_ids()
    app_keys = _app_keys()
    kept: dict[str, str] = {}
    problems = []
    for binding_id, key in keys.items():
        wanted = {k.strip() for k in str(key).split(",")}
        taken = sorted(
            other
            for other, bound in app_keys.items()
            if other != binding_id and binding_id in app_keys and (keys.get(other) is None) and bound & wanted
        )
        if taken and binding_id in known and key_problem(str(key)) is None:
            problems.append(
                f"ui.keys.{binding_id}: {key} is already {taken[0]}'s key; move {taken[0]} too, or pick another"
            )
            continue
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f" (did you mean {near[0]}?)" if near else f"; the ids are: {', '.join(sorted(known))}"
            problems.append(f"ui.keys.{binding_id}: no key has this id, so it changes nothing{hint}")
        elif (why := key_problem(str(key))) is not None:
            problems.append(f"ui.keys.{binding_id}: {why}; it keeps its default key")
        else:
            kept[binding_id] = key
    return kept, problems
