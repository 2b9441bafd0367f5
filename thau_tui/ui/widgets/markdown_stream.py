"""Markdown that grows: what the streamed assistant message needs to draw only what changed.

Rich draws top-level blocks one after the other, so a block that is followed by
another can be drawn once and kept; and it draws each list item on its own, so the
items of a growing list can be kept too. Both rely on drawing the same text at the
same width giving the same lines, which tests check against one draw of the whole.

Code blocks and tables wider than the chat are drawn thau's way (`WIDE_BLOCKS`): a code
line is cut where it reaches the width, never at its spaces, and every table column is read.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.markdown import CodeBlock, ListElement, ListItem, TableElement
from rich.markdown import Markdown as RichMarkdown
from rich.measure import Measurement
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .. import compat

PARSER = MarkdownIt().enable("strikethrough").enable("table")  # the parser rich.markdown builds
# Rich puts a blank line between two top-level blocks unless the first is a rule; a
# container (list, quote, table) brings that blank line with it even when drawn alone.
_CONTAINERS = {"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"}


# A link reference definition ("[docs]: http://...") changes how text elsewhere is
# drawn, so a text that has one is drawn whole, never in parts.
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)


def normalize(text: str) -> str:
    """Line ends as markdown-it reads them (it turns \r\n and a lone \r into \n).
    Prefix-stable: the normalized text of a longer text starts with this one's."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


_parsed: tuple[str, list[Token]] = ("", [])


def parse(text: str) -> list[Token]:
    """PARSER.parse(text) with honest links (`honest_links`), keeping the last result: a
    frame reads the same text twice, for where its blocks start (BlockScan) and to draw it
    (StreamMarkdown). The tokens are only read, never changed."""
    global _parsed
    if _parsed[0] != text:
        _parsed = (text, shown_html(line_breaks(honest_links(PARSER.parse(text)))))
    return _parsed[1]


def shown_html(tokens: list[Token]) -> list[Token]:
    """Raw HTML as the text it is: rich draws nothing for it, so "Use the <br> tag" read "Use
    the  tag" and a <div> block was blank lines (reading review). A block becomes a code
    block, inline HTML plain text."""
    for token in tokens:
        if token.type == "html_block":
            token.type, token.tag = "code_block", "code"
        for child in token.children or []:
            if child.type == "html_inline":
                child.type = "text"
    return tokens


def line_breaks(tokens: list[Token]) -> list[Token]:
    """A line break the model wrote inside a paragraph is drawn as one, as chat apps draw
    them: CommonMark joins the lines with a space, so a poem or an address came out as one
    line (helper's UX review). Code blocks keep their own lines anyway."""
    for token in tokens:
        for child in token.children or []:
            if child.type == "softbreak":
                child.type = "hardbreak"
    return tokens


_LINK_SCHEMES = ("http://", "https://", "mailto:")


def honest_links(tokens: list[Token]) -> list[Token]:
    """A link is a terminal hyperlink only where it shows its own address, and the address
    is a web or mail one. `[https://docs.python.org/3/](vscode://evil/run)` showed one
    address and opened another on a click (second attacker review): a link whose text is
    not its address is drawn as the text, then the address in brackets (a hyperlink only
    if it is a web or mail address, plain text otherwise)."""
    for token in tokens:
        if token.children and any(child.type in ("link_open", "image") for child in token.children):
            token.children = _honest([_image_as_text(child) for child in token.children])
    return tokens


def _image_as_text(token: Token) -> Token:
    """An image as its text and its address, never a hyperlink: Rich drew `![https://docs...](vscode://evil)`
    as a terminal hyperlink to vscode:// under the docs' address (attacker review). No image is
    fetched in a terminal chat anyway."""
    if token.type != "image":
        return token
    # its words as drawn ("a b c"), not as written ("a *b* `c`": diff review)
    alt = "".join(t.content for t in token.children or []) if token.children else token.content
    src = str(token.attrs.get("src", ""))
    return Token("text", "", 0, content=f"{alt} (image: {src})" if alt and alt != src else f"(image: {src})")


