"""A file's encoding and line endings, kept (tools review): read_file took Latin-1 and UTF-16
files for binary; write_file wrote a CRLF file back with bare newlines (every line changed in
git) and appended UTF-8 after Latin-1 (two encodings in one file)."""

from __future__ import annotations

import pytest

from thau_tui.tools.base import ToolError
from thau_tui.tools.files import read_file, write_file


def test_latin1_is_read_and_written_back_in_latin1(ctx, workspace):
    (workspace / "latin.txt").write_bytes("café crème\n".encode("cp1252"))
    out = read_file({"path": "latin.txt"}, ctx).output
    assert out.startswith("café crème\n") and "[read as Windows-1252 (Latin-1) text" in out, out
    said = write_file({"path": "latin.txt", "content": "naïve again", "mode": "append"}, ctx).output
    assert (workspace / "latin.txt").read_bytes() == "café crème\nnaïve again".encode("cp1252")
    assert "kept Windows-1252 (Latin-1) text" in said
    with pytest.raises(ToolError, match="has no '🙂'; appending would put two encodings"):
        write_file({"path": "latin.txt", "content": "smile 🙂", "mode": "append"}, ctx)
    assert (workspace / "latin.txt").read_bytes() == "café crème\nnaïve again".encode("cp1252")  # untouched
    said = write_file({"path": "latin.txt", "content": "all new 🙂\n"}, ctx).output
    assert (workspace / "latin.txt").read_text(encoding="utf-8") == "all new 🙂\n" and "now UTF-8" in said


