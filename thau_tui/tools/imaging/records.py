"""Generated images on disk: the PNG, its JSON sidecar, and listing them back.

No torch here: the gallery lists images without loading any model.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from ... import paths

# The parameters that, with the model, reproduce an image; written to the
# sidecar and to the PNG's text chunks in this order.
METADATA_KEYS = (
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "steps",
    "guidance",
    "seed",
    "model",
    "device",
    "dtype",
    "duration_s",
    "created",
)


_TEXT_KEYS = frozenset({"prompt", "negative_prompt", "model", "device", "dtype", "created"})

# A sidecar thau writes is a few hundred bytes; past this one is not read (images review:
# a sidecar linked to /dev/zero was read until memory ran out).
MAX_SIDECAR_BYTES = 1_000_000
# O_NONBLOCK: opening a FIFO waits for a writer, which froze the gallery (images review);
# O_NOFOLLOW: a link is not followed out of the images folder. Neither exists on Windows.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of `path` if it is a regular file (not a link, FIFO or device) of at most
    `limit` bytes; OSError or ValueError otherwise. Never waits and never reads past `limit`."""
    fd = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{path}: over {limit} bytes")
        chunks: list[bytes] = []
        read = 0
        while read <= limit:  # the size can grow after fstat: the limit is on what is read
            chunk = os.read(fd, limit + 1 - read)
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
        if read > limit:
            raise ValueError(f"{path}: over {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass
class ImageRecord:
    """One generated image: where it is and everything needed to make it again."""

    path: Path
    sidecar: Path
    prompt: str
    negative_prompt: str = ""
    width: int = 0
    height: int = 0
    steps: int = 0
    guidance: float = 0.0
    seed: int = 0
    model: str = ""
    device: str = ""
    dtype: str = ""
    duration_s: float = 0.0
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="milliseconds"))

    def metadata(self) -> dict[str, Any]:
        """The sidecar's content (no file paths: the files may move together)."""
        data = asdict(self)
        return {key: data[key] for key in METADATA_KEYS}

    def params(self) -> dict[str, Any]:
        """The generate_image arguments that make this image again (seed apart)."""
        return {
            "negative_prompt": self.negative_prompt,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
            "guidance": self.guidance,
        }

    @classmethod
    def from_sidecar(cls, sidecar: Path) -> "ImageRecord":
        """Read a sidecar written by `save_image`; raises ValueError when it is not one
        (also when it is not a regular file, or is over MAX_SIDECAR_BYTES)."""
        try:
            data = json.loads(_read_regular_file(sidecar, MAX_SIDECAR_BYTES).decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{sidecar}: not a readable image sidecar ({exc})") from exc
        if not isinstance(data, dict) or "prompt" not in data:
            raise ValueError(f"{sidecar}: not an image sidecar (no 'prompt')")
        known = {key: data[key] for key in METADATA_KEYS if key in data}
        for key, value in known.items():  # a hand-edited "model": null broke the gallery later
            wanted = (str,) if key in _TEXT_KEYS else (int, float)
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise ValueError(f"{sidecar}: {key} is {type(value).__name__}, not {wanted[0].__name__}")
        return cls(path=sidecar.with_suffix(".png"), sidecar=sidecar, **known)

    @classmethod
    def without_details(cls, path: Path, sidecar: Path, mtime_ns: int) -> "ImageRecord":
        """An image whose sidecar cannot be read: listed, dated by its PNG, with no prompt."""
        created = datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).isoformat(timespec="milliseconds")
        return cls(path=path, sidecar=sidecar, prompt="", created=created)

    @property
    def has_details(self) -> bool:
        """Whether the sidecar was read: an image without a prompt cannot be re-run."""
        return bool(self.prompt)


def _slug(prompt: str, words: int = 5) -> str:
    """A few words of the prompt, safe in a file name on every platform."""
    parts = re.findall(r"[A-Za-z0-9]+", prompt.lower())[:words]
    return "-".join(parts)[:48] or "image"


def _taken(png: Path) -> bool:
    """Whether the PNG's name or its sidecar's is in use, by anything (a dangling link too)."""
    return os.path.lexists(png) or os.path.lexists(png.with_suffix(".json"))


def image_path_for(record_prompt: str, seed: int, folder: Path | None = None) -> Path:
    """A PNG path not in use yet, nor its sidecar's: time, seed and a slug of the prompt.
    `save_image` claims the names, taking the next free one if they were taken since."""
    folder = folder or paths.images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{seed}-{_slug(record_prompt)}"
    candidate = folder / f"{stem}.png"
    n = 1
    while _taken(candidate):
        n += 1
        candidate = folder / f"{stem}-{n}.png"
    return candidate


def _claim(wanted: Path) -> tuple[BinaryIO, BinaryIO]:
    """The PNG and its sidecar, both created new: `wanted` or, if either name is in use, the
    first free `<stem>-<n>`. "x" mode (O_CREAT|O_EXCL) never follows a link: a dangling link
    planted at the next image's name made the PNG land outside the images folder (images review)."""
    for n in range(1, 1000):
        png = wanted if n == 1 else wanted.with_name(f"{wanted.stem}-{n}.png")
        try:
            png_file = open(png, "xb")
        except FileExistsError:
            continue
        try:
            return png_file, open(png.with_suffix(".json"), "xb")
        except FileExistsError:
            png_file.close()
            png.unlink()  # the empty file made just above
    raise FileExistsError(f"no free name for {wanted.name} in {wanted.parent}")


def save_image(image: Any, record: ImageRecord) -> ImageRecord:
    """Write the PIL image with PNG text chunks, then its JSON sidecar, as new files at
    record.path or the next free name (record.path and record.sidecar say which)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in record.metadata().items():
        info.add_text(key, str(value))
    info.add_text("parameters", json.dumps(record.metadata()))
    record.path.parent.mkdir(parents=True, exist_ok=True)
    png_file, sidecar_file = _claim(record.path)
    record.path, record.sidecar = Path(png_file.name), Path(sidecar_file.name)
    with png_file, sidecar_file:
        try:
            image.save(png_file, format="PNG", pnginfo=info)
            sidecar_file.write((json.dumps(record.metadata(), indent=2) + "\n").encode("utf-8"))
        except BaseException:
            record.path.unlink(missing_ok=True)  # no half-written image in the gallery
            record.sidecar.unlink(missing_ok=True)
            raise
    return record


def list_images(folder: Path | None = None) -> list[ImageRecord]:
    """Every generated image that still has its PNG, newest first. Never raises: an image
    whose sidecar is unreadable, hand-broken or not a regular file is listed without details."""
    folder = folder or paths.images_dir()
    found: list[tuple[ImageRecord, int]] = []
    try:
        sidecars = list(folder.glob("*.json"))
    except OSError:
        return []
    for sidecar in sidecars:
        png = sidecar.with_suffix(".png")
        try:
            png_info = png.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(png_info.st_mode):  # a link, FIFO or folder is no image of thau's
            continue
        try:
            record = ImageRecord.from_sidecar(sidecar)
        except (ValueError, TypeError):
            record = ImageRecord.without_details(png, sidecar, png_info.st_mtime_ns)
        found.append((record, png_info.st_mtime_ns))
    # Sidecars written within the same millisecond fall back to the PNG's write time.
    found.sort(key=lambda pair: (pair[0].created, pair[1]), reverse=True)
    return [record for record, _ in found]
