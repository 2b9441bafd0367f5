"""search_docs: a page of the installed Python documentation, looked up in a sandboxed child."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .base import ToolContext, ToolError, ToolResult
from .python import run_process

DOC_LIMIT = 6000  # characters of one docstring page: the model's context is small
DOC_SECONDS = 20.0

# Runs in a child process (sandboxed, isolated): importing a module to document it
# executes its code, which must not happen inside thau. argv: query, limit, seconds, workspace.
# Showing a page imports the module named, which runs its code: search_docs runs without
# approval, so the name decides nothing beyond which installed, public module loads. Names
# with a private part (`venv.__main__` made virtualenvs named after argv) and the standard
# library's modules that act when imported are refused; the lookup runs with the workspace
# read-only, from an empty folder (`flask.__main__` imported the workspace's app.py from the
# current folder) and with no arguments left in sys.argv.
DOCS_REFUSED = ("antigravity", "this", "idlelib", "turtledemo", "test", "ensurepip", "lib2to3")

_DOCS_SCRIPT = r"""
import builtins, importlib.util, io, keyword, os, pkgutil, pydoc, re, sys, sysconfig, tempfile, time
query, limit, seconds = sys.argv[1].strip(), int(sys.argv[2]), float(sys.argv[3])
workspace = os.path.realpath(sys.argv[4])
sys.argv[1:] = []
os.chdir(tempfile.mkdtemp(prefix="thau-docs-"))
start = time.monotonic()

def below(folder, place):
    return place == folder or place.startswith(folder.rstrip(os.sep) + os.sep)

own = [os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}]

def in_workspace(place):  # and not in this Python's own folders (a home-folder pyenv, a .venv thau runs on)
    real = os.path.realpath(place)
    return below(workspace, real) and not any(below(folder, real) for folder in own)

# Documenting a module imports it. A project installed editable (pip install -e) is
# imported from the workspace, where a tool or a cloned repository may have written it:
# found (not imported) there, it is refused; this tool runs without a card.
top = query.split(".")[0]
try:
    spec = importlib.util.find_spec(top) if re.fullmatch(r"[A-Za-z_]\w*", top) else None
except (ImportError, ValueError):
    spec = None
places = ([spec.origin] if spec is not None and spec.origin else []) + list(
    (spec.submodule_search_locations or []) if spec is not None else []
)
inside = [p for p in places if p and os.path.isabs(p) and in_workspace(p)]
if inside:
    print(
        f"[{top} is imported from the workspace ({inside[0]}): search_docs does not run the "
        "workspace's own code; read its files with read_file or search_code instead]"
    )
    sys.exit(3)

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
    try:
        found = pydoc.locate(query, forceload=0)
    except Exception as exc:
        found = None
        print(f"[importing {query} failed: {type(exc).__name__}: {exc}]")
    if found is not None:
        emit(pydoc.render_doc(found, "Python documentation for %s", renderer=pydoc.plaintext)); sys.exit(0)
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
    result = run_process(
        [sys.executable, "-I", "-c", _DOCS_SCRIPT, query, str(DOC_LIMIT), "5", str(Path(ctx.workspace).resolve())],
        ctx,
        timeout=DOC_SECONDS,
        stream=False,
        writable=False,
    )
    text = result.output.strip()
    if result.timed_out:
        text += f"\n[the documentation search took longer than {DOC_SECONDS:g} s and was stopped]"
    elif result.exit_status not in (0, 3):  # 3: refused, and the output says why
        text += f"\n[the documentation lookup failed (exit status {result.exit_status})]"
    return ToolResult(output=text, ok=result.exit_status == 0, data={"query": query})
