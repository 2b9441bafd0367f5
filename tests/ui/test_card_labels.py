"""What a tool card's words say in the real app: the footer's answer keys, and a call that
cannot run at all (UX review)."""

from __future__ import annotations

from scripted import ScriptedBackend, hermes_call
from test_app import make_app, type_and_send
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey, FooterLabel
from waiting import wait_until

from thau_tui.config import Config, ConfigResult
from thau_tui.engine.store import Store
from thau_tui.paths import default_config_file
from thau_tui.ui.app import ThauApp
from thau_tui.ui.widgets.tool_card import ToolCard


def footer_text(app) -> str:
    """The footer as it reads on screen: each key and its words, a group's keys then its words."""
    parts = []
    for part in app.screen.query_one(Footer).query("FooterKey, FooterLabel"):
        if isinstance(part, FooterKey):
            parts.append(f"{part.key_display} {part.description}".strip())
        elif isinstance(part, FooterLabel):
            parts.append(str(part.render()))
    return " ".join(parts)


async def test_the_footer_says_allow_once_once_for_a_call_nothing_can_remember(tmp_path):
    """For run_python the footer read "y Allow once a Allow once too A Allow once too": three
    entries, one meaning (UX review F5). The footer says it once, with `y`; `a` and `A` still
    answer, as the card's own line says."""
    backend = ScriptedBackend([hermes_call("run_python", code="print(17 * 23)"), "It is 391."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "Use python to compute 17 * 23")
        await wait_until(pilot, lambda: app.query(ToolCard) and app.query_one(ToolCard).state == "awaiting")
        card = app.query_one(ToolCard)
        await wait_until(pilot, lambda: "Deny" in footer_text(app), 10, "the card's keys in the footer")
        footer = footer_text(app)
        assert footer.count("Allow once") == 1, footer
        assert "once too" not in footer, footer
        assert "y Allow once" in footer, footer
        shown = [key.key for key in app.screen.query_one(Footer).query(FooterKey)]
        assert "a" not in shown and "A" not in shown, shown
        keys_line = " ".join(str(card.query_one(".keys", Static).render()).split())
        assert "a/A allow it once too" in keys_line  # the card still says why `a` cannot remember it
        await pilot.press("a")  # the key still answers: the call runs once
        await wait_until(pilot, lambda: card.state in ("done", "failed"), 60, "run_python to end")
        assert card.decision is not None and card.decision.kind == "once"


async def test_the_footer_still_names_each_answer_when_an_approval_can_be_remembered(tmp_path):
    """The grouping is only for a call nothing can remember: for `ls` the footer says what
    `a` and `A` remember, each under its own words."""
    backend = ScriptedBackend([hermes_call("run_shell", command="ls"), "Listed."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(140, 40)) as pilot:
        await type_and_send(pilot, "list the files")
        await wait_until(pilot, lambda: app.query(ToolCard) and app.query_one(ToolCard).state == "awaiting")
        await wait_until(pilot, lambda: "Deny" in footer_text(app), 10, "the card's keys in the footer")
        footer = footer_text(app)
        assert "y Allow once" in footer and "a Allow for chat" in footer and "A Always allow" in footer, footer
        await pilot.press("n", "enter")
        await wait_until(pilot, lambda: not app.turn_running, 30, "the turn to end")


async def _image_card(app, pilot) -> tuple[ToolCard, list[str]]:
    """Ask for an image and let the turn end; the card and every state it showed."""
    states: list[str] = []
    await type_and_send(pilot, "Generate an image of a red cat")
    while app.turn_running or not states:
        cards = app.query(ToolCard)
        states.append(cards.first().state if cards else "")
        await pilot.pause(0.02)
    return app.query_one(ToolCard), states


async def test_an_image_call_with_no_image_model_is_unavailable_not_denied(tmp_path):
    """The card said "denied" though the user denied nothing, and "images.model in config.yaml"
    without saying which config.yaml (UX review F6): it says "unavailable" and names the file."""
    config_file = tmp_path / "config" / "config.yaml"
    config_file.parent.mkdir()
    config_file.write_text("generation:\n  temperature: 0.0\n")
    config = Config()
    config.tools.workspace = str(tmp_path)
    backend = ScriptedBackend([hermes_call("generate_image", prompt="a red cat"), "No image model."])
    app = ThauApp(ConfigResult(config, config_file), store=Store(tmp_path / "db.sqlite3"), backend=backend, watch=False)
    async with app.run_test(size=(110, 40)) as pilot:
        card, states = await _image_card(app, pilot)
        assert card.state == "unavailable" and "denied" not in states and "awaiting" not in states
        label = str(card.query_one(".state-label", Static).render())
        assert label == "unavailable"
        notes = " ".join(str(card.query_one(".notes", Static).render()).split())
        assert "denied" not in notes
        assert f"images.model in {config_file} is empty" in notes, notes
        # the model is told the reason, and where to set it, as the card says
        assert "no image model is configured" in backend.prompts[-1]
        assert str(config_file) in backend.prompts[-1]


async def test_an_image_call_names_the_default_config_file_when_none_was_named(tmp_path):
    """Started without --config (no file read yet), the place to set images.model is the
    user's config.yaml, which `thau doctor` and the app would read."""
    backend = ScriptedBackend([hermes_call("generate_image", prompt="a red cat"), "No image model."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(110, 40)) as pilot:
        card, _states = await _image_card(app, pilot)
        notes = " ".join(str(card.query_one(".notes", Static).render()).split())
        assert card.state == "unavailable"
        assert str(default_config_file()) in notes, notes


async def test_a_reopened_chat_shows_the_image_call_unavailable_too(tmp_path):
    """Reopened, the card said "denied" again: the store holds a denial, by "unavailable"."""
    backend = ScriptedBackend([hermes_call("generate_image", prompt="a red cat"), "No image model."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(110, 40)) as pilot:
        await _image_card(app, pilot)
    again = make_app(tmp_path, ScriptedBackend([]), resume=True)
    async with again.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: again.query(ToolCard))
        card = again.query_one(ToolCard)
        assert card.state == "unavailable", card.state
        assert "no image model is configured" in " ".join(str(card.query_one(".notes", Static).render()).split())


async def test_the_markdown_export_calls_the_image_call_unavailable_not_denied(tmp_path, thau_home):
    """The card said "unavailable" but Ctrl+E's export said "denied" (UX review): the store's
    decision, by "unavailable", now reaches the export."""
    from thau_tui.paths import data_dir

    backend = ScriptedBackend([hermes_call("generate_image", prompt="a red cat"), "No image model."])
    app = make_app(tmp_path, backend)
    async with app.run_test(size=(110, 40)) as pilot:
        await _image_card(app, pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: list((data_dir() / "exports").glob("*.md")))
    exported = next((data_dir() / "exports").glob("*.md")).read_text()
    assert "`generate_image`: not run: unavailable" in exported, exported
    assert "`generate_image`: denied" not in exported
