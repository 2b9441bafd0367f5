"""The private parts of Textual and Rich that thau relies on, each behind one check.

Every use of a Textual or Rich internal in the UI goes through this module. Each one is
checked (the attribute is there, the signature or the fields are the ones thau was
written against) and has a fallback that works, more slowly or a little less well, so an
upgrade that removes one never breaks the screen. tests/ui/test_compat.py fails naming
the internal and the installed version when a check does not hold: that test, not a
broken screen, is how an upgrade tells us.

The flags below are read at call time (`compat.ONE_LAYOUT`, not a copy), so a test can
turn one off and drive the fallback.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.markdown import ListElement, ListItem
from rich.markdown import Markdown as RichMarkdown
from textual.app import App
from textual.binding import BindingsMap
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Static

try:
    from textual._compositor import Compositor as TextualCompositor
except ImportError:  # moved or renamed: the screen keeps whatever compositor Textual gives it
    TextualCompositor = None  # type: ignore[assignment,misc]


def _parameters(function: Any) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


@dataclass(frozen=True)
class Internal:
    """One private part of a dependency: what thau uses, how it is checked, the fallback."""

    package: str  # the distribution, for its installed version
    name: str  # what thau uses, as the test failure names it
    fallback: str  # what thau does without it
    check: Callable[[], bool]

    @property
    def version(self) -> str:
        return importlib.metadata.version(self.package)


# --- Widget._size_updated: one layout where Textual would do two --------------------


def _size_updated_as_known() -> bool:
    expected = ["self", "size", "virtual_size", "container_size", "layout"]
    return all(_parameters(getattr(cls, "_size_updated", None)) == expected for cls in (Widget, Static, VerticalScroll))


ONE_LAYOUT = _size_updated_as_known()


class OneLayout:
    """For a widget whose virtual size need not trigger a second layout pass.

    Textual lays the whole screen out a second time when a widget's virtual size changes
    during a layout (in case it scrolls). A chat message never scrolls, and the chat's
    layout has already scrolled the anchored view, so they store the new virtual size
    without that pass: a new message or a new width costs one layout, not two. Without
    the checked signature this passes everything through to Textual (two layouts)."""

    def _size_updated(self, *args: Any, **kwargs: Any) -> bool:
        if ONE_LAYOUT:  # (size, virtual_size, container_size, layout=True)
            args, kwargs = args[:3], {**kwargs, "layout": False}
        return super()._size_updated(*args, **kwargs)  # type: ignore[misc]


# --- the compositor: a screen that draws only the rows an update changes ---------------


def _compositor_as_known() -> bool:
    if TextualCompositor is None:
        return False
    return _parameters(getattr(TextualCompositor, "_get_renders", None)) == ["self", "crop"]


ROW_COMPOSITOR = _compositor_as_known()


def _screen_compositor_as_known() -> bool:
    from textual.screen import Screen

    return _compositor_as_known() and isinstance(getattr(Screen(), "_compositor", None), TextualCompositor)


# What ui/rows.py's RowCompositor subclasses; `object` when Textual has no such class
# (it is then never installed).
CompositorBase: type = TextualCompositor if TextualCompositor is not None else object


def install_compositor(screen: Any, compositor: Any) -> bool:
    """Give `screen` this compositor in place of Textual's (Screen._compositor); False,
    and Textual's stays, where this Textual has no such attribute or method."""
    if not ROW_COMPOSITOR or not isinstance(getattr(screen, "_compositor", None), TextualCompositor):
        return False
    screen._compositor = compositor
    return True


# --- rich.markdown.Markdown.__init__, without its parser --------------------------------

# What Markdown.__init__ sets besides markup and parsed, at its defaults.
MARKDOWN_DEFAULTS: dict[str, Any] = {
    "code_theme": "monokai",
    "justify": None,
    "style": "none",
    "hyperlinks": True,
    "inline_code_lexer": None,
    "inline_code_theme": "monokai",
}


def _markdown_init_as_known() -> bool:
    try:
        fields = dict(vars(RichMarkdown("")))
    except TypeError:  # a new required argument
        return False
    return fields.keys() == {"markup", "parsed", *MARKDOWN_DEFAULTS} and all(
        fields[name] == value for name, value in MARKDOWN_DEFAULTS.items()
    )


MARKDOWN_INIT = _markdown_init_as_known()


def init_markdown(markdown: RichMarkdown, markup: str, parsed: list) -> None:
    """What rich's Markdown.__init__ does, with tokens already parsed (it builds a new
    parser and parses again on every call: a frame's text would be parsed twice). Where
    Markdown.__init__ sets other fields than the known ones, it is called, and `parsed`
    replaces its tokens."""
    if MARKDOWN_INIT:
        markdown.markup, markdown.parsed = markup, parsed
        markdown.__dict__.update(MARKDOWN_DEFAULTS)
    else:
        RichMarkdown.__init__(markdown, markup)
        markdown.parsed = parsed


# --- rich.markdown's list elements, subclassed to keep drawn items ------------------------


def _list_elements_as_known() -> bool:
    try:
        element, item = ListElement("ordered_list_open", 3), ListItem()
    except TypeError:
        return False
    return (
        {"items", "list_type", "list_start"} <= vars(element).keys()
        and "elements" in vars(item)
        and _parameters(ListElement.create) == ["markdown", "token"]
        and _parameters(ListItem.render_bullet) == ["self", "console", "options"]
        and _parameters(ListItem.render_number) == ["self", "console", "options", "number", "last_number"]
        and {"list_item_open", "bullet_list_open", "ordered_list_open"} <= RichMarkdown.elements.keys()
    )


