"""search_docs: a page of the installed Python documentation, looked up in a sandboxed child."""

from __future__ import annotations

import os
import site
import sys
from pathlib import Path
from typing import Any

from .base import ToolContext, ToolError, ToolResult
from .python import run_process
from .workspace import shell_settings

DOC_LIMIT = 6000  # characters of one docstring page: the model's context is small
DOC_SECONDS = 20.0

# Runs in a child process (sandboxed, isolated): importing a module to document it
# executes its code, which must not happen inside thau. argv: query, limit, seconds, workspace,
# this Python's site-packages folders (os.pathsep between them).
# Showing a page imports the module named, which runs its code: search_docs runs without
# approval, so the name decides nothing beyond which installed, public module loads. Names
# with a private part (`venv.__main__` made virtualenvs named after argv) and the standard
# library's modules that act when imported are refused; the lookup runs with the workspace
# read-only, from an empty folder (`flask.__main__` imported the workspace's app.py from the
# current folder) and with no arguments left in sys.argv.
DOCS_REFUSED = ("antigravity", "this", "idlelib", "turtledemo", "test", "ensurepip", "lib2to3")

_DOCS_SCRIPT = r"""
import os, sys
query, limit, seconds = sys.argv[1].strip(), int(sys.argv[2]), float(sys.argv[3])
workspace = os.path.realpath(sys.argv[4])
site_folders = [f for f in (sys.argv[5] if len(sys.argv) > 5 else "").split(os.pathsep) if f]
sys.argv[1:] = []

def below(folder, place):
    return place == folder or place.startswith(folder.rstrip(os.sep) + os.sep)

own = [os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}]

def in_workspace(place):  # and not in this Python's own folders (a home-folder pyenv, a .venv thau runs on)
    real = os.path.realpath(place)
    return below(workspace, real) and not any(below(folder, real) for folder in own)

# Documenting a module imports it, which runs its code, and this tool runs without a card:
# nothing is imported from the workspace, where a tool or a cloned repository may have
# written it. Checking the name's first part missed `acme.docsprobe`, a namespace package
# installed editable, whose second part loaded from the workspace. This finder comes first
# on sys.meta_path and sees every import, the ones the module makes in turn too: a module
# found in the workspace is refused before any of its code runs.
refused = []

class WorkspaceGuard:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            places = [spec.origin] if isinstance(spec.origin, str) else []
            places += [p for p in (spec.submodule_search_locations or []) if isinstance(p, str)]
            inside = [p for p in places if os.path.isabs(p) and in_workspace(p)]
            if inside:
                refused.append((name, inside[0]))
                raise ImportError(f"search_docs does not import {name} from the workspace ({inside[0]})")
            return spec
        return None

sys.meta_path.insert(0, WorkspaceGuard)

def refuse(name, place):
    print(
        f"[{name} is imported from the workspace ({place}): search_docs does not run the "
        "workspace's own code; read its files with read_file or search_code instead]"
    )
    sys.exit(3)

# Started with -S: site's processing of .pth files runs their `import` lines (setuptools'
# editable finders) and puts what they name on sys.path (an editable src/, whose
# sitecustomize.py then ran at start). The site-packages folders are added here, with the
# folders the .pth files name outside the workspace; the ones inside are only remembered,
# to say why a name there is not shown.
kept_out = []
for folder in site_folders:
    if not os.path.isdir(folder) or folder in sys.path:
        continue
    sys.path.append(folder)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".pth") and not n.startswith("."))
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as pth:
                lines = pth.read().splitlines()
        except OSError:
            continue
        for line in lines:
            if not line.strip() or line.startswith(("#", "import ", "import\t")):
                continue
            entry = os.path.abspath(os.path.join(folder, line.rstrip()))
            if os.path.exists(entry) and entry not in sys.path and entry not in kept_out:
                (kept_out if in_workspace(entry) else sys.path).append(entry)

import builtins, importlib.machinery, inspect, io, keyword, pkgutil, pydoc, re, sysconfig, tempfile, time
own += [os.path.realpath(p) for p in sysconfig.get_paths().values()]
os.chdir(tempfile.mkdtemp(prefix="thau-docs-"))
start = time.monotonic()

def module_summary(module):
    # A module's whole page began with CLASSES and was cut there (os: inside sched_param), so
    # the model never saw its functions (tools review): its description, then one line a name.
    doc = (inspect.getdoc(module) or "").strip()
    lines = ["Python module " + module.__name__, "", doc[:1200] + ("..." if len(doc) > 1200 else ""), ""]
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    funcs, classes = [], []
    for name in sorted(set(names)):
        obj = getattr(module, name, None)
        if obj is None or inspect.ismodule(obj):
            continue
        first = ((inspect.getdoc(obj) or "").strip().splitlines() or [""])[0][:90]
        if inspect.isclass(obj):
            classes.append("  " + name + " - " + first)
        elif callable(obj):
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = "(...)"
            funcs.append("  " + name + sig[:70] + " - " + first)
    detail = (["FUNCTIONS"] + funcs + [""] if funcs else []) + (["CLASSES"] + classes + [""] if classes else [])
    if len("\n".join(lines + detail)) > limit - 200:  # too many for a line each (os): their names
        detail = []
        for title, found in (("FUNCTIONS", funcs), ("CLASSES", classes)):
            if found:
                named = ", ".join(f.split(" - ")[0].split("(")[0].strip() for f in found)
                detail += [title + " (" + str(len(found)) + "): " + named, ""]
    lines += detail
    lines.append("[a summary; search_docs " + module.__name__ + ".NAME gives one's whole page]")
    return "\n".join(lines)

def emit(text):
    if len(text) > limit:
        text = text[:limit] + "\n[... documentation cut; ask for a narrower name, e.g. json.dumps]"
    print(text)

if re.fullmatch(r"[A-Za-z_][\w.]*", query):
    if query in keyword.kwlist or query in pydoc.Helper.topics:
        out = io.StringIO()
        try:
            pydoc.Helper(output=out).help(query)
        except Exception:
            pass
        if out.getvalue().strip():
            emit(out.getvalue().strip()); sys.exit(0)
    failed = ""
    try:
        found = pydoc.locate(query, forceload=0)
    except Exception as exc:
        found = None
        failed = f"[importing {query} failed: {type(exc).__name__}: {exc}]"
    if found is None and refused:
        refuse(*refused[0])
    top = query.split(".")[0]
    if found is None and kept_out and (spec := importlib.machinery.PathFinder.find_spec(top, kept_out)):
        refuse(top, spec.origin or next(iter(spec.submodule_search_locations or []), kept_out[0]))
    if failed:
        print(failed)
    if found is not None:
        if inspect.ismodule(found):
            page = module_summary(found)
        else:
            page = pydoc.render_doc(found, "Python documentation for %s", renderer=pydoc.plaintext)
        if refused:
            page += f"\n[search_docs did not import {refused[0][0]} from the workspace ({refused[0][1]})]"
        emit(page); sys.exit(0)
    print(f"[no Python object named {query!r}; names that match the words in it:]")

stop = {"a", "an", "the", "to", "in", "of", "how", "do", "i", "for", "with", "and", "or", "is", "python", "use"}
words = [w for w in re.findall(r"[a-z0-9_]+", query.lower().replace(".", " ")) if w not in stop] or [query.lower()]
candidates = {}
for info in pkgutil.iter_modules():
    candidates.setdefault(info.name, None)
for name in sys.builtin_module_names:
    candidates.setdefault(name, None)
stdlib = sysconfig.get_paths()["stdlib"]
for folder, dirs, files in os.walk(stdlib):
    skipped = ("site-packages", "test", "tests", "idlelib", "__pycache__", "dist-packages")
    dirs[:] = [d for d in dirs if d not in skipped]
    for file in files:
        if file.endswith(".py") and not file.startswith("_"):
            rel = os.path.relpath(os.path.join(folder, file), stdlib)[:-3].replace(os.sep, ".")
            candidates[rel.removesuffix(".__init__")] = os.path.join(folder, file)
scored = []
for name, path in candidates.items():
    if time.monotonic() - start > seconds:
        break
    low = name.lower()
    score = sum(3 for w in words if w in low)
    synopsis = ""
    if path:
        try:
            synopsis = pydoc.synopsis(path) or ""
        except Exception:
            synopsis = ""
    score += sum(1 for w in words if w in synopsis.lower())
    if score:
        scored.append((-score, len(name), name, synopsis))
for name in dir(builtins):
    doc = (getattr(builtins, name).__doc__ or "").strip().splitlines()
    first = doc[0] if doc else ""
    score = sum(3 for w in words if w in name.lower()) + sum(1 for w in words if w in first.lower())
    if score:
        scored.append((-score, len(name), f"builtins.{name}", first))
for kw in keyword.kwlist:
    if kw.lower() in words:
        scored.append((-3, len(kw), kw, "Python keyword"))
scored.sort()
if not scored:
    print(
        f"nothing in the installed Python documentation matches {query!r}; "
        "try a module name such as 'json' or 'pathlib'"
    )
else:
    print(f"documentation matching {query!r} (search_docs with one of these names shows its page):")
    for _, _, name, synopsis in scored[:15]:
        print(f"  {name} - {synopsis}" if synopsis else f"  {name}")
"""


