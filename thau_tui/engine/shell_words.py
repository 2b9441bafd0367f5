"""A shell word as bash reads it, from the command's own text.

bashlex's `word.word` keeps the single quotes of a word that starts with a double-quoted
part: `"b"'a'sh` came back as `b'a'sh` while bash runs `bash`, so `"-"'exec'` passed for an
option no check knew and `"a"'lias'` for a program nobody approved (attacker review). The
word's source span, unquoted by shlex (POSIX rules), is what bash runs; callers treat None
(a span that is not one plain word) as unreadable."""

from __future__ import annotations

import shlex
from typing import Any


def source_word(node: Any, command: str) -> str | None:
    """The text bash makes of a bashlex word node: its span of `command`, unquoted; None when
    that span is not exactly one word to shlex (or the node has no span)."""
    span = getattr(node, "pos", None)
    if not (isinstance(span, tuple) and len(span) == 2):
        return None
    text = command[span[0] : span[1]]
    if "\\\n" in text:
        return None  # bash drops a backslash-newline before it reads words; shlex keeps it (`r\<newline>m`)
    try:
        words = shlex.split(text, comments=False, posix=True)
    except ValueError:  # unbalanced quotes
        return None
    return words[0] if len(words) == 1 else None
