"""The `thau` command's entry point: what must happen before anything else is imported.

`thau_tui.cli` imports the config models, and defining a pydantic model loads every
pydantic plugin an installed distribution names (the `pydantic` entry point group, read
from all of sys.path). A project installed editable puts its src/ on sys.path; a sandboxed
tool wrote a *.dist-info there naming a plugin, and the next `thau` ran it in its own
process, before cli._config took the workspace off sys.path (attacker review, 2026-12-06).
A PYTHONPATH in the user's shell that points into the workspace (`PYTHONPATH=src`) put a
planted `src/yaml.py` in front of the real one the same way. So this module, which imports
only the standard library and thau's paths, turns pydantic's plugins off and takes the
current folder's entries off sys.path first; cli._config does the same again for the
configured workspace.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"  # thau uses none; children inherit it
    from .paths import keep_imports_out_of

    with contextlib.suppress(OSError, RuntimeError, ValueError):
        keep_imports_out_of(Path.cwd())
    from .cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)