def search_docs(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The search_docs tool: pydoc for a dotted name, else a name/synopsis search."""
    query = args["query"].strip()
    if not query:
        raise ToolError("the query is empty; give a name like 'json.dumps' or words like 'parse csv'")
    parts = query.split(".")
    if any(part.startswith("_") for part in parts) or parts[0] in DOCS_REFUSED:
        raise ToolError(
            f"search_docs shows public names only ({query!r} would run {parts[0]!r}'s own code); "
            "ask for a public name such as 'json.dumps', or words like 'parse csv'"
        )
    workspace = str(Path(ctx.workspace).resolve())
    # -S: no site processing (the script adds this Python's site-packages itself, see there).
    argv = [sys.executable, "-I", "-S", "-c", _DOCS_SCRIPT, query, str(DOC_LIMIT), "5", workspace]
    result = run_process(
        [*argv, os.pathsep.join(site.getsitepackages())],
        ctx,
        timeout=DOC_SECONDS,
        memory_mb=shell_settings(ctx.config).memory_mb,  # an import that allocates without end
        memory_kind="data",
        stream=False,
        writable=False,
    )
    text = result.output.strip()
    if result.timed_out:
        text += f"\n[the documentation search took longer than {DOC_SECONDS:g} s and was stopped]"
    elif result.exit_status not in (0, 3):  # 3: refused, and the output says why
        text += f"\n[the documentation lookup failed (exit status {result.exit_status})]"
    return ToolResult(output=text, ok=result.exit_status == 0, data={"query": query})