LIST_ELEMENTS = _list_elements_as_known()


# --- bindings and the keymap --------------------------------------------------------------


def class_bindings(cls: type[DOMNode]) -> BindingsMap:
    """The bindings a class declares with those it inherits (DOMNode._merge_bindings);
    without it, each class's BINDINGS from the base up."""
    merge = getattr(cls, "_merge_bindings", None)
    if BINDINGS and callable(merge):
        merged = merge()
        if isinstance(merged, BindingsMap):
            return merged
    keys: dict[str, list] = {}
    for base in reversed(cls.__mro__):  # a subclass's binding for a key replaces its bases'
        if declared := base.__dict__.get("BINDINGS"):
            keys.update(BindingsMap(declared).key_to_bindings)
    return BindingsMap.from_keys(keys)


def node_bindings(node: DOMNode) -> BindingsMap:
    """A node's own bindings as they are now (DOMNode._bindings); without it, its class's."""
    bound = getattr(node, "_bindings", None) if BINDINGS else None
    return bound if isinstance(bound, BindingsMap) else class_bindings(type(node))


def drop_binding(node: DOMNode, key: str) -> bool:
    """Take `key` out of this node's bindings; False where they cannot be reached (the
    key then stays bound, and listed, as its class declares it)."""
    bound = getattr(node, "_bindings", None) if BINDINGS else None
    if not isinstance(bound, BindingsMap):
        return False
    bound.key_to_bindings.pop(key, None)
    return True


def _bindings_as_known() -> bool:
    return isinstance(getattr(Widget(), "_bindings", None), BindingsMap) and isinstance(
        getattr(Widget, "_merge_bindings", lambda: None)(), BindingsMap
    )


BINDINGS = _bindings_as_known()


def keymap(app: App) -> Mapping[str, str]:
    """The keymap the app applies (App.set_keymap keeps it in App._keymap); without it,
    none (help then lists the keys as declared)."""
    found = getattr(app, "_keymap", None)
    return found if isinstance(found, Mapping) else {}


def _keymap_as_known() -> bool:
    app = App()
    app.set_keymap({"quit": "ctrl+x"})
    return keymap(app) == {"quit": "ctrl+x"}


def _event_clock() -> Callable[[], float] | None:
    """The clock Textual stamps each message with (Message.time): textual._time.get_time."""
    try:
        from textual import _time
    except ImportError:
        return None
    clock = getattr(_time, "get_time", None)
    return clock if callable(clock) else None


def _event_clock_as_known() -> bool:
    from textual import events

    clock = _event_clock()
    if clock is None:
        return False
    before = clock()
    stamp = getattr(events.Key("y", "y"), "time", None)
    return isinstance(stamp, float) and before <= stamp <= clock()


# When a key was typed, on the same clock (None: thau judges a key by when it is handled).
EVENT_CLOCK = _event_clock() if _event_clock_as_known() else None


def withdraw_notifications(app: App, title: str) -> int:
    """Take back the notifications shown with this title (App._notifications, App._unnotify):
    a "config.yaml not applied" error stayed up after the file was fixed and reloaded (UX
    review). How many went; 0 where Textual's internals differ (they then time out)."""
    shown, unnotify = getattr(app, "_notifications", None), getattr(app, "_unnotify", None)
    if shown is None or not callable(unnotify) or not _notifications_as_known():
        return 0
    stale = [note for note in list(shown) if getattr(note, "title", None) == title]
    for note in stale:
        unnotify(note, refresh=False)
    if stale:
        app._refresh_notifications()
    return len(stale)


def _notifications_as_known() -> bool:
    shown = getattr(App, "_unnotify", None)
    return (
        callable(shown)
        and _parameters(shown)[:3] == ["self", "notification", "refresh"]
        and callable(getattr(App, "_refresh_notifications", None))
        and hasattr(App(), "_notifications")
    )


INTERNALS: list[Internal] = [
    Internal(
        "textual",
        "Widget._size_updated(size, virtual_size, container_size, layout)",
        "a second layout pass per new message and per resize",
        _size_updated_as_known,
    ),
    Internal(
        "textual",
        "textual._compositor.Compositor._get_renders(crop) and Screen._compositor",
        "Textual's compositor: every frame draws whole widgets, not only the changed rows",
        _screen_compositor_as_known,
    ),
    Internal(
        "rich",
        "rich.markdown.Markdown.__init__ fields " + ", ".join(["markup", "parsed", *MARKDOWN_DEFAULTS]),
        "Markdown.__init__ itself: each frame's text is parsed twice",
        _markdown_init_as_known,
    ),
    Internal(
        "rich",
        "rich.markdown ListElement(items, list_type, list_start, create) and "
        "ListItem(elements, render_bullet, render_number)",
        "a growing list is drawn whole each frame",
        _list_elements_as_known,
    ),
    Internal(
        "textual",
        "DOMNode._bindings and DOMNode._merge_bindings()",
        "bindings read from each class's BINDINGS; the prompt's Ctrl+E stays in the footer",
        _bindings_as_known,
    ),
    Internal(
        "textual",
        "App._keymap (set by App.set_keymap)",
        "help and the chats list show the keys as declared, not as remapped",
        _keymap_as_known,
    ),
    Internal(
        "textual",
        "textual._time.get_time, the clock of Message.time",
        "a card judges a key by when it is handled, not when it was typed (a stalled loop "
        "could let a key typed before the card answer it)",
        _event_clock_as_known,
    ),
    Internal(
        "textual",
        "App._notifications and App._unnotify(notification, refresh)",
        'a "config.yaml not applied" notice stays up its 20 s after the file is fixed',
        _notifications_as_known,
    ),
]
