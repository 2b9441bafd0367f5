"""Chat search folds case as Python does, also for an ASCII query (known-left review)."""

from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thau_tui.engine.chat_search import FOLDS_TO_ASCII, fold
from thau_tui.engine.store import Store


def test_an_ascii_search_finds_a_chat_whose_text_folds_into_it(tmp_path):
    """ "STRASSE" never met "Straße": LIKE folds A-Z only, and "ß" folds to "ss"."""
    store = Store(tmp_path / "db.sqlite3")
    street = store.create_session("directions")
    store.add_message(street, "user", "Wo ist die Hauptstraße?")
    big = store.create_session("GROẞE Pläne")  # capital sharp s, in a title
    store.add_message(big, "user", "x")
    ligature = store.create_session("notes")
    store.add_message(ligature, "assistant", "the ﬁle is saved")  # U+FB01, as PDFs paste it
    plain = store.create_session("shopping")
    store.add_message(plain, "user", "STRASSENBAHN tickets")
    for typed, found in (
        ("STRASSE", {street, plain}),
        ("strasse", {street, plain}),
        ("Straße", {street, plain}),
        ("grosse", {big}),
        ("FILE", {ligature}),
        ("tickets", {plain}),
    ):
        assert {s.id for s in store.list_sessions(search=typed)} == found, typed
    assert store.list_sessions(search="strase") == []


def test_an_ascii_search_over_ascii_chats_stays_in_sqlite(tmp_path):
    """The fast path is kept: Python folds only a text that holds a character folding into ASCII."""
    store = Store(tmp_path / "db.sqlite3")
    for n in range(5):
        store.add_message(store.create_session(f"chat {n}"), "user", f"plain words {n}")
    odd = store.create_session("elsewhere")
    store.add_message(odd, "user", "Fußgänger")
    folded: list[str | None] = []

    def counting(text: str | None) -> str | None:
        folded.append(text)
        return fold(text)

    store._db.create_function("thau_fold", 1, counting, deterministic=True)
    assert [s.id for s in store.list_sessions(search="FUSS")] == [odd]
    assert folded == ["Fußgänger"]  # the five ASCII chats and every title never reached Python
    folded.clear()
    assert len(store.list_sessions(search="Plain")) == 5
    assert folded == ["Fußgänger"]


def test_the_list_of_characters_folding_into_ascii_is_complete():
    """A newer Unicode in a newer Python may add one; the fast path would then miss it."""
    found = {c for c in map(chr, range(0x80, sys.maxunicode + 1)) if any(ord(x) < 0x80 for x in c.casefold())}
    assert found == set(FOLDS_TO_ASCII)


_PIECES = ["a", "B", "s", "S", "ss", "t", "K", "k", "fi", "%", "_", "\\", " ", "é", "É", *FOLDS_TO_ASCII]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join), min_size=1, max_size=4),
    typed=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3).map("".join),
)
def test_search_answers_as_python_casefold_does(tmp_path_factory, texts, typed):
    """Whatever path the query takes, a chat is found exactly when its folded text holds the folded query."""
    store = Store(tmp_path_factory.mktemp("fold") / "db.sqlite3")
    ids = {}
    for text in texts:
        sid = store.create_session("t")
        store.add_message(sid, "user", text)
        ids[sid] = text
    wanted = typed.casefold()
    expected = {sid for sid, text in ids.items() if wanted in text.casefold() or wanted in "t"}
    assert {s.id for s in store.list_sessions(search=typed)} == expected