def _honest(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    at = 0
    while at < len(children):
        opened = children[at]
        close = next((i for i in range(at + 1, len(children)) if children[i].type == "link_close"), None)
        if opened.type != "link_open" or close is None:
            out.append(opened)
            at += 1
            continue
        inner, href = children[at + 1 : close], str(opened.attrs.get("href", ""))
        text = "".join(t.content for t in inner if t.type in ("text", "code_inline"))
        web = href.lower().startswith(_LINK_SCHEMES)
        # an autolink's text is its address (decoded: Köln where the href says K%C3%B6ln)
        own = opened.markup == "autolink" or text.rstrip("/") in (href.rstrip("/"), href.removeprefix("mailto:"))
        if web and own and opened.markup == "autolink" and text != href:
            # shown as its href, which markdown-it keeps encoded: decoded, xn--80ak6aa92e.com read
            # as a Cyrillic look-alike of apple.com, and %0A or %E2%80%AE moved what follows
            out.extend([opened, Token("text", "", 0, content=href), children[close]])
        elif web and own:
            out.extend(children[at : close + 1])
        elif own:
            out.extend(inner)  # its address, shown; not a hyperlink (vscode://...)
        else:
            address = [Token("text", "", 0, content=href)]
            if web:
                address = [Token("link_open", "a", 1, attrs={"href": href}), *address, Token("link_close", "a", -1)]
            shown = [Token("text", "", 0, content=" ("), *address, Token("text", "", 0, content=")")]
            out.extend([*inner, *(shown if href and text != href else [])])
        at = close + 1
    return out


def line_offsets(text: str) -> list[int]:
    """The character offset at which each line of `text` (split on \n) starts."""
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def top_level_blocks(text: str, tokens: list[Token] | None = None) -> list[tuple[int, str]]:
    """Each top-level block of `text` (normalized): where it starts (a character offset)
    and its token type; a quote with nothing in it is "blockquote_empty"."""
    tokens = parse(text) if tokens is None else tokens
    line_starts = line_offsets(text)
    blocks = []
    for i, token in enumerate(tokens):
        if token.level == 0 and token.nesting in (0, 1) and token.map:
            kind = token.type
            if kind == "blockquote_open" and i + 1 < len(tokens) and tokens[i + 1].type == "blockquote_close":
                kind = "blockquote_empty"
            blocks.append((line_starts[token.map[0]], kind))
    return blocks


def list_items(text: str, tokens: list[Token]) -> tuple[str, int, list[int]] | None:
    """When `text` (normalized) begins with a list: its type, its first number, and the
    character offset at which each of its items starts."""
    if not tokens or tokens[0].type not in ("bullet_list_open", "ordered_list_open"):
        return None
    line_starts = line_offsets(text)
    starts = [line_starts[token.map[0]] for token in tokens if token.type == "list_item_open" and token.level == 1]
    return tokens[0].type, int(tokens[0].attrs.get("start", 1)), starts


class BlockScan:
    """The top-level blocks of a growing text, and its items while it is one list.

    Text added to a list cannot move where its items before the last one start (an item
    runs until the next one begins, and what follows the last item is read the same way
    whether the list begins there or further up). So while the text grows as one list,
    only its last item onward is parsed again: a frame costs the length of the last item,
    not of the whole list (small models often answer in one long list). If that part is
    no longer one list of the same kind, the whole text is parsed again."""

    def __init__(self) -> None:
        self._text = ""
        self._list: tuple[str, int, list[int]] | None = None

    def scan(self, text: str) -> tuple[list[tuple[int, str]], tuple[str, int, list[int]] | None]:
        """(top-level blocks as top_level_blocks gives them, list_items() when it is one list)."""
        known, self._list = self._list, None
        if known is not None and text.startswith(self._text):
            kind, start, starts = known
            at = starts[-1]
            tokens = parse(text[at:])
            tail = list_items(text[at:], tokens)
            if tail is not None and tail[0] == kind and len(top_level_blocks(text[at:], tokens)) == 1:
                self._text, self._list = text, (kind, start, starts[:-1] + [at + offset for offset in tail[2]])
                return [(0, kind)], self._list
        tokens = parse(text)
        blocks = top_level_blocks(text, tokens)
        self._text, self._list = text, list_items(text, tokens) if len(blocks) == 1 else None
        return blocks, self._list


def gap(before: str | None, after: str) -> bool:
    """Whether Rich draws a blank line between a block of type `before` and one of type
    `after` that is drawn on its own (a container with something in it brings its own)."""
    return before is not None and before != "hr" and after not in _CONTAINERS


class _KeptSegments:
    """A list item's contents, drawn once per (source text, width) and then reused."""

    def __init__(self, inner, key: str, cache: dict, used: dict) -> None:
        self.inner, self.key, self.cache, self.used = inner, key, cache, used

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (self.key, options.max_width)
        segments = self.cache.get(key)
        if segments is None:
            segments = list(console.render(self.inner, options))
        self.used[key] = segments
        yield from segments


class _KeptListItem(ListItem):
    @classmethod
    def create(cls, markdown: "StreamMarkdown", token: Token) -> "_KeptListItem":
        item = cls()
        item.source = "\n".join(markdown.source_lines[token.map[0] : token.map[1]]) if token.map else None
        item.markdown = markdown
        return item

    def _kept(self) -> None:
        if self.source is not None and not isinstance(self.elements, _KeptSegments):
            self.elements = _KeptSegments(self.elements, self.source, self.markdown.items, self.markdown.used)

    def render_bullet(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self._kept()
        return super().render_bullet(console, options)

    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        self._kept()
        return super().render_number(console, options, number, last_number)


class _List(ListElement):
    """A list; at the top level it can be told the last number of the whole list, so
    a part of it is drawn with the number width the whole list has."""

    @classmethod
    def create(cls, markdown: "StreamMarkdown", token: Token) -> "_List":
        element = super().create(markdown, token)
        top = token.level == 0
        element.last_number = markdown.last_number if top else None
        if top and markdown.first_number is not None:
            element.list_start = markdown.first_number  # the list's last item, drawn on its own
        return element

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.list_type == "bullet_list_open" or self.last_number is None:
            yield from super().__rich_console__(console, options)
            return
        number = 1 if self.list_start is None else self.list_start
        for index, item in enumerate(self.items):
            yield from item.render_number(console, options, number + index, self.last_number)


CONTINUED = "↪"  # drawn in a code block's left margin, before the rest of a line too long for the chat


class _CodeBlock(CodeBlock):
    """A code block whose lines are never re-flowed (reading review): rich wraps a line wider
    than the chat at its spaces, so `f(a, b)` read as two lines of code, the second at the
    margin. A block that fits is rich's own; one with a longer line is cut at the chat's width
    wherever the line reaches it, each further part starting with CONTINUED in the margin.

    Not a scrolling fence as in Textual's Markdown widget: an answer is one widget of drawn
    lines (AssistantMessage: a widget per block cost most of the streaming speed)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not all(hasattr(self, name) for name in ("text", "lexer_name", "theme")):  # not the rich
            yield from super().__rich_console__(console, options)  # this was written against
            return
        code = str(self.text).rstrip()
        syntax = Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, padding=1)
        room = options.max_width - 2  # Syntax's padding: one column each side
        lines = code.expandtabs(syntax.tab_size).split("\n")
        if room < 2 or all(cell_len(line) <= room for line in lines):
            yield syntax
            return
        highlighted = syntax.highlight("\n".join(lines) + "\n").split("\n")
        mark = Text(CONTINUED if not options.ascii_only else ">", style="dim")
        drawn: list[Text] = []
        for line in highlighted:
            for part, piece in enumerate(line.divide(_cuts(line.plain, room))):
                drawn.append(Text.assemble(mark if part else " ", piece))
        body = Text("\n", no_wrap=True, overflow="crop").join(drawn)
        # the left column is in the lines (the mark's place); the rest is Syntax's padding
        yield Padding(body, pad=(1, 1, 1, 0), style=Syntax.get_theme(self.theme).get_background_style())


def _cuts(line: str, width: int) -> list[int]:
    """Where to cut `line` into parts of at most `width` cells, wherever a part fills up."""
    cuts, used = [], 0
    for at, character in enumerate(line):
        cells = cell_len(character)
        if used + cells > width and used:
            cuts.append(at)
            used = 0
        used += cells
    return cuts


class _Table(TableElement):
    """A table where every column can be read (reading review). Rich squeezes a table wider
    than the chat by narrowing its widest columns alike, ending words in "…" even where
    narrowing others would have fitted them, and past that draws whole columns zero wide:
    columns were lost without a sign. Here a table that fits is rich's; a wider one whose
    columns all fit at their longest word gets each column that word's width and the rest
    shared by how much more each column holds; a wider one still is drawn a row at a time,
    each cell beside its column's heading, under a line that says so."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for table in super().__rich_console__(console, options):
            # rows and cells as rich.markdown keeps them; otherwise the table as rich draws it
            known = isinstance(table, Table) and all(
                isinstance(getattr(cell, "content", None), Text) for row in self._all_rows() for cell in row.cells
            )
            yield self._fitted(table, console, options) if known else table

    def _fitted(self, table: Table, console: Console, options: ConsoleOptions) -> Table | Group:
        width, columns = options.max_width, table.columns
        unbounded = options.update_width(1 << 20)  # the table's whole width, not what fits
        # A cell is one line of text (a table row is one line of Markdown): its longest
        # word and its length are what rich measures it by.
        cells = [[cell.content.plain for cell in row.cells[: len(columns)]] for row in self._all_rows()]

        def drawn_width(widths: list[int]) -> int:
            for column, column_width in zip(columns, widths):
                column.width = column_width
            return Measurement.get(console, unbounded, table).maximum

        longest = [max([1, *(cell_len(row[at]) for row in cells if at < len(row))]) for at in range(len(columns))]
        if drawn_width(longest) <= width:
            for column in columns:
                column.width = None  # as rich draws it
            return table
        words = [
            [cell_len(word) for row in cells if at < len(row) for word in row[at].split()] for at in range(len(columns))
        ]
        shortest = [max([1, *column_words]) for column_words in words]
        spare = width - drawn_width(shortest)
        if spare < 0:
            return self._rows(width)
        wants = [most - least for least, most in zip(shortest, longest)]
        given = [spare * want // sum(wants) for want in wants]  # sum(wants) > 0: it did not fit
        for at in sorted(range(len(wants)), key=lambda i: given[i] - wants[i])[: spare - sum(given)]:
            given[at] += 1  # what the rounding left, one column each
        drawn_width([least + extra for least, extra in zip(shortest, given)])
        for column in columns:
            column.overflow = "fold"  # a word longer than its column is broken, never cut
        return table

    def _all_rows(self) -> list:
        header = getattr(self, "header", None)
        body = getattr(self, "body", None)
        rows = [getattr(header, "row", None)] + list(getattr(body, "rows", None) or [])
        return [row for row in rows if isinstance(getattr(row, "cells", None), list)]

    def _rows(self, width: int) -> Group:
        """The table a row at a time: one grid, each row under a titled rule. (Reached only
        with columns, so the first row is the headings.)"""
        headings, *rows = [[cell.content for cell in row.cells] for row in self._all_rows()]
        grid = Table.grid(padding=(0, 2), expand=True)  # the rules the chat's width
        grid.add_column(style="markdown.table.header", overflow="fold", max_width=max(4, width // 3))
        grid.add_column(overflow="fold", ratio=1)
        for number, row in enumerate(rows or [[]], 1):
            title = f"row {number} of {len(rows)}" if rows else "its headings (no rows yet)"
            grid.add_row(Text(title, style="markdown.table.border"), Rule(style="markdown.table.border"))
            for at, heading in enumerate(headings):
                grid.add_row(heading, row[at] if at < len(row) else "")
        note = f"A table of {len(headings)} columns, too wide for the chat: each row is drawn as a list."
        return Group(Text(note, style="markdown.table.border italic"), grid)


# The elements thau draws its own way; the rest are rich's.
WIDE_BLOCKS = {"fence": _CodeBlock, "code_block": _CodeBlock, "table_open": _Table}


class StreamMarkdown(RichMarkdown):
    """rich.markdown.Markdown with one shared parser, keeping drawn list items in `items`.

    After a draw, `used` holds the items that draw needed: pass it as `items` next time,
    so the cache holds only what the text still has."""

    elements = {
        **RichMarkdown.elements,
        **WIDE_BLOCKS,
        "list_item_open": _KeptListItem,
        "bullet_list_open": _List,
        "ordered_list_open": _List,
    }

    def __init__(
        self,
        markup: str,
        items: dict | None = None,
        last_number: int | None = None,
        first_number: int | None = None,
    ) -> None:
        self.last_number = last_number
        self.first_number = first_number
        markup = normalize(markup)  # item sources are cut from it by line
        compat.init_markdown(self, markup, parse(markup))  # parsed once, by the shared parser
        self.source_lines = markup.split("\n")
        self.items = {} if items is None else items
        self.used: dict = {}
        if not compat.LIST_ELEMENTS:  # rich's own lists: nothing kept (chat.py draws lists whole)
            self.elements = {**RichMarkdown.elements, **WIDE_BLOCKS}
