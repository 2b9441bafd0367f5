"""A footer that leaves out its least useful keys when they do not all fit.

Textual's Footer draws every key in a row and cuts the row at the terminal's edge: at 80
columns the chat's footer ended in "^g I", with Train, Copy and Copy code gone and no sign
of them, while the keys of a focused widget (the chats panel's r and d) come first and push
the chat's keys further out. This footer hides whole keys instead, the least useful first
(`drop_order`, by action name), so what stays is readable; F1 lists every key, and the keys
work whether shown or not (hiding a FooterKey changes nothing about the binding). Keys dimmed
for now (the screen's check_action said None: nothing to act on) go before any of them.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer

# The chat's keys, the first to go first. Not listed (Quit, Stop, Help, Answer, a focused
# widget's own keys, the palette): kept, since the chat cannot be left or stopped without them.
CHAT_DROP_ORDER = (
    "copy_code",
    "copy_answer",
    "gallery",
    "training",  # before Export: with a chat open, saving it matters more (chats review)
    "export",
    "toggle_images",
    "choose_model",
    "toggle_sessions",
    "new_chat",
)


# A focused widget's own keys, when the screen's are all hidden and the row is still too wide:
# a tool card keeps "y Allow once" and "n Deny" longest (its own keys line lists them all).
WIDGET_DROP_ORDER = (
    "edit",
    "approve('always', False)",
    "approve('always')",
    "approve('session', False)",
    "approve('session')",
    "cancel",
    "back",
    "rename",
    "delete",
)
TRAINING_DROP_ORDER = ("open_folder", "choose_recipe", "resume_last", "pause", "cancel", "use_adapter", "start")
GALLERY_DROP_ORDER = ("rerun(False)", "rerun(True)")

# Never hidden: the keys that leave, stop, list the others, reach a waiting card, or open the palette.
ALWAYS_SHOWN = frozenset({"quit", "stop", "help", "answer_card", "command_palette"})


def _action_name(action: str) -> str:
    """'app.export' and 'export' name the same key."""
    return action.rpartition(".")[2]


class FittingFooter(Footer):
    """Footer(compact=...) with whole keys hidden, least useful first, until the row fits."""

    def __init__(self, *args, drop_order: tuple[str, ...] = CHAT_DROP_ORDER, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drop_order = drop_order

    async def recompose(self) -> None:
        await super().recompose()  # new FooterKeys for the bindings now active
        self.fit_keys()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_keys()

    def _keys(self) -> list[Widget]:
        return list(self.query_children("FooterKey"))

    def _key_width(self, key: Widget) -> int:
        """Columns the key takes: its text, padding, border and margins."""
        size = Size(max(self.size.width, 1), 1)
        styles = key.styles
        return key.get_content_width(size, size) + styles.gutter.width + styles.margin.width

    def fit_keys(self) -> None:
        """Show every key, then hide dimmed keys, then keys in drop order, while the row is wider
        than the footer."""
        width = self.size.width
        keys = self._keys()
        for key in keys:
            key.display = True
        if width <= 0 or not keys:
            return
        needed = sum(self._key_width(key) for key in keys)
        order = (*self.drop_order, *WIDGET_DROP_ORDER)
        # Dimmed keys first: a fixed order kept the training screen's greyed-out u and x and hid
        # the p and R its status line told you to press (training review).
        dimmed = [key for key in keys if key.has_class("-disabled") and self._action_of(key) not in ALWAYS_SHOWN]

        def rank(key: Widget) -> int:  # among them too the drop order, the keys it does not list last
            action = self._action_of(key)
            return order.index(action) if action in order else len(order)

        for key in sorted(dimmed, key=rank):
            if needed <= width:
                break
            key.display = False
            needed -= self._key_width(key)
        for action in order:
            if needed <= width:
                break
            for key in keys:
                if key.display and self._action_of(key) == action:
                    key.display = False
                    needed -= self._key_width(key)
        # Still too wide: the longest of the rest go.
        rest = [key for key in keys if key.display and self._action_of(key) not in ALWAYS_SHOWN]
        for key in sorted(rest, key=self._key_width, reverse=True):
            if needed <= width:
                break
            key.display = False
            needed -= self._key_width(key)

    @staticmethod
    def _action_of(key: Widget) -> str:
        return _action_name(getattr(key, "action", ""))

    def hidden_actions(self) -> list[str]:
        """The actions whose keys are hidden now (for tests and the help screen)."""
        return [self._action_of(key) for key in self._keys() if not key.display]
