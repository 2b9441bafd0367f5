"""thau: a terminal assistant over a local GGUF model that calls tools safely."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

# The folders a thau started children with (start.py, cli._config: the workspace), which
# tools can write: a child of thau (the trainer, `thau doctor`'s decode check, the template
# worker) reads the .pth files of its Python again, so an editable project's src/ is back
# on its sys.path, and PYTHONPATH may name one. Before anything else is imported, their
# entries leave sys.path (only os and sys here: `import copy` alone tried `org.python.core`
# from there). This Python's own folders stay (a .venv in the workspace that thau runs on).
KEEP_OUT_VARIABLE = "THAU_KEEP_IMPORTS_OUT"


def _drop_workspace_entries(folders: str, also_kept: "list[str] | tuple[str, ...]" = ()) -> "list[str]":
    """Take the sys.path entries under `folders` (joined by os.pathsep) off sys.path, and
    return them; this Python's own folders (and `also_kept`) stay. The one place that does
    it: here at import, in start.py, and in paths.keep_imports_out_of."""
    roots = [_os.path.realpath(f) for f in folders.split(_os.pathsep) if _os.path.isabs(f)]
    roots = [r for r in roots if r != _os.path.dirname(r)]  # never "/": that is everything
    # This Python's own folders stay, the user's site-packages among them (`pip install --user`:
    # started in ~, thau could not import its own dependencies: final review).
    site = _sys.modules.get("site")
    places = [_sys.prefix, _sys.base_prefix, _sys.exec_prefix, getattr(site, "USER_SITE", None)]
    try:
        places += list(site.getsitepackages()) if site is not None else []
    except (AttributeError, OSError):
        pass
    own = {_os.path.realpath(p) for p in [*places, *also_kept] if isinstance(p, str) and p}

    def under(path: str, bases: "set[str] | list[str]") -> bool:
        return any(path == b or path.startswith(b.rstrip(_os.sep) + _os.sep) for b in bases)

    kept: "list[str]" = []
    dropped: "list[str]" = []
    for entry in _sys.path:
        if entry.endswith(".__path_hook__") and not _os.path.isabs(entry):
            kept.append(entry)  # setuptools' editable finder's marker, no folder
            continue
        real = _os.path.realpath(entry or _os.curdir)
        (dropped if under(real, roots) and not under(real, own) else kept).append(entry)
    if dropped:
        _sys.path[:] = kept
    return dropped


if _os.environ.get(KEEP_OUT_VARIABLE):
    _drop_workspace_entries(_os.environ[KEEP_OUT_VARIABLE])
