"""Code and tables wider than the chat (reading review): a code line is never re-flowed at its
spaces, and every column of a table can be read."""

from __future__ import annotations

import random

import pytest
from rich.cells import cell_len
from scripted import ScriptedBackend
from textual.app import App
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.chat import AssistantMessage
from thau_tui.ui.widgets.markdown_stream import CONTINUED

CALL = "        return some_function_with_a_long_name(argument_one, argument_two, argument_three, argument_four)"
CODE = ["def f(x):", "    if x:", CALL, "    return None"]

HEADINGS = ["name", "type", "default", "description", "since", "deprecated", "notes"]
ROWS = [
    [
        "timeout_seconds_total",
        "float",
        "30.0",
        "how long to wait for the whole request",
        "1.2",
        "no",
        "see the timeouts page",
    ],
    ["retries", "int", "3", "how many times to try again", "1.0", "no", "backoff doubles"],
]


def table(headings: list[str], rows: list[list[str]]) -> str:
    lines = [headings, ["---"] * len(headings), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


ANSWER = "Here:\n\n```python\n" + "\n".join(CODE) + "\n```\n\n" + table(HEADINGS, ROWS) + "\nDone."


def rebuilt_code(lines: list[str], first: str, width: int) -> list[str]:
    """The code lines as the chat draws them from the line that starts `first` to the block's
    bottom margin, each continued line joined to its start: a part that goes on fills the
    line to its right margin, so nothing but the end of a code line is stripped."""
    start = next(at for at, line in enumerate(lines) if line[1:].startswith(first))
    code: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        body = line[1 : width - 1]
        if line.startswith(CONTINUED):
            code[-1] += body
        else:
            code.append(body)
    return [line.rstrip() for line in code]


def make_app(tmp_path, answer: str) -> ThauApp:
    config = Config()
    config.tools.workspace = str(tmp_path)
    store = Store(tmp_path / "sessions.sqlite3")
    return ThauApp(
        ConfigResult(config, None, []), store=store, backend=ScriptedBackend([answer], chunk=40), watch=False
    )


async def test_the_real_app_draws_long_code_lines_whole_and_every_table_column(tmp_path):
    """At 80 columns a code line wrapped at its spaces, "argument_two, ..." drawn as a line of
    its own at the margin, and the table ended cells in "timeout_se…" and "descripti…"."""
    app = make_app(tmp_path, ANSWER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q", "enter")
        await wait_until(pilot, lambda: app.query(AssistantMessage) and not app.turn_running, 20, "the answer")
        await pilot.pause(0.2)
        message = app.query(AssistantMessage).last()
        width = message.content_size.width
        lines = [strip.text for strip in message._lines]
        assert rebuilt_code(lines, "def f(x):", width) == CODE
        assert any(line.startswith(CONTINUED) for line in lines)  # the cut is marked
        drawn = "\n".join(lines)
        assert "…" not in drawn
        for heading, *cells in zip(HEADINGS, *ROWS):
            for cell in cells:  # each cell on one line beside its heading
                assert any(line.startswith(heading) and cell in line for line in lines), (heading, cell)
        assert "A table of 7 columns, too wide for the chat" in drawn  # and it says why it looks so
        await pilot.resize_terminal(200, 24)  # room enough: a table again, one row a line
        await pilot.pause(0.3)
        lines = [strip.text.strip() for strip in message._lines]
        assert any(line.split() == HEADINGS for line in lines)
        assert any(line.startswith("timeout_seconds_total") and "see the timeouts page" in line for line in lines)


class OneMessage(App):
    def compose(self):
        yield AssistantMessage()


async def finished(text: str, size: tuple[int, int]) -> tuple[list[str], int]:
    """The lines a finished answer of `text` draws at `size`, and the text's width."""
    app = OneMessage()
    async with app.run_test(size=size) as pilot:
        message = app.query_one(AssistantMessage)
        message.append_text(text)
        await message.finish()
        await pilot.pause()
        return [strip.text for strip in message._lines], message.content_size.width


async def test_wide_characters_and_tabs_are_cut_by_cells_never_past_the_width():
    code = ["x = 1", "\tlabel = '" + "日本語のテキスト" * 6 + "'  # 説明", "y = 2"]
    lines, width = await finished("```\n" + "\n".join(code) + "\n```", (50, 30))
    assert all(cell_len(line) <= width for line in lines)
    rebuilt = rebuilt_code(lines, "x = 1", width)
    # a part that ends before a character two cells wide is one cell short, padded: the
    # spaces are left out of the comparison, the lines and their order are not
    assert [line.replace(" ", "") for line in rebuilt] == [line.replace(" ", "").replace("\t", "") for line in code]
    assert rebuilt[1].startswith("    label") and sum(line.startswith(CONTINUED) for line in lines) >= 2


async def test_a_table_that_fits_at_its_longest_words_keeps_them_whole():
    """Rich narrows the widest columns alike: the one-word column was cut ("…") although the
    sentence beside it could have wrapped into fewer columns."""
    name = "a_really_long_identifier_name_of_forty_c"
    sentence = "a sentence of several short words that runs on"
    lines, _ = await finished(table(["identifier", "what it is"], [[name, sentence]]), (60, 20))
    drawn = "\n".join(lines)
    assert "…" not in drawn and name in drawn
    assert any(line.split() == ["identifier", "what", "it", "is"] for line in lines)  # still a table


@pytest.mark.parametrize("columns", [12, 30])
@pytest.mark.parametrize("rows", [0, 2])
async def test_a_table_too_wide_for_the_chat_shows_every_cell(columns, rows):
    """Past squeezing, rich draws columns zero wide: at 30 columns the first ones were gone."""
    headings = [f"column_{at}" for at in range(columns)]
    cells = [[f"value_{row}_{at}" for at in range(columns)] for row in range(rows)]
    lines, width = await finished(table(headings, cells), (80, 20))
    assert all(cell_len(line) <= width for line in lines)
    for at, heading in enumerate(headings):
        assert sum(line.split()[:1] == [heading] for line in lines) == max(1, rows)
        for row in cells:
            assert any(line.split() == [heading, row[at]] for line in lines)
    assert f"A table of {columns} columns" in "\n".join(lines)


async def test_wide_blocks_stream_as_one_draw_of_the_whole_draws_them():
    """A frame draws only the last block, the rest kept: a wide block drawn its own way must
    still draw the same lines in part as in whole, or a streamed answer would jump."""
    answer = ANSWER + "\n\n" + table([f"c{at}" for at in range(20)], [[f"cell {at}" for at in range(20)]]) + "\nEnd."
    app = OneMessage()
    async with app.run_test(size=(80, 40)) as pilot:
        message = app.query_one(AssistantMessage)
        await pilot.pause()
        width = message.content_size.width
        rng = random.Random(5)
        at = 0
        while at < len(answer):
            step = rng.randint(1, 12)
            message.append_text(answer[at : at + step])
            at += step
            message._update_lines(width)
            whole, _ = message._draw(message.text, width)
            assert [list(strip) for strip in message._lines] == [list(strip) for strip in whole], message.text[-30:]
        assert message._frozen_at > len(ANSWER) // 2  # blocks were kept, not drawn again each frame
