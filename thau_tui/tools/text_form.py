"""How a text file is written: its encoding, byte-order mark and line endings, so the file
tools read it and write it back the same way.

read_file took a Latin-1 or UTF-16 file for binary, and write_file wrote UTF-8 and bare
newlines whatever the file held: a CRLF file written back changed every line (git showed
the whole file changed), and an append put UTF-8 bytes after Latin-1 ones, two encodings in
one file (tools review). A file is UTF-8 (with or without its BOM), UTF-16 (with its BOM),
or, when it is not UTF-8 and holds no control characters, Windows-1252 (Latin-1's superset,
what Windows editors write); anything else is binary.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass

from .base import ToolError

MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF",
    b"PK\x03\x04": "zip archive",
    b"\x7fELF": "executable",
    b"GGUF": "GGUF model",
    b"SQLite": "SQLite database",
}
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Bytes no text file holds (tab, newlines, form feed and escape aside): a file with them is binary.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_HIGH_RUNS = re.compile(rb"[\x80-\xff]{2,}")
NAMES = {"utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "cp1252": "Windows-1252 (Latin-1)"}


@dataclass(frozen=True)
class TextForm:
    """A text file's encoding (a Python codec), its byte-order mark, and whether its lines end
    in CRLF (`crlf`: all of them; `mixed`: some in CRLF, others in LF)."""

    codec: str = "utf-8"
    bom: bytes = b""
    crlf: bool = False
    mixed: bool = False

    @property
    def plain(self) -> bool:
        """UTF-8 without a BOM, lines ending in \\n: what the tools write by default."""
        return self.codec == "utf-8" and not self.bom and not self.crlf and not self.mixed

    def note(self) -> str:
        """What read_file tells the model about the form, when it is not the plain one."""
        parts = [] if self.codec == "utf-8" else [f"{NAMES[self.codec]} text"]
        if self.crlf:
            parts.append("Windows line endings (CRLF)")
        if self.mixed:
            parts.append("mixed line endings (some CRLF, some LF)")
        return f"[read as {' with '.join(parts)}; write_file keeps them]" if parts else ""

    def decode(self, data: bytes) -> str:
        """The text of `data` (a head that may end inside a character: replaced)."""
        return data[len(self.bom) :].decode(self.codec, errors="replace")

    def encode(self, content: str, at_start: bool) -> bytes:
        """`content` in this form; `at_start`: the whole file (with its BOM), else an append.
        UnicodeEncodeError when the encoding lacks a character (Windows-1252 has no emoji)."""
        if self.crlf:
            content = content.replace("\r\n", "\n").replace("\n", "\r\n")
        return (self.bom if at_start else b"") + content.encode(self.codec)


def binary_kind(head: bytes, form: TextForm | None = None) -> str | None:
    """What a binary file looks like, or None when it reads as text; `form`: text_form(head)
    when the caller has it already."""
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    if (form or text_form(head)) is None:
        return "binary data (not text in UTF-8, UTF-16 or Windows-1252)"
    return None


def text_form(head: bytes) -> TextForm | None:
    """The form of a file that starts with `head` (its first few KB), or None when it is binary."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec != "utf-8":
                body = head[len(bom) : len(head) - (len(head) - len(bom)) % 2]
                text = body.decode(codec, errors="replace")
                # a space or a line end is in any real text, and each has a zero byte in UTF-16:
                # a Latin-1 file that begins "ÿþ" (FF FE) was taken for UTF-16 (attacker re-review)
                if body and not any(mark in text for mark in (" ", "\n", "\t")):
                    bom = b""
                    break
                if "\0" in text or _CONTROL.search(text.encode("utf-8", errors="replace")):
                    return None
                return TextForm(codec, bom, *_endings("\r\n" in text, "\n" in text.replace("\r\n", "")))
            head = head[len(bom) :]
            break
    else:
        bom = b""
    if _CONTROL.search(head):
        return None
    endings = _endings(b"\r\n" in head, b"\n" in head.replace(b"\r\n", b""))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = exc.reason == "unexpected end of data"  # a character cut where the sample ends
        # Not UTF-8: Windows-1252 only when no character is written the UTF-8 way (one stray byte
        # in a UTF-8 file made it read as mojibake and written back as Latin-1: attacker
        # re-review) and its bytes read as Latin text; else binary, as before
        if not cut and not bom and not _mostly_utf8(head):
            return TextForm("cp1252", b"", *endings) if _looks_latin(head) else None
    return TextForm("utf-8", bom, *endings)


