"""`pip install .` alone must bring every module the chat imports (the quick start)."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# Behind the images and train extras: imported only when those features are used.
OPTIONAL = {"torch", "diffusers", "transformers", "peft", "safetensors", "accelerate", "sentencepiece"}
# The chat and what it runs without extras (images/ and train/ are the extras' code).
CHAT_CODE = [
    "thau_tui/engine",
    "thau_tui/ui",
    "thau_tui/tools",
    "thau_tui/cli.py",
    "thau_tui/config.py",
    "thau_tui/paths.py",
]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` pull in, with theirs (no extras)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_import_of_the_chat_comes_with_the_core_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _closure({_name(r) for r in project["dependencies"]})
    providers = md.packages_distributions()
    files = [
        f for part in CHAT_CODE for f in ((ROOT / part).rglob("*.py") if (ROOT / part).is_dir() else [ROOT / part])
    ]
    files = [f for f in files if "imaging" not in f.parts]  # tools/imaging is the images extra's code
    missing = {}
    for path in files:
        for module in _imports(path) - OPTIONAL - set(sys.stdlib_module_names) - {"thau_tui"}:
            dists = {_name(d) for d in providers.get(module, [])}
            if dists and not dists & installed:
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not in pyproject's dependencies (or theirs): {missing}"
