"""Images on disk: what the gallery's listing reads and how a new image claims its names.
No model here: these are the files alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from thau_tui.tools.imaging.records import ImageRecord, list_images, save_image

SIDECAR_LIMIT = 1_000_000  # records.MAX_SIDECAR_BYTES: about a megabyte, as the review asked

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/zero are POSIX")

# list_images in a child process: a listing that hangs or reads without end is killed there,
# not in the test run, and its memory is capped (a read of /dev/zero stops at MemoryError).
LISTING = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from thau_tui.tools.imaging.records import list_images
print(json.dumps([[r.path.name, r.prompt] for r in list_images(Path(sys.argv[1]))]))
"""


def listing_in_child(folder) -> list[list[str]]:
    try:
        done = subprocess.run([sys.executable, "-c", LISTING, str(folder)], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("list_images hung")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def picture(folder, name, prompt, created="2025-01-01T00:00:00+00:00"):
    path = folder / f"{name}.png"
    Image.new("RGB", (8, 8), "red").save(path)
    path.with_suffix(".json").write_text(json.dumps({"prompt": prompt, "created": created}), encoding="utf-8")
    return path


def test_a_fifo_or_a_link_to_dev_zero_as_sidecar_is_listed_without_details(tmp_path):
    """A FIFO named *.json froze the gallery (the open waited for a writer) and a sidecar linked
    to /dev/zero was read until memory ran out (images review)."""
    picture(tmp_path, "good", "a good one")
    for name in ("piped", "zeroed"):
        Image.new("RGB", (8, 8)).save(tmp_path / f"{name}.png")
    os.mkfifo(tmp_path / "piped.json")
    (tmp_path / "zeroed.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "lonely.json")  # no PNG: nothing to list
    listed = listing_in_child(tmp_path)
    assert sorted(listed) == [["good.png", "a good one"], ["piped.png", ""], ["zeroed.png", ""]]


def test_a_sidecar_over_the_limit_or_broken_still_lists_its_image(tmp_path):
    """At most about a megabyte of a sidecar is read; a bad one leaves an image without details,
    and the listing never raises (images review)."""
    picture(tmp_path, "huge", "x" * (SIDECAR_LIMIT + 10))
    picture(tmp_path, "nulled", "odd")
    (tmp_path / "nulled.json").write_text(json.dumps({"prompt": "odd", "model": None}), encoding="utf-8")
    picture(tmp_path, "fine", "fine", created="2030-01-01T00:00:00+00:00")
    listed = list_images(tmp_path)
    assert [r.prompt for r in listed[:1]] == ["fine"]
    assert sorted(r.path.name for r in listed[1:]) == ["huge.png", "nulled.png"]
    assert all(r.prompt == "" and r.created for r in listed[1:])
    with pytest.raises(ValueError):
        ImageRecord.from_sidecar(tmp_path / "huge.json")  # describe() falls back on the PNG's text


def test_saving_never_writes_through_a_link_planted_at_the_image_or_sidecar_name(tmp_path):
    """A dangling link at the next image's name made save_image write the PNG (and the sidecar)
    where the link pointed, outside the images folder (images review)."""
    images, outside = tmp_path / "images", tmp_path / "outside"
    images.mkdir()
    outside.mkdir()
    (images / "shot.png").symlink_to(outside / "planted.png")
    (images / "shot-2.json").symlink_to(outside / "planted.json")
    record = ImageRecord(path=images / "shot.png", sidecar=images / "shot.json", prompt="a boat", seed=3)
    saved = save_image(Image.new("RGB", (8, 8), "blue"), record)
    assert list(outside.iterdir()) == []
    assert saved.path == images / "shot-3.png" and saved.sidecar == images / "shot-3.json"
    assert not saved.path.is_symlink() and Image.open(saved.path).size == (8, 8)
    assert json.loads(saved.sidecar.read_text(encoding="utf-8"))["prompt"] == "a boat"
    assert not (images / "shot-2.png").exists()  # claimed and given back when its sidecar's name was taken
    assert [r.path for r in list_images(images)] == [saved.path]
