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

import re
from dataclasses import dataclass

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
NAMES = {"utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "cp1252": "Windows-1252 (Latin-1)"}


@dataclass(frozen=True)
class TextForm:
    """A text file's encoding (a Python codec), its byte-order mark, and whether its lines end in CRLF."""

    codec: str = "utf-8"
    bom: bytes = b""
    crlf: bool = False

    @property
    def plain(self) -> bool:
        """UTF-8 without a BOM, lines ending in \\n: what the tools write by default."""
        return self.codec == "utf-8" and not self.bom and not self.crlf

    def note(self) -> str:
        """What read_file tells the model about the form, when it is not the plain one."""
        parts = [] if self.codec == "utf-8" else [f"{NAMES[self.codec]} text"]
        if self.crlf:
            parts.append("Windows line endings (CRLF)")
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


def binary_kind(head: bytes) -> str | None:
    """What a binary file looks like, or None when it reads as text (text_form)."""
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    if text_form(head) is None:
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
                return TextForm(codec, bom, "\r\n" in text and "\n" not in text.replace("\r\n", ""))
            head = head[len(bom) :]
            break
    else:
        bom = b""
    if _CONTROL.search(head):
        return None
    crlf = b"\r\n" in head and b"\n" not in head.replace(b"\r\n", b"")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Windows-1252 only when no character is written the UTF-8 way: one stray byte in a
        # UTF-8 file made it read as mojibake and written back as Latin-1 (attacker re-review)
        if exc.start < len(head) - 4 and not bom and not _UTF8_MULTIBYTE.search(head):
            return TextForm("cp1252", b"", crlf)
    return TextForm("utf-8", bom, crlf)


def new_line_first(form: TextForm, last: bytes, data: bytes) -> bytes:
    """Appended text starts on a line of its own: a newline in the file's form goes first when
    the file's last bytes (`last`, empty for an empty file) are not one (a model writes 'eggs',
    not '\\neggs', when asked to add a line)."""
    newline = form.encode("\n", at_start=False)
    unit = len(form.encode(" ", at_start=False))  # bytes a character takes: 2 in UTF-16
    if not last or not data or data.startswith(newline) or last.endswith(newline[-unit:]):
        return data
    return newline + data