def test_crlf_line_endings_survive_an_overwrite_and_an_append(ctx, workspace):
    (workspace / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    out = read_file({"path": "win.txt"}, ctx).output
    assert out.startswith("one\ntwo\n") and "Windows line endings (CRLF)" in out
    said = write_file({"path": "win.txt", "content": "one\nTWO\n"}, ctx).output
    assert (workspace / "win.txt").read_bytes() == b"one\r\nTWO\r\n" and "kept its CRLF line endings" in said
    write_file({"path": "win.txt", "content": "three", "mode": "append"}, ctx)
    assert (workspace / "win.txt").read_bytes() == b"one\r\nTWO\r\nthree"
    write_file({"path": "win.txt", "content": "four", "mode": "append"}, ctx)
    assert (workspace / "win.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\nfour"


def test_utf16_with_its_bom_is_read_and_appended_to_in_utf16(ctx, workspace):
    (workspace / "wide.txt").write_bytes("\ufeffhello wörld\n".encode("utf-16-le"))
    out = read_file({"path": "wide.txt"}, ctx).output
    assert out.startswith("hello wörld\n") and "[read as UTF-16 text" in out, out
    write_file({"path": "wide.txt", "content": "more", "mode": "append"}, ctx)
    assert (workspace / "wide.txt").read_bytes().decode("utf-16") == "hello wörld\nmore"


def test_plain_utf8_and_binary_files_are_as_before(ctx, workspace):
    (workspace / "plain.txt").write_text("plain\n", encoding="utf-8")
    assert read_file({"path": "plain.txt"}, ctx).output == "plain\n"
    said = write_file({"path": "plain.txt", "content": "new\n"}, ctx).output
    assert "kept" not in said and (workspace / "plain.txt").read_bytes() == b"new\n"
    (workspace / "blob.bin").write_bytes(bytes(range(256)) * 4)
    assert "is a binary file" in read_file({"path": "blob.bin"}, ctx).output


def test_search_code_names_the_files_too_big_to_search_and_reads_latin1(ctx, workspace):
    """A 5 MB file read_file sends the model to search_code for was skipped in silence ("no
    matches"), and Latin-1 text was never searched (tools review)."""
    from thau_tui.tools.file_search import search_code

    (workspace / "big.txt").write_text("line 09999 of a log\n" * 150_000, encoding="utf-8")
    (workspace / "latin.txt").write_bytes("le café est chaud\n".encode("cp1252"))
    out = search_code({"pattern": "line 09999"}, ctx).output
    assert "not searched: big.txt (over 2 MB: run_shell with grep -n searches them)" in out, out
    out = search_code({"pattern": "café"}, ctx).output
    assert "latin.txt:1: le café est chaud" in out, out


def test_a_stray_byte_keeps_a_utf8_file_utf8_and_latin1_starting_with_y_thorn_is_latin1(ctx, workspace):
    """One stray \\xa0 in a UTF-8 file made it read as mojibake and written back as Latin-1;
    a Latin-1 file beginning "ÿþ" (FF FE) was taken for UTF-16 (attacker re-review)."""
    (workspace / "readme.md").write_bytes("# Café\n\nNaïve résumé.\n".encode() + b"stray \xa0 byte\n")
    out = read_file({"path": "readme.md"}, ctx).output
    assert out.startswith("# Café\n\nNaïve résumé.\n") and "Windows-1252" not in out, out
    said = write_file({"path": "readme.md", "content": "# Café\n"}, ctx).output
    assert (workspace / "readme.md").read_bytes() == "# Café\n".encode() and "kept" not in said
    (workspace / "odd.txt").write_bytes("ÿþhello world\n".encode("cp1252"))
    out = read_file({"path": "odd.txt"}, ctx).output
    assert out.startswith("ÿþhello world") and "Windows-1252" in out, out


def test_other_8bit_encodings_stay_binary_and_short_latin1_files_are_latin1(ctx, workspace):
    """Shift-JIS was read as Latin-1 mojibake and an overwrite turned it into U+FFFD for good;
    'Hola José' (short, Latin-1) was read as UTF-8 and an append mixed two encodings; a
    Latin-1 line past the first 8 KB was missed; a BOM-only file got a blank first line
    (skeptic re-review)."""
    (workspace / "sjis.txt").write_bytes("こんにちは、世界。\n".encode("shift_jis"))
    assert "is a binary file" in read_file({"path": "sjis.txt"}, ctx).output
    (workspace / "jose.txt").write_bytes("Hola José\n".encode("cp1252"))
    assert read_file({"path": "jose.txt"}, ctx).output.startswith("Hola José\n")
    write_file({"path": "jose.txt", "content": "Adiós", "mode": "append"}, ctx)
    assert (workspace / "jose.txt").read_bytes() == "Hola José\nAdiós".encode("cp1252")
    long = b"plain ascii line\n" * 600 + "Ärger café\n".encode("cp1252")
    (workspace / "long.txt").write_bytes(long)
    write_file({"path": "long.txt", "content": "more é", "mode": "append"}, ctx)
    assert (workspace / "long.txt").read_bytes() == long + "more é".encode("cp1252")
    (workspace / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    write_file({"path": "bom.txt", "content": "x", "mode": "append"}, ctx)
    assert (workspace / "bom.txt").read_bytes() == b"\xef\xbb\xbfx"


def test_a_lossy_read_is_not_written_back_over_the_bytes_it_lost(ctx, workspace):
    (workspace / "odd.txt").write_bytes("café ".encode() + b"\xa0" + " naïve\n".encode())
    shown = read_file({"path": "odd.txt"}, ctx).output
    assert "\ufffd" in shown
    with pytest.raises(ToolError, match="holds bytes that are not UTF-8 text"):
        write_file({"path": "odd.txt", "content": shown.split("\n")[0] + " edited\n"}, ctx)
    assert (workspace / "odd.txt").read_bytes() == "café ".encode() + b"\xa0" + " naïve\n".encode()


def test_search_code_counts_the_files_of_the_matches_it_shows(ctx, workspace):
    from thau_tui.tools.file_search import search_code

    for n in range(105):
        (workspace / f"f{n:03}.txt").write_text("needle\n")
    out = search_code({"pattern": "needle"}, ctx).output
    assert out.startswith("100 match(es) in 100 file(s)"), out.splitlines()[0]
