"""The `thau` command's entry point: what must happen before anything else is imported.

`thau_tui.cli` imports the config models, and defining a pydantic model loads every
pydantic plugin an installed distribution names (the `pydantic` entry point group, read
from all of sys.path). A project installed editable puts its src/ on sys.path; a sandboxed
tool wrote a *.dist-info there naming a plugin, and the next `thau` ran it in its own
process, before cli._config took the workspace off sys.path (attacker review, 2026-12-06).
A PYTHONPATH in the user's shell that points into the workspace (`PYTHONPATH=src`) put a
planted `src/yaml.py` in front of the real one the same way, and even platformdirs' import
of `copy` tried a module `org` from there. So, importing nothing but os and sys first,
this names the current folder in THAU_KEEP_IMPORTS_OUT (thau_tui/__init__ drops its
entries from sys.path, here and in every Python child thau starts, which inherit it),
turns pydantic's plugins and torch's backend autoloading off, puts the import guard first
on sys.meta_path, and only then imports the rest; cli._config adds the configured
workspace. A sitecustomize.py there runs before any of this: Python imports it at start.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    from . import KEEP_OUT_VARIABLE, _drop_workspace_entries

    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # the folder was deleted under the shell: nothing there to keep out
        here = ""
    if here:
        os.environ[KEEP_OUT_VARIABLE] = os.pathsep.join(filter(None, [os.environ.get(KEEP_OUT_VARIABLE), here]))
        _drop_workspace_entries(here)
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"  # thau uses none; children inherit it
    os.environ["TORCH_DEVICE_BACKEND_AUTOLOAD"] = "0"  # an entry point torch runs at import
    from pathlib import Path

    from .paths import keep_imports_out_of

    try:
        if here:
            keep_imports_out_of(Path(here))  # the guard on sys.meta_path, and the log of what went
    except (OSError, RuntimeError, ValueError):
        pass
    from .cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)