def _endings(some_crlf: bool, some_lf: bool) -> tuple[bool, bool]:
    """(crlf, mixed) of a text holding CRLF line ends or not, and bare LF ones or not."""
    return some_crlf and not some_lf, some_crlf and some_lf


def _high(data: bytes) -> int:
    """How many bytes of `data` are beyond ASCII (counted in C: a write reads up to 4 MB)."""
    return len(data) - len(data.translate(None, _HIGH_BYTES))


def _mostly_utf8(data: bytes) -> bool:
    """Whether most bytes beyond ASCII form UTF-8 characters (a UTF-8 file with a stray byte);
    a few pairs in Shift-JIS or Latin-1 happen to look like one."""
    in_utf8 = sum(len(found) for found in _UTF8_MULTIBYTE.findall(data))
    return in_utf8 * 2 > _high(data)


def _looks_latin(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Windows-1252 text: each one defined there, and
    the letters beyond ASCII mostly alone between ASCII ones. Shift-JIS, GBK and EUC write two
    or more such bytes a character: read as Latin-1 they were mojibake, and writing the file
    back lost them (skeptic re-review)."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: no Windows-1252 text has them
        return False
    high = _high(data)
    if high < 4:
        return True
    paired = sum(len(run) for run in _HIGH_RUNS.findall(data))  # beside another such byte
    return paired * 2 <= high


def new_line_first(form: TextForm, last: bytes, data: bytes) -> bytes:
    """Appended text starts on a line of its own: a newline in the file's form goes first when
    the file's last bytes (`last`, empty for an empty file) are not one (a model writes 'eggs',
    not '\\neggs', when asked to add a line)."""
    newline = form.encode("\n", at_start=False)
    unit = len(form.encode(" ", at_start=False))  # bytes a character takes: 2 in UTF-16
    if not last or not data or data.startswith(newline) or last.endswith(newline[-unit:]):
        return data
    return newline + data


SAMPLE = 4 << 20  # bytes of a file written to that tell its form (the whole file, mostly)


def pread_or_nothing(fd: int, size: int, at: int) -> bytes:
    try:
        return os.pread(fd, size, at)
    except OSError:  # opened write-only
        return b""


def in_its_form(fd: int, size: int, name: str, content: str, data: bytes, append: bool) -> tuple[TextForm, bytes, str]:
    """The bytes to write in the existing file's own form (its encoding, BOM, line endings),
    and a note saying so: a CRLF file written back changed every line, and an append put UTF-8
    after Latin-1 (tools review). A whole file whose encoding lacks a character is written as
    UTF-8, said so; an append to it is refused, since the file would hold two encodings."""
    whole = pread_or_nothing(fd, min(size, SAMPLE), 0)  # the whole file where it fits: Latin-1 past 8 KB counts
    form = text_form(whole) if size else None
    if form is not None and "\ufffd" in content and not append:
        try:
            whole[len(form.bom) :].decode(form.codec)
        except UnicodeDecodeError as exc:  # bytes not text in its form: read_file showed them as �
            if exc.reason != "unexpected end of data" or len(whole) == size:
                raise ToolError(
                    f"'{name}' holds bytes that are not {NAMES[form.codec]} text (read_file showed them as \ufffd); "
                    "writing the text back would lose them. Change it in place with run_shell (sed), or leave it"
                ) from None
    if form is None or form.plain:
        return form or TextForm(), data, ""
    was, kept, unified = form.codec, [f"{NAMES[form.codec]} text"] if form.codec != "utf-8" else [], ""
    kept += ["its CRLF line endings"] if form.crlf else []
    if form.mixed and not append:  # some lines CRLF, some LF: writing all LF changed lines no edit touched
        if len(whole) == size:
            content, exact = keep_line_endings(form.decode(whole), content)
            kept.append(
                "each unchanged line's ending (CRLF or LF)"
                if exact
                else "the line endings before and after the change (too long to match line by line)"
            )
        else:  # past SAMPLE: the old lines are not at hand to match
            form, unified = TextForm(form.codec, form.bom), "; its mixed line endings (CRLF and LF) are now all LF"
    try:
        data = form.encode(content, at_start=not append)
    except UnicodeEncodeError as exc:
        if append:
            raise ToolError(
                f"'{name}' is {NAMES[form.codec]} text, which has no {content[exc.start : exc.end]!r}; appending "
                "would put two encodings in one file. Leave it out, or write the whole file (mode overwrite, as UTF-8)"
            ) from None
        form = TextForm("utf-8", b"", form.crlf, form.mixed)
        data = form.encode(content, at_start=True)
        return form, data, f"; it was {NAMES[was]} text, now UTF-8"
    return form, data, (f"; kept {' and '.join(kept)}" if kept else "") + unified


# How large a changed part difflib matches line by line (old lines times new ones: a quarter
# second at most here; 15,000 lines each way took 11 s). Past it (a whole file rewritten) the
# changed part is paired by position; the unchanged start and end are matched in any case.
ALIGN_PAIRS = 4_000_000


def keep_line_endings(old: str, new: str) -> tuple[str, bool]:
    """`new` with the line endings of `old`, a file whose lines end some in CRLF, some in LF.

    read_file shows every line ending as LF, so writing its text back made every line LF: a
    write changed lines it did not touch (known-left review). Here a line kept as it was keeps
    its own ending, a changed line the ending of the line it replaces, a new one that of the
    line above it; a line the model wrote with CRLF, or the last line without an ending, stays
    as written. False when the changed part was too long to match line by line."""
    was, now = _lines(old), _lines(new)
    a, b = [text for text, _ in was], [text for text, _ in now]
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle = (a[head : len(a) - tail], b[head : len(b) - tail])
    exact = len(middle[0]) * len(middle[1]) <= ALIGN_PAIRS
    whole_middle = [("replace", 0, len(middle[0]), 0, len(middle[1]))]
    blocks = difflib.SequenceMatcher(None, *middle).get_opcodes() if exact else whole_middle
    source: list[int | None] = list(range(head)) + [None] * (len(b) - head)  # the old line each new one follows
    for _op, i1, i2, j1, j2 in blocks:
        for j in range(j1, j2):
            i = i1 + j - j1
            source[head + j] = head + i if i < i2 else None
    for k in range(tail):
        source[len(b) - 1 - k] = len(a) - 1 - k
    crlf = sum(end == "\r\n" for _, end in was)
    above = "\r\n" if crlf > sum(end == "\n" for _, end in was) else "\n"  # the first line's, when new
    out = []
    for (text, end), old_line in zip(now, source):
        if end == "\n":
            end = (was[old_line][1] if old_line is not None else "") or above
        above = end or above
        out.append(text + end)
    return "".join(out), exact


def _lines(text: str) -> list[tuple[str, str]]:
    """`text` as (line, ending) pairs; the ending is "\\r\\n", "\\n", or "" for a last line without one."""
    parts = text.split("\n")
    lines = [(part[:-1], "\r\n") if part.endswith("\r") else (part, "\n") for part in parts[:-1]]
    return lines + [(parts[-1], "")] if parts[-1] else lines
