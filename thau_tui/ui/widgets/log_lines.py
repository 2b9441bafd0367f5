"""LogLines: streamed text cut to what a card's capped Log keeps, line by line as it arrives."""

from __future__ import annotations


class LogLines:
    """Cuts each piece of streamed text to the Log's last `lines` lines, each at most `width`
    wide (+1 for "…"). Long lines would otherwise grow the Log's last line without bound (and
    cost their whole length on every write); older lines it would prune."""

    def __init__(self, lines: int, width: int) -> None:
        self.lines = lines
        self.width = width
        self.line_len = 0  # characters in the Log's last, unfinished line
        self._clipped = False  # that line was cut: the rest of it is dropped

    def fit(self, text: str) -> str:
        """`text`, the next piece of the stream, as the Log should be given it."""
        at = len(text)
        for _ in range(self.lines + 1):
            at = text.rfind("\n", 0, at)
            if at < 0:
                break
        if at > 0:
            text = text[at:]  # from a newline: it still ends the Log's unfinished line
        out = []
        for index, segment in enumerate(text.split("\n")):
            if index:
                out.append("\n")
                self.line_len, self._clipped = 0, False
            if self._clipped or not segment:
                continue
            room = self.width - self.line_len
            if len(segment) > room:
                segment = segment[:room] + "…"
                self._clipped = True
            out.append(segment)
            self.line_len += len(segment)
        return "".join(out)
