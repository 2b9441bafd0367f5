"""A config.yaml nested thousands deep is an error message, at start and on live reload."""

from __future__ import annotations

import asyncio

from thau_tui.config import Config, load_config, parse_config, watch_config

DEEP = "model:\n  seed: " + "[" * 5000 + "]" * 5000 + "\n"


def test_a_5000_deep_yaml_list_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(DEEP)
    last_good = parse_config("generation:\n  temperature: 0.7\n")
    result = load_config(path, last_good)
    assert not result.ok
    assert result.errors == [
        f"{path}: nested too deeply to read (thousands of levels of lists or mappings); config.yaml needs only a few"
    ]
    assert result.config is last_good
    # At start (nothing to keep): the defaults, and every tool asks until the file is fixed.
    result = load_config(path)
    assert result.config == Config(tools={"policy": {"*": "ask"}})
    assert "nested too deeply" in result.errors[0] and "every tool asks" in result.errors[0]


async def test_a_5000_deep_yaml_list_on_live_reload_is_reported(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("generation:\n  temperature: 0.7\n")
    results = asyncio.Queue()
    watcher = asyncio.create_task(watch_config(path, results.put_nowait, load_config(path).config))
    try:
        result = None
        for _ in range(20):  # write until the watcher (started in the background) sees it
            path.write_text(DEEP)
            try:
                result = await asyncio.wait_for(results.get(), 2)
            except asyncio.TimeoutError:
                continue
            if not result.ok:  # a half-written file may be read first
                break
        assert result is not None and "nested too deeply" in result.errors[0]
        assert result.config.generation.temperature == 0.7  # the last good config stays
        assert not watcher.done()  # the watcher lives on
    finally:
        watcher.cancel()


async def test_a_watch_that_fails_is_reported_and_ends_quietly(tmp_path, monkeypatch):
    """A config kept in the home folder was watched recursively: one unreadable folder below
    (or the system's limit on watches) raised out of the watcher and ended the app. The
    watch is of the folder alone now, and an error from it is a config notice."""
    import watchfiles

    seen: dict = {}

    def failing_awatch(*paths, **options):
        seen.update(options)
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watchfiles, "awatch", failing_awatch)
    path = tmp_path / "config.yaml"
    path.write_text("generation:\n  temperature: 0.7\n")
    results = []
    await asyncio.wait_for(watch_config(path, results.append, load_config(path).config), 5)
    assert seen.get("recursive") is False
    assert len(results) == 1 and "no longer watched" in results[0].errors[0]
    assert results[0].config.generation.temperature == 0.7


async def test_a_linked_config_is_reloaded_when_its_target_changes(tmp_path):
    """A config.yaml linked to a dotfiles repository: an edit there was never applied (a deny
    added to the target waited for a restart; config review)."""
    (tmp_path / "dotfiles").mkdir()
    (tmp_path / "home").mkdir()
    target = tmp_path / "dotfiles" / "thau.yaml"
    target.write_text("generation:\n  temperature: 0.7\n")
    path = tmp_path / "home" / "config.yaml"
    path.symlink_to(target)
    results = asyncio.Queue()
    watcher = asyncio.create_task(watch_config(path, results.put_nowait, load_config(path).config))
    try:
        result = None
        for _ in range(20):  # write until the watcher (started in the background) sees it
            target.write_text("tools:\n  policy: {run_shell: deny}\n")
            try:
                result = await asyncio.wait_for(results.get(), 2)
            except asyncio.TimeoutError:
                continue
            if result.ok:
                break
        assert result is not None and result.config.tools.policy == {"run_shell": "deny"}
    finally:
        watcher.cancel()


async def test_a_removed_config_gives_the_defaults_not_its_last_settings(tmp_path):
    """config.yaml with `run_python: auto` removed while thau ran: "config.yaml reloaded",
    and run_python still ran unasked, by a file that was gone (UX review)."""
    path = tmp_path / "config.yaml"
    path.write_text("tools:\n  policy: {run_python: auto}\n")
    first = load_config(path)
    assert first.config.tools.policy == {"run_python": "auto"}
    results = asyncio.Queue()
    watcher = asyncio.create_task(watch_config(path, results.put_nowait, first.config))
    try:
        await asyncio.sleep(0.5)  # the watch is started in the background
        path.unlink()
        result = await asyncio.wait_for(results.get(), 10)
        assert result.ok and result.config.tools.policy == {}, result.config.tools.policy
    finally:
        watcher.cancel()
