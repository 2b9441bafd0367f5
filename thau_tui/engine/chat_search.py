"""Finding a saved chat by what was typed: the WHERE clause of `Store.list_sessions`.

A chat matches when its title, or one of its user or model messages, holds the typed text
casefolded as Python folds it ("STRASSE" finds "Straße", "résumé" finds "RÉSUMÉ"), taken
literally (% and _ are no wildcards). SQLite's LIKE folds A-Z only, so folding runs in Python
(`thau_fold`) wherever LIKE alone could give another answer.
"""

from __future__ import annotations

import re
import sqlite3

__all__ = ["FOLDS_TO_ASCII", "fold", "register", "search_clause"]

# The characters outside ASCII whose casefold holds an ASCII letter ("ß" -> "ss", the Kelvin sign
# -> "k", "ﬁ" -> "fi"): an ASCII search that LIKE ran alone never met "Straße" for "STRASSE"
# (known-left review). tests/engine/test_search_fold.py checks this list against str.casefold.
FOLDS_TO_ASCII = (
    "\u00df\u0130\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e\u212a\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
)
_HOLDS_ONE = f"*[{FOLDS_TO_ASCII}]*"  # GLOB, which reads a class character by character in UTF-8


def register(db: sqlite3.Connection) -> None:
    """Give `db` the SQL function thau_fold that the clause calls."""
    db.create_function("thau_fold", 1, fold, deterministic=True)


def fold(text: str | None) -> str | None:
    """SQL thau_fold(x): a text casefolded ("Überprüfung" -> "überprüfung"); NULL stays NULL."""
    return text.casefold() if isinstance(text, str) else None


def search_clause(typed: str) -> tuple[str, tuple[str, ...]]:
    """The WHERE condition (on sessions `s`) that finds `typed`, and its arguments in order."""
    wanted = typed.replace("\0", "").casefold()
    like = "%" + re.sub(r"([\\%_])", r"\\\1", wanted) + "%"
    if wanted.isascii():
        # LIKE's A-Z folding is the casefold of an ASCII text, and folding keeps every character's
        # own piece, so only a text holding one of FOLDS_TO_ASCII can match otherwise: that one is
        # folded in Python, the rest stays SQLite's own LIKE (no Python call per row).
        def holds(column: str) -> str:
            return f"({column} LIKE ? ESCAPE '\\' OR ({column} GLOB ? AND thau_fold({column}) LIKE ? ESCAPE '\\'))"

        each: tuple[str, ...] = (like, _HOLDS_ONE, like)
    else:

        def holds(column: str) -> str:
            return f"thau_fold({column}) LIKE ? ESCAPE '\\'"

        each = (like,)
    clause = (
        f"{holds('s.title')} OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id=s.id"
        f" AND m.role IN ('user','assistant') AND {holds('m.content')})"
    )
    return clause, each + each
