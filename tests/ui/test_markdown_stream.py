"""The streamed assistant message draws exactly what one render of the whole text draws."""

from __future__ import annotations

import random

import pytest
from rich.markdown import Markdown as RichMarkdown
from textual.app import App
from textual.visual import Visual, visualize
from waiting import wait_until

from thau_tui.ui.widgets import markdown_stream
from thau_tui.ui.widgets.chat import AssistantMessage
from thau_tui.ui.widgets.markdown_stream import (
    PARSER,
    BlockScan,
    honest_links,
    line_breaks,
    list_items,
    parse,
    top_level_blocks,
)

ANSWER = """# How a refrigerator works

A refrigerator moves heat from inside to outside. It uses a **refrigerant** that
evaporates and condenses.

1. The compressor squeezes the gas.
2. The condenser coils release heat.

   More about the coils here.
3. The expansion valve drops the pressure.

---
Some text right after a rule.

- bullet one
- bullet *two*
  - nested

```python
def cool(x):

    return x - 1
```

> a quote
> continues

| part | job |
|------|-----|
| coil | heat |

Done. See [the docs](http://example.com) and `fridge --help`.
Setext heading
--------------
final words"""


# One long list, as small models like to answer: a single top-level block that grows
# for the whole answer, with nested items, and numbers that go from one digit to two.
LONG_LIST = "Steps:\n\n" + "\n".join(
    f"{n}. **Step {n}**: the refrigerant {'evaporates' if n % 2 else 'condenses'} and moves heat, "
    "which takes a few words to say." + ("\n\n    - a nested point\n    - another one\n" if n % 4 == 0 else "")
    for n in range(1, 13)
)

# Markdown whose meaning turns on the next characters: setext headings, rules, lists
# that change marker, tables, indented and tilde code, lazy quote lines.
TRICKY = """Intro line
---
Para after setext.

* star list
* more

1) paren list
2) second

Text then a rule:

***

| a | b |
|---|---|
| 1 | 2 |
after table line

    indented code

~~~
tilde fence

~~~

> quote
lazy line

- [ ] task
- [x] done

10. ten
11. eleven

Final *emph* and __strong__ and ~~strike~~."""


# Found in review: each of these once drew differently while streaming, or crashed.
EDGES = {
    "lone-cr": "Intro\r\rPara two\r\r- a\r\n- b\r- c\r\rEnd.",
    "reference-links": "See [docs] here.\n\n- one [d]\n- two [d]\n- three [d]\n\n[d]: http://e.com\n[docs]: http://f.com\n",
    "repeated-numbers": "Intro\n\n1. a\n1. b\n1. c\n1. d\n\n3. g\n4. h\n10. i\n",
    "empty-quote": "- item\n>\n\npara one\n\npara two",
    "html-block": "Para one.\n\n<div>hi</div>\n\nPara two.\n\nthree",
    "crlf": "Line one\r\nLine two\r\n\r\n```python\r\nprint(1)\r\n```\r\n\r\nEnd.",
}


class OneMessage(App):
    def compose(self):
        yield AssistantMessage()


def plain(strips) -> list[str]:
    return [strip.text for strip in strips]


class HonestMarkdown(RichMarkdown):
    """rich's Markdown with thau's intended differences: honest links (markdown_stream.honest_links),
    the model's line breaks kept (markdown_stream.line_breaks) and raw HTML shown (shown_html)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.parsed = markdown_stream.shown_html(line_breaks(honest_links(self.parsed)))


def static_draw(widget, text: str, width: int):
    """What a Static showing rich's Markdown of `text` draws: the reference."""
    return Visual.to_strips(widget, visualize(widget, HonestMarkdown(text)), width, None, widget.visual_style)


def stream_in_pieces(message, answer: str, seed: int, most: int):
    """Append `answer` to `message` in random pieces of 1 to `most` characters, drawing the
    lines after each; yield after each piece what one render of the text so far draws."""
    width = message.content_size.width
    rng = random.Random(seed)
    pos = 0
    while pos < len(answer):
        size = rng.randint(1, most)
        message.append_text(answer[pos : pos + size])
        pos += size
        message._update_lines(width)
        yield static_draw(message, message.text, width)


