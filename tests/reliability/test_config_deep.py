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
        "config.yaml: nested too deeply to read (thousands of levels of lists or mappings); "
        "config.yaml needs only a few"
    ]
    assert result.config is last_good
    assert load_config(path).config == Config()


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
