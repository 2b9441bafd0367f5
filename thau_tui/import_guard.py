"""A finder first on thau's own sys.meta_path that refuses a module found in the workspace.

Taking the workspace's folders off sys.path (paths.keep_imports_out_of) is not enough: a
project installed editable with a flat layout maps its modules into the workspace through
setuptools' finder on sys.meta_path, not through sys.path. A bandit plugin entry point of
such a project, pointing at a module a sandboxed tool can rewrite, ran inside thau at the
next analyze_code, which asks no approval (attacker review, 2026-12-06). This finder asks
the others, in order, and refuses what they find in a workspace; thau's own package and
the Python thau runs on (a .venv in the workspace, which the sandbox keeps read-only) stay.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any, Sequence


class WorkspaceImports:
    """The finder; `refuse_from` sets the folders (one instance serves the process)."""

    workspaces: list[str] = []
    kept: list[str] = []
    refused: list[tuple[str, str]] = []

    @classmethod
    def refuse_from(cls, workspace: Path, kept: Sequence[Path]) -> None:
        root = os.path.realpath(workspace)
        if root not in cls.workspaces:
            cls.workspaces.append(root)
        cls.kept = sorted({*cls.kept, *(os.path.realpath(folder) for folder in kept)})
        if cls not in sys.meta_path:
            sys.meta_path.insert(0, cls)

    @classmethod
    def withdraw(cls) -> None:
        """Take the finder out and forget its folders (tests)."""
        cls.workspaces, cls.kept, cls.refused = [], [], []
        while cls in sys.meta_path:
            sys.meta_path.remove(cls)

    @staticmethod
    def _under(path: str, roots: list[str]) -> bool:
        return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)

    @classmethod
    def _in_a_workspace(cls, place: str) -> bool:
        for each in {os.path.abspath(place), os.path.realpath(place)}:
            if cls._under(each, cls.workspaces) and not cls._under(each, cls.kept):
                return True
        return False

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if not cls.workspaces or name == "thau_tui" or name.startswith("thau_tui."):
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is cls or find is None:
                continue
            spec: ModuleSpec | None = find(name, path, target)
            if spec is None:
                continue
            places = [spec.origin] if isinstance(spec.origin, str) and spec.has_location else []
            places += [p for p in (spec.submodule_search_locations or []) if isinstance(p, str)]
            inside = next((p for p in places if os.path.isabs(p) and cls._in_a_workspace(p)), None)
            if inside is not None:
                cls.refused.append((name, inside))
                raise ImportError(f"thau does not import {name} from the workspace ({inside}): tools can write there")
            return spec
        return None