@pytest.mark.parametrize("answer", [ANSWER, LONG_LIST, TRICKY], ids=["blocks", "long-list", "tricky"])
async def test_streamed_lines_equal_the_whole_render_at_every_step(answer):
    app = OneMessage()
    async with app.run_test(size=(80, 60)) as pilot:
        message = app.query_one(AssistantMessage)
        await pilot.pause()
        steps = 0
        for whole in stream_in_pieces(message, answer, seed=7, most=15):
            steps += 1
            assert plain(message._lines) == plain(whole), f"differs after {message.text[-30:]!r}"
            assert [list(s) for s in message._lines] == [list(s) for s in whole]
        assert steps > 40
        if answer is LONG_LIST:  # one block: the lines of its finished items were kept
            assert message._list and len(message._list[1]) > len(message._lines) * 3 // 4
        else:  # finished blocks were frozen: only the last one was drawn each frame
            assert message._frozen_at > len(answer) // 2


async def test_frames_show_the_text_and_a_new_width_renders_again():
    app = OneMessage()
    async with app.run_test(size=(80, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        message.append_text("A long first paragraph " * 8 + "\n\nSecond paragraph.")
        await pilot.pause(0.2)  # a frame or more at render_hz
        assert any("Second paragraph." in line for line in plain(message._lines))
        assert message.size.height == len(message._lines)
        narrow_before = len(message._lines)
        await pilot.resize_terminal(50, 30)
        await pilot.pause(0.2)
        assert message._width == message.content_size.width <= 50
        assert len(message._lines) > narrow_before  # the long paragraph wraps to more lines
        await message.finish()
        assert plain(message._lines) == plain(static_draw(message, message.text, message._width))


async def test_the_end_of_an_answer_draws_its_last_piece_not_the_whole_answer(monkeypatch):
    app = OneMessage()
    async with app.run_test(size=(80, 40)) as pilot:
        message = app.query_one(AssistantMessage)
        await pilot.pause()
        message.append_text(ANSWER[:-40])
        await pilot.pause(0.2)  # drawn by a frame
        drawn: list[str] = []
        draw = AssistantMessage._draw
        monkeypatch.setattr(
            AssistantMessage, "_draw", lambda self, text, *a, **k: drawn.append(text) or draw(self, text, *a, **k)
        )
        message.append_text(ANSWER[-40:])
        await message.finish()  # the text's last piece came with the end
        assert drawn and max(map(len, drawn)) < len(ANSWER) // 4
        width = message.content_size.width
        assert [list(s) for s in message._lines] == [list(s) for s in static_draw(message, ANSWER, width)]
        drawn.clear()
        await pilot.resize_terminal(60, 40)  # at a new width, a finished answer is drawn whole
        await pilot.pause(0.2)
        assert [len(text) for text in drawn] == [len(ANSWER)]
        assert plain(message._lines) == plain(static_draw(message, ANSWER, message.content_size.width))


async def finished_lines(text: str, size: tuple[int, int]) -> list:
    """The lines a finished answer of `text` draws at `size`."""
    app = OneMessage()
    async with app.run_test(size=size) as pilot:
        message = app.query_one(AssistantMessage)
        message.append_text(text)
        await pilot.pause(0.2)
        await message.finish()
        return list(message._lines)


async def test_links_are_terminal_hyperlinks_drawn_as_with_textuals_link_styling():
    text = "See [the docs](http://example.com/docs) or <http://example.com>, then `run` it.\n\n- [a link](http://a.example)"
    app = OneMessage()
    async with app.run_test(size=(80, 20)) as pilot:
        message = app.query_one(AssistantMessage)
        message.append_text(text)
        await pilot.pause(0.2)
        await message.finish()
        assert message.auto_links is False  # a draw skips Textual's link styling...
        message.auto_links = True
        styled = static_draw(message, text, message.content_size.width)
        message.auto_links = False
        assert [list(s) for s in message._lines] == [list(s) for s in styled]  # ...which changes nothing here
        links = {segment.style.link for line in message._lines for segment in line if segment.style}
        assert {"http://example.com/docs", "http://a.example"} <= links


def test_top_level_blocks_find_where_blocks_start():
    text = "# Title\n\nA paragraph\nstill the paragraph.\n\n- a\n- b\n\n```\ncode\n\nmore code\n```\n"
    blocks = top_level_blocks(text)
    assert [kind for _, kind in blocks] == ["heading_open", "paragraph_open", "bullet_list_open", "fence"]
    assert [text[at : at + 3] for at, _ in blocks] == ["# T", "A p", "- a", "```"]


# Lists whose structure turns on the next characters, for the list scan.
LISTS = {
    "long-list": LONG_LIST.split("\n\n", 1)[1],  # the list alone: what is left once "Steps:" is frozen
    "turns": "- a\n- b\n- - -\n- c\n* d\n* e\n\n1. one\n2) two\n3) three\n\nafter\n- f\nlazy line\n- g",
    "nested": (
        "7. seven\n\n   - in\n   - in two\n\n       code in an item\n\n"
        "8. eight\n   ```\n   1. not an item\n   ```\n9. nine\n---\n- h"
    ),
    "interrupt": "Para\n2. not a list\n1. a list\n   2. nested?\n10. ten\n> quote\n- i\n  > quoted\n- j\n\n\n- k",
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_the_list_scan_finds_what_a_whole_parse_finds(name, monkeypatch):
    text = LISTS[name]
    parsed: list[int] = []  # the length of each text the scan parses
    parse = PARSER.parse
    monkeypatch.setattr(
        markdown_stream.PARSER, "parse", lambda src, env=None: parsed.append(len(src)) or parse(src, env)
    )
    scan = BlockScan()
    for end in range(1, len(text) + 1):  # one character at a time, as a stream may come
        part = text[:end]
        tokens = parse(part)
        blocks = top_level_blocks(part, tokens)
        expected = list_items(part, tokens) if len(blocks) == 1 else None
        got_blocks, got = scan.scan(part)
        assert got == expected, repr(part)
        assert got_blocks == blocks or (got is not None and got_blocks == [(0, got[0])] == blocks[:1]), repr(part)
    if name == "long-list":  # once the list is long, a frame parses its last item, not the list
        assert max(parsed[-50:]) * 4 < len(text)


class Chat(App):
    def compose(self):
        from thau_tui.ui.widgets.chat import ChatView

        yield ChatView()


@pytest.fixture
def layouts(monkeypatch) -> list:
    """One entry per screen layout from now on (a spy that calls through)."""
    from textual.screen import Screen

    seen: list = []
    real = Screen._refresh_layout

    def counting(self, *args, **kwargs):
        seen.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counting)
    return seen


async def test_an_answer_longer_than_the_view_lays_out_once_a_step_not_once_a_line(layouts):
    from thau_tui.ui.widgets.chat import ChatView

    app = Chat()
    async with app.run_test(size=(60, 12)) as pilot:
        chat = app.query_one(ChatView)
        message = await chat.add(AssistantMessage("", render_hz=30))
        await pilot.pause()  # laid out, waiting for text
        message.append_text("Lines that overflow the view.\n\n" * 8 + "Last")  # 17 lines: it scrolls
        await pilot.pause(0.2)
        step = chat.scrollable_content_region.height // 4
        assert step == 3 and message.size.height == len(message._lines) + step  # room for 3 more lines

        def last_line_shown() -> bool:
            return (
                message.virtual_region.y + len(message._lines) <= chat.scroll_y + chat.scrollable_content_region.height
            )

        assert chat.scroll_y == chat.max_scroll_y > 0 and last_line_shown()
        layouts.clear()
        message.append_text(" words")  # same line count: a repaint, no layout
        await pilot.pause(0.2)
        assert layouts == []
        message.append_text("\n\nA new paragraph.")  # two more lines, in the step's room: no layout
        await pilot.pause(0.2)
        assert layouts == [] and last_line_shown() and "A new paragraph." in plain(message._lines)[-1]
        message.append_text("\n\nAnd one more.")  # past the room: one layout, a step more room
        await pilot.pause(0.2)
        assert len(layouts) == 1 and message.size.height == len(message._lines) + step
        assert chat.scroll_y == chat.max_scroll_y and last_line_shown()  # still anchored to the bottom
        await message.finish()  # the last frame draws the whole text; the room stays
        await pilot.pause(0.1)
        assert message.size.height == len(message._lines) + step and len(layouts) == 1


async def test_a_message_added_to_the_chat_costs_one_layout(layouts):
    from thau_tui.ui.widgets.chat import ChatView, NoteMessage, UserMessage

    app = Chat()
    async with app.run_test(size=(60, 20)) as pilot:
        chat = app.query_one(ChatView)
        await pilot.pause(0.1)
        for message in (
            NoteMessage("stopped", "warning"),
            UserMessage("a question\nin two lines"),
            AssistantMessage("A stored answer."),
        ):
            layouts.clear()
            await chat.add(message)
            await pilot.pause(0.1)
            assert len(layouts) == 1, type(message).__name__
            assert message.size.height > 0


async def test_an_answer_grows_in_place_below_its_question(layouts):
    # While it streams, the answer keeps the room from its question (at the top of the
    # chat) to the bottom: text fills it with no layout and nothing on screen moves.
    from thau_tui.ui.widgets.chat import ChatView, NoteMessage, UserMessage

    app = Chat()
    async with app.run_test(size=(60, 20)) as pilot:
        chat = app.query_one(ChatView)
        for i in range(4):  # history that already fills the view
            await chat.add(UserMessage(f"question {i}"))
            await chat.add(AssistantMessage(f"Answer {i}.\n\nIn two paragraphs."))
        question = await chat.add(UserMessage("the last question"))
        message = await chat.add(AssistantMessage("", render_hz=30))
        message.append_text("First line of the answer.")
        # the scroll that lifts the question lands after a refresh or two: slower on a loaded machine
        await wait_until(
            pilot,
            lambda: (
                question.region.y == chat.scrollable_content_region.y
                and message.region.bottom == chat.scrollable_content_region.bottom
            ),
            30,  # 5 s ran out once in a full CI run on 2 loaded cores (it passes alone in 2.4 s)
            "the question to reach the top and the answer to take the rest",
        )
        await pilot.pause(0.2)  # and let the layouts that got it there finish
        view = chat.scrollable_content_region
        assert question.region.y == view.y  # the question went to the top...
        assert message.region.bottom == view.bottom  # ...and the answer has the rest
        layouts.clear()
        message.append_text("\n\nMore.\n\n- a\n- b\n\nAnd more.")  # 7 more lines: room enough
        await pilot.pause(0.2)
        assert len(message._lines) == 8 and layouts == []
        assert question.region.y == view.y and "And more." in plain(message._lines)[-1]
        await pilot.resize_terminal(60, 24)  # taller: the room follows
        await wait_until(
            pilot,
            lambda: message.region.bottom == chat.scrollable_content_region.bottom,
            5,
            "the answer to fill the taller view",
        )
        view = chat.scrollable_content_region
        assert question.region.y == view.y and message.region.bottom == view.bottom
        message.append_text("\n\nLine.\n\nLine." * 8)  # past the room: it grows by a step, anchored
        await pilot.pause(0.2)
        assert len(message._lines) > view.height
        assert message.size.height == len(message._lines) + view.height // 4
        assert chat.scroll_y == chat.max_scroll_y
        await message.finish()
        await chat.add(NoteMessage("stopped", "warning"))  # something after it: room given back
        await pilot.pause(0.1)
        assert message.size.height == len(message._lines)

        short = await chat.add(UserMessage("short one"))
        answer = await chat.add(AssistantMessage("", render_hz=30))
        answer.append_text("Yes.")
        await pilot.pause(0.2)
        await answer.finish()  # the room stays after the answer ends: nothing jumps
        await pilot.pause(0.1)
        assert short.region.y == chat.scrollable_content_region.y
        await chat.add(UserMessage("next"))
        await pilot.pause(0.1)
        assert answer.size.height == 1 and chat.scroll_y == chat.max_scroll_y


@pytest.mark.parametrize("name", sorted(EDGES))
async def test_edge_cases_stream_exactly(name):
    text = EDGES[name]
    app = OneMessage()
    async with app.run_test(size=(60, 40)) as pilot:
        message = app.query_one(AssistantMessage)
        await pilot.pause()
        width = message.content_size.width
        for end in range(1, len(text) + 1):  # one character at a time: every intermediate text
            message.text = text[:end]
            message._update_lines(width)
            assert plain(message._lines) == plain(static_draw(message, message.text, width)), repr(message.text)
        message.append_text("")
        await message.finish()
        assert [list(s) for s in message._lines] == [list(s) for s in static_draw(message, text, width)]


async def test_a_link_never_shows_one_address_and_opens_another():
    """`[https://docs.python.org/3/](vscode://evil/run)` was a hyperlink to vscode:// drawn as
    the docs' address (second attacker review). Only a link that shows its own web or mail
    address is one now; any other shows its address after its text."""
    text = (
        "Read [https://docs.python.org/3/](vscode://evil.example/run?cmd=x) and "
        "[the docs](https://example.com/docs), or <https://example.com>."
    )
    segments = [segment for line in await finished_lines(text, (120, 20)) for segment in line]
    drawn = "".join(segment.text for segment in segments)
    links = {segment.style.link for segment in segments if segment.style}
    linked = {(segment.text, segment.style.link) for segment in segments if segment.style}
    assert "https://docs.python.org/3/ (vscode://evil.example/run?cmd=x)" in drawn
    assert "the docs (https://example.com/docs)" in drawn
    assert links - {None} == {"https://example.com/docs", "https://example.com"}
    assert all(shown.strip() in link for shown, link in linked if link and shown.strip())


async def test_an_image_is_its_text_and_address_and_never_a_hyperlink():
    """`![https://docs.python.org/3/](vscode://evil/run)` was drawn "🌆 https://docs.python.org/3/"
    as a terminal hyperlink to vscode:// (OSC 8), and an image inside a link opened the image's
    source (attacker review of 2026-12-07)."""
    text = (
        "Docs: ![https://docs.python.org/3/](vscode://evil/run?cmd=x) end. "
        "Then [![https://docs.python.org/](x.png)](vscode://evil/run2) and ![](https://example.com/a.png)."
    )
    segments = [segment for line in await finished_lines(text, (160, 20)) for segment in line]
    drawn = " ".join("".join(segment.text for segment in segments).split())  # lines joined
    assert {segment.style.link for segment in segments if segment.style} - {None} == set(), drawn
    assert "Docs: https://docs.python.org/3/ (image: vscode://evil/run?cmd=x) end." in drawn, drawn
    assert "(vscode://evil/run2)" in drawn and "(image: https://example.com/a.png)" in drawn, drawn
    styled = " ".join(
        "".join(
            s.text for line in await finished_lines("![a *b* `c`](http://e.com/i.png)", (80, 5)) for s in line
        ).split()
    )
    assert styled == "a b c (image: http://e.com/i.png)", styled  # its words, not its Markdown


def test_an_autolink_is_its_own_address_and_only_web_ones_are_hyperlinks():
    """An autolink's text is its address decoded (Köln; the href keeps K%C3%B6ln): it was
    drawn twice (read-through review). It is drawn once, as the address it opens, and only
    a web or mail address becomes a hyperlink."""

    def children(text):
        return [(t.type, t.content) for block in parse(text) for t in block.children or []]

    assert children("<https://de.wikipedia.org/wiki/Köln>") == [
        ("link_open", ""),
        ("text", "https://de.wikipedia.org/wiki/K%C3%B6ln"),  # as it opens (fourth review: see below)
        ("link_close", ""),
    ]
    # decoded, the text showed a Cyrillic look-alike of apple.com, or a line break before @evil.com
    assert ("text", "https://xn--80ak6aa92e.com/login") in children("<https://xn--80ak6aa92e.com/login>")
    assert ("text", "https://docs.python.org%0A@evil.com") in children("<https://docs.python.org%0A@evil.com>")
    assert children("[https://example.com](https://example.com/)")[0] == ("link_open", "")
    assert children("<vscode://evil.example/run>") == [("text", "vscode://evil.example/run")]


async def test_a_line_break_inside_a_paragraph_is_drawn():
    """A poem's lines ("sand,\nsalt wind") were joined into one line: CommonMark reads a lone
    line break as a space (helper's UX review). It is drawn as a break, as chat apps do."""
    app = OneMessage()
    async with app.run_test(size=(80, 20)) as pilot:
        message = app.query_one(AssistantMessage)
        message.append_text("Here it is:\n\nsand,\nsalt wind\nand gulls")
        await message.finish()
        await pilot.pause()
        lines = [line.rstrip() for line in plain(message._lines)]
        assert "sand," in lines and "salt wind" in lines and "and gulls" in lines


async def test_raw_html_and_crlf_are_drawn_as_written(tmp_path):
    """ "Use the <br> tag" read "Use the  tag", a <div> block was blank lines, and a CRLF
    answer ended every line in ␍ with its code fence never closed (reading review)."""
    from thau_tui.ui.widgets.chat import last_code_block

    pieces = [
        "Use the <br> tag.\r",
        '\n\r\n<div class="card">\r\n  <h1>Title</h1>\r\n</div>\r\n\r\n',
        "```py\r\nx = 1\r\n```\r",
    ]
    app = OneMessage()
    async with app.run_test(size=(80, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        for piece in pieces:
            message.append_text(piece)
            await pilot.pause()
        await message.finish()
        await pilot.pause()
        drawn = "\n".join(plain(message._lines))
        assert "Use the <br> tag." in drawn and "<h1>Title</h1>" in drawn and '<div class="card">' in drawn
        assert "␍" not in message.text
        assert last_code_block(message.text) == "x = 1\n"
