"""A file whose lines end some in CRLF, some in LF keeps the endings of the lines a write does
not touch: read_file shows every ending as LF, and writing that text back made every line LF
(known-left review)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thau_tui.tools.files import read_file, write_file
from thau_tui.tools.text_form import SAMPLE

NOTE = "\n[read as mixed line endings (some CRLF, some LF); write_file keeps them]"


def _shown(ctx, name: str) -> str:
    """What read_file showed of the file, without its note on the form."""
    out = read_file({"path": name}, ctx).output
    assert out.endswith(NOTE), out
    return out[: -len(NOTE)]


def test_an_edit_keeps_the_endings_of_the_lines_it_does_not_touch(ctx, workspace):
    (workspace / "mixed.txt").write_bytes(b"title\r\nkeep lf\nchange me\r\ndrop me\nlast crlf\r\ntail lf\n")
    shown = _shown(ctx, "mixed.txt")
    assert shown == "title\nkeep lf\nchange me\ndrop me\nlast crlf\ntail lf\n"
    edited = shown.replace("change me", "CHANGED").replace("drop me\n", "").replace("last crlf\n", "last crlf\nadded\n")
    said = write_file({"path": "mixed.txt", "content": edited}, ctx).output
    # a changed line keeps the ending of the line it replaces, an added one that of the line above it
    assert (workspace / "mixed.txt").read_bytes() == b"title\r\nkeep lf\nCHANGED\r\nlast crlf\r\nadded\r\ntail lf\n"
    assert "kept each unchanged line's ending (CRLF or LF)" in said, said


def test_what_the_model_wrote_with_crlf_or_without_a_last_ending_stays_so(ctx, workspace):
    (workspace / "m.txt").write_bytes(b"a\r\nb\nc\r\n")
    write_file({"path": "m.txt", "content": "a\nb\r\nc\nd"}, ctx)
    assert (workspace / "m.txt").read_bytes() == b"a\r\nb\r\nc\r\nd"


def test_utf16_with_mixed_endings_is_written_back_as_it_was(ctx, workspace):
    original = "\ufeffone wörld\r\ntwo\nthree\r\n".encode("utf-16-le")
    (workspace / "wide.txt").write_bytes(original)
    out = read_file({"path": "wide.txt"}, ctx).output
    assert out.startswith("one wörld\ntwo\nthree\n") and "mixed line endings" in out, out
    said = write_file({"path": "wide.txt", "content": "one wörld\ntwo\nthree\n"}, ctx).output
    assert (workspace / "wide.txt").read_bytes() == original
    assert "kept UTF-16 text and each unchanged line's ending" in said, said


def test_a_file_too_long_to_match_says_its_endings_were_unified(ctx, workspace):
    """Past SAMPLE the old lines are not read, so the write cannot keep them: it says so."""
    line = b"x" * 60
    body = (line + b"\r\n" + line + b"\n") * (SAMPLE // 120 + 2000)
    (workspace / "big.txt").write_bytes(body)
    said = write_file({"path": "big.txt", "content": "short\nnow\n"}, ctx).output
    assert (workspace / "big.txt").read_bytes() == b"short\nnow\n"
    assert "its mixed line endings (CRLF and LF) are now all LF" in said, said


def _file(lines: list[tuple[str, str]], last_ending: bool) -> str:
    body = "".join(text + end for text, end in lines)
    return body if last_ending else body[: -len(lines[-1][1])]


_FILES = st.tuples(
    st.lists(
        st.tuples(st.sampled_from(["", "x", "y = 1", "}", "\tz", "é"]), st.sampled_from(["\r\n", "\n"])),
        min_size=2,
        max_size=30,
    ),
    st.booleans(),
).filter(lambda made: "\r\n" in _file(*made) and "\n" in _file(*made).replace("\r\n", ""))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=_FILES, cut=st.integers(min_value=0, max_value=29))
def test_writing_back_what_read_file_showed_changes_no_byte_and_an_edit_only_its_line(ctx, workspace, made, cut):
    lines, last_ending = made
    body = _file(lines, last_ending).encode("utf-8")
    (workspace / "p.txt").write_bytes(body)
    shown = _shown(ctx, "p.txt")
    write_file({"path": "p.txt", "content": shown}, ctx)
    assert (workspace / "p.txt").read_bytes() == body
    # one line changed to a text no other line holds: every other line keeps its bytes
    cut %= len(lines)
    shown_lines = shown.split("\n")
    shown_lines[cut] = "EDITED"
    write_file({"path": "p.txt", "content": "\n".join(shown_lines)}, ctx)
    edited = [("EDITED" if n == cut else text, end) for n, (text, end) in enumerate(lines)]
    assert (workspace / "p.txt").read_bytes() == _file(edited, last_ending).encode("utf-8")
