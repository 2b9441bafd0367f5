"""Markdown that grows: what the streamed assistant message needs to draw only what changed.

Rich draws top-level blocks one after the other, so a block that is followed by
another can be drawn once and kept; and it draws each list item on its own, so the
items of a growing list can be kept too. Both rely on drawing the same text at the
same width giving the same lines, which tests check against one draw of the whole.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import ListElement, ListItem
from rich.markdown import Markdown as RichMarkdown

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
        if token.children and any(child.type == "link_open" for child in token.children):
            token.children = _honest(token.children)
    return tokens


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


class StreamMarkdown(RichMarkdown):
    """rich.markdown.Markdown with one shared parser, keeping drawn list items in `items`.

    After a draw, `used` holds the items that draw needed: pass it as `items` next time,
    so the cache holds only what the text still has."""

    elements = {
        **RichMarkdown.elements,
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
            self.elements = RichMarkdown.elements
