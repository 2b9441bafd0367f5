"""search_docs (docs_lookup.py), analyze_code, run_tests, debug_code: the developer's helpers, offline."""

from __future__ import annotations

import ast
import errno
import os
import re
import secrets
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import Tool, ToolContext, ToolError, ToolResult, object_schema
from .docs_lookup import search_docs
from .kept import Kept
from .python import ProcessResult, describe_ending, python_command, python_settings, run_process
from .workspace import (
    NO_FOLLOW,
    open_folder_in_workspace,
    resolve_in_workspace,
    scrubbed_environment,
    shell_settings,
)

if TYPE_CHECKING:
    from thau_tui.config import Config

# --- analyze_code ----------------------------------------------------------

# Thousands of operators in one expression ("1+1+...", "- - -1", "not not ... x"): CPython's
# parser and compiler give up on the nesting (RecursionError, or MemoryError from the parser's
# own stack), and radon's and bandit's tree walkers recurse once per level, so they fail on
# shallower trees than Python compiles. Each check says so plainly instead of crashing.
TOO_DEEP = (
    "the code is nested too deeply to analyse (hundreds of operators or brackets inside one "
    "expression); split it into several shorter statements"
)
_DEEPEST = 500  # tree levels past which a walker's failure is the nesting (Python's recursion limit is 1000)


def _nesting(tree: ast.AST) -> int:
    """How many levels deep the syntax tree goes (walked without recursion)."""
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _syntax(code: str) -> str:
    try:
        tree = ast.parse(code, "<code>")
        compile(code, "<code>", "exec", dont_inherit=True)  # catches 'return' outside a function too
    except (RecursionError, MemoryError):
        return TOO_DEEP
    except SyntaxError as exc:
        where = f"line {exc.lineno}, column {exc.offset}" if exc.lineno else "an unknown place"
        lines = [f"syntax error at {where}: {exc.msg}"]
        if exc.text:
            lines.append("    " + exc.text.rstrip("\n"))
            if exc.offset:
                lines.append("    " + " " * (exc.offset - 1) + "^")
        return "\n".join(lines)
    functions = sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(tree))
    classes = sum(isinstance(n, ast.ClassDef) for n in ast.walk(tree))
    return f"no syntax errors ({len(code.splitlines())} lines, {functions} functions, {classes} classes)"


def _security(code: str) -> str:
    import logging

    logging.getLogger("bandit").setLevel(logging.ERROR)
    try:
        tree: ast.AST | None = ast.parse(code, "<code>")
    except (RecursionError, MemoryError):
        return TOO_DEEP
    except SyntaxError:
        tree = None  # bandit says so itself
    with tempfile.TemporaryDirectory(prefix="thau-bandit-") as folder:
        path = Path(folder) / "snippet.py"
        path.write_text(code, encoding="utf-8")
        with warnings.catch_warnings():  # bandit's plugin loader warns about its own deprecated calls
            warnings.simplefilter("ignore", DeprecationWarning)
            from bandit.core import config as bandit_config
            from bandit.core import manager

            scan = manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
            scan.discover_files([str(path)])
            scan.run_tests()
        issues = scan.get_issue_list()
        skipped = scan.skipped
    if skipped:
        if tree is not None and _nesting(tree) > _DEEPEST:
            # bandit's walker recursed past Python's limit; it says only "exception while scanning file"
            return TOO_DEEP
        return f"bandit could not scan the code: {skipped[0][1]}; check the syntax with analysis_type 'syntax'"
    if not issues:
        return "bandit found no security issues"
    lines = [f"bandit found {len(issues)} issue(s):"]
    source = code.splitlines()
    for issue in sorted(issues, key=lambda i: i.lineno):
        text = source[issue.lineno - 1].strip() if 0 < issue.lineno <= len(source) else ""
        lines.append(
            f"line {issue.lineno}: {issue.severity} severity, {issue.confidence} confidence "
            f"[{issue.test_id}] {issue.text}"
        )
        if text:
            lines.append(f"    {text}")
    return "\n".join(lines)


# radon's raw count tokenizes a statement again at each of its lines: one bracket left open
# over 4,000 lines (8 KB) took 30 s, with no card, and Esc could not stop it; forty such
# statements of 200 lines, 2.6 s (attacker review). Its time goes with the sum of each
# statement's lines squared, which is bounded (~0.4 s here at the bound).
MAX_STATEMENT_LINES_SQUARED = 250_000


def _statement_cost(code: str) -> int:
    """The sum over statements of the lines each spans, squared (one pass of Python's tokenizer)."""
    import io
    import tokenize

    skip = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.ENDMARKER)
    cost, start, row = 0, None, 1
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            row = token.end[0]
            if start is None and token.type not in skip:
                start = token.start[0]
            elif token.type == tokenize.NEWLINE and start is not None:
                cost, start = cost + (row - start + 1) ** 2, None
    except (tokenize.TokenError, SyntaxError):
        pass  # an open statement at the end: it runs to the last line read
    return cost + ((row - start + 1) ** 2 if start is not None else 0)


def _complexity(code: str) -> str:
    from radon.complexity import cc_rank, cc_visit
    from radon.metrics import mi_visit
    from radon.raw import analyze

    if _statement_cost(code) > MAX_STATEMENT_LINES_SQUARED:
        return (
            "cannot measure this code: its statements span too many lines each (a bracket or string open "
            "over hundreds of lines), and the count's time grows with the square of that; try the syntax "
            "or security analysis"
        )
    try:
        blocks = cc_visit(code)
        raw = analyze(code)
        index = mi_visit(code, multi=True)
    except SyntaxError as exc:
        return f"cannot measure code with a syntax error (line {exc.lineno}: {exc.msg})"
    except (RecursionError, MemoryError):
        return TOO_DEEP
    lines = [
        f"maintainability index {index:.1f}/100 ({'good' if index >= 20 else 'hard to maintain'}); "
        f"{raw.sloc} source lines, {raw.comments} comment lines"
    ]
    if not blocks:
        lines.append("no functions or classes to rate")
    for block in sorted(blocks, key=lambda b: -b.complexity):
        kind = "method" if getattr(block, "is_method", False) else type(block).__name__.lower()
        lines.append(
            f"{block.name} ({kind}, line {block.lineno}): complexity {block.complexity}, "
            f"rank {cc_rank(block.complexity)}"
        )
    return "\n".join(lines)


def analyze_code(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The analyze_code tool: syntax (ast), security (bandit) or complexity (radon)."""
    kind = args.get("analysis_type", "syntax")
    runners = {"syntax": _syntax, "security": _security, "complexity": _complexity}
    if kind not in runners:
        raise ToolError(f"analysis_type must be one of syntax, security, complexity (got {kind!r})")
    return ToolResult(output=runners[kind](args["code"]), data={"analysis_type": kind})


# --- run_tests -------------------------------------------------------------

_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
_NO_TESTS = 5  # pytest's exit status when nothing was collected


def _write_snippet(workspace: Path, code: str, config: Config | None = None) -> Path:
    """Write test code to .thau/tests/test_snippet_<random>.py in the workspace, opening each
    folder without following links: a .thau planted as a link to a folder outside does not
    take the file there."""
    snippet = workspace / ".thau" / "tests" / f"test_snippet_{secrets.token_hex(4)}.py"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        kept = Kept.here(workspace, config, writing=True, git=True)
        folder, name = open_folder_in_workspace(workspace, snippet, make_folders=True, kept=kept)
        try:
            fd = os.open(name, flags, 0o644, dir_fd=folder)
        finally:
            os.close(folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(code)
    except OSError as exc:
        link = " (.thau or .thau/tests is a link: they must be plain folders in the workspace)"
        why = link if exc.errno in (errno.ELOOP, errno.EEXIST) else ""
        raise ToolError(f"cannot write the test code to .thau/tests: {exc.strerror or exc}{why}") from None
    return snippet


PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini")


def _project_root(workspace: Path, target: Path) -> Path:
    """The nearest folder from `target` up to the workspace that holds a project file, else the workspace."""
    folder = target if target.is_dir() else target.parent
    while folder != workspace and workspace in folder.parents:
        if any((folder / name).is_file() for name in PROJECT_FILES):
            return folder
        folder = folder.parent
    return workspace


def run_tests(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The run_tests tool: pytest on a workspace path, or on test code written to .thau/."""
    path, code = args.get("path"), args.get("code")
    if not path and not code:
        raise ToolError("give either 'path' (a test file or folder in the workspace) or 'code' (pytest test code)")
    workspace = Path(ctx.workspace).resolve()
    snippet: Path | None = None
    if code:
        snippet = _write_snippet(workspace, code, ctx.config)
        target = snippet
    else:
        target = resolve_in_workspace(workspace, str(path), ctx.config)
        if not target.exists():
            raise ToolError(f"'{path}' does not exist in the workspace; list_directory shows what is there")
    # A project in a subfolder (proj/pyproject.toml) imports its own modules from there: from
    # the workspace they were "No module named 'calc'" (tools review)
    project = _project_root(workspace, target)
    where = os.pathsep.join(dict.fromkeys([str(project), str(workspace)]))
    env = scrubbed_environment({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": where}, ctx.config)
    shell = shell_settings(ctx.config)
    timeout = shell.timeout
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=short",
        "--color=no",
        "--rootdir",
        str(project),
        str(target),
    ]
    try:
        # The shell's memory cap, the way the shell applies it: tests run what the project
        # runs, and RLIMIT_DATA leaves programs that reserve address space (node, Go, the JVM) alone.
        result = run_process(argv, ctx, timeout=timeout, env=env, memory_mb=shell.memory_mb, memory_kind="data")
    finally:
        if snippet is not None:
            snippet.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for line in reversed(result.output.splitlines()):
        found = _COUNTS.findall(line)
        if found:
            counts = {("error" if k.startswith("error") else k): int(n) for n, k in found}
            break
    if result.timed_out or result.cancelled:
        head = describe_ending(result, timeout, "tools.shell.timeout")
    elif result.exit_status == _NO_TESTS:
        head = "pytest collected no tests: name test files test_*.py and test functions test_*"
    elif counts:
        verdict = "all passed" if result.exit_status == 0 else "some failed"
        if result.exit_status == 2 and not counts.get("failed"):  # not a failed test: none ran
            verdict = "stopped while collecting the tests: read the error below"
        head = (
            f"pytest: {', '.join(f'{n} {k}' for k, n in counts.items())} ({verdict}, exit status {result.exit_status})"
        )
    else:
        head = f"pytest did not run the tests (exit status {result.exit_status})"
    output = f"{head}\n{result.output.strip()}" if result.output.strip() else head
    data = {"exit_status": result.exit_status, "counts": counts, "timed_out": result.timed_out}
    return ToolResult(output=output, ok=result.exit_status == 0, data=data)


# --- debug_code ------------------------------------------------------------

EXPLANATIONS = {
    "NameError": (
        "a name was used that is not defined here: check its spelling, and that it is assigned or imported first"
    ),
    "UnboundLocalError": "a local variable was read before it got a value in this function",
    "TypeError": "a value of the wrong type was used, or a function got the wrong number of arguments",
    "ValueError": "the type is right but the value is not acceptable (e.g. int('abc'))",
    "IndexError": "a list or tuple index is past its end: check the length before indexing",
    "KeyError": "the dictionary has no such key: use .get(key) or check `key in d` first",
    "AttributeError": "the object has no such attribute or method: check its type and the spelling",
    "ZeroDivisionError": "a division or modulo by zero: guard the divisor",
    "ModuleNotFoundError": "the module is not installed (or the name is misspelled)",
    "ImportError": "the module exists but the name imported from it does not",
    "FileNotFoundError": "the file or folder does not exist at that path (relative paths start in the workspace)",
    "RecursionError": "a function called itself too deeply: check the recursion's stopping case",
    "AssertionError": "an assert statement found its condition false",
    "StopIteration": "next() was called on an exhausted iterator",
    "MemoryError": "the code ran out of memory (tools.python.memory_mb limits it)",
    "OverflowError": "a number grew too large for the operation",
    "SyntaxError": "the code is not valid Python at that spot",
    "IndentationError": "the indentation is inconsistent: use 4 spaces per level, no tabs",
    "KeyboardInterrupt": "the run was interrupted",
    "PermissionError": "the operating system refused access (outside the workspace everything is read-only)",
    "OSError": "an operating system call failed (file, network or process)",
    "RuntimeError": "a generic runtime failure: read the message for the cause",
    "JSONDecodeError": "the text is not valid JSON at the position given",
}

_FRAME = re.compile(r'File "<string>", line (\d+)')
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Iteration|Warning))(?::\s?(.*))?$")


def _source_window(code: str, line: int, around: int = 2) -> str:
    source = code.splitlines()
    rows = []
    for number in range(max(1, line - around), min(len(source), line + around) + 1):
        mark = "->" if number == line else "  "
        rows.append(f"  {mark} {number:>3} | {source[number - 1]}")
    return "\n".join(rows)


def debug_code(args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """The debug_code tool: run the code, find the failing line, explain the exception."""
    code = args["code"]
    reported = (args.get("error") or "").strip()
    settings = python_settings(ctx.config)
    result: ProcessResult | None = None
    try:
        compile(code, "<string>", "exec", dont_inherit=True)
    except (RecursionError, MemoryError):  # Python cannot run it either: no need to try
        return ToolResult(output=TOO_DEEP, ok=False, data={"exit_status": None, "exception": None, "line": None})
    except SyntaxError as exc:  # no need to run what cannot parse
        output = f'  File "<string>", line {exc.lineno}\nSyntaxError: {exc.msg}'
        status: int | None = 1
    else:
        result = run_process(python_command(code), ctx, timeout=settings.timeout, memory_mb=settings.memory_mb)
        output, status = result.output, result.exit_status
    lines = output.rstrip("\n").splitlines()
    exception = next((m for m in map(_EXCEPTION.match, reversed(lines)) if m), None)
    frames = _FRAME.findall(output)
    report: list[str] = []
    if result is not None and (result.timed_out or result.cancelled):
        report.append(describe_ending(result, settings.timeout, "tools.python.timeout"))
        report.append("a loop that never ends, or waiting on something slow, is the usual cause")
    elif exception is None and status == 0:
        report.append("the code ran without an exception (exit status 0)")
    elif exception is None:
        report.append(f"the code failed with exit status {status} but printed no Python traceback")
    else:
        name, message = exception.group(1), exception.group(2) or ""
        report.append(f"{name}: {message}" if message else name)
        if frames:
            line = int(frames[-1])
            report.append(f"at line {line}:")
            report.append(_source_window(code, line))
        short = name.rsplit(".", 1)[-1]
        if short in EXPLANATIONS:
            report.append(f"what it means: {EXPLANATIONS[short]}")
    if reported:
        report.append(f"you reported: {reported}")
        if exception is None and status == 0:
            report.append("that error did not happen in this run: it may depend on input, files or the environment")
    if output.strip() and result is not None:
        report.append("output:\n" + output.rstrip("\n"))
    data = {
        "exit_status": status,
        "exception": exception.group(1) if exception else None,
        "line": int(frames[-1]) if frames else None,
    }
    return ToolResult(output="\n".join(report), data=data)


TOOLS = [
    Tool(
        name="search_docs",
        description="Look up offline Python documentation (pydoc): an exact name such as 'json.dumps' "
        "shows its page; other words list matching modules and builtins.",
        summary="look up Python documentation offline",
        parameters=object_schema(
            {"query": {"type": "string", "description": "A dotted name (json.dumps) or words"}}, ["query"]
        ),
        risk="read",
        unsandboxed_risk="exec",  # showing a page imports the module, which runs its code
        function=search_docs,
    ),
    Tool(
        name="analyze_code",
        description="Check Python code without running it: 'syntax' (default; errors with line and column), "
        "'security' (bandit findings) or 'complexity' (radon cyclomatic complexity and maintainability).",
        summary="check Python code for syntax, security or complexity",
        parameters=object_schema(
            {
                "code": {"type": "string", "description": "Python source to check"},
                "analysis_type": {
                    "type": "string",
                    "enum": ["syntax", "security", "complexity"],
                    "default": "syntax",
                    "description": "syntax (default), security or complexity",
                },
            },
            ["code"],
        ),
        risk="read",
        function=analyze_code,
    ),
    Tool(
        name="run_tests",
        description="Run pytest in the workspace sandbox on a test file or folder ('path'), or on test code "
        "('code', written to a temporary test file). Returns pass/fail counts and failures.",
        summary="run pytest on a path or on test code",
        parameters=object_schema(
            {
                "path": {"type": "string", "description": "Test file or folder, relative to the workspace"},
                "code": {
                    "type": "string",
                    "description": "pytest test code (functions named test_*); give path or code",
                },
            },
            [],
        ),  # one of the two is required; run_tests says so (anyOf would not survive the GBNF grammar)
        risk="exec",
        function=run_tests,
    ),
    Tool(
        name="debug_code",
        description="Run Python code, find where it fails, show the failing line and explain the exception. "
        "Pass the error you saw in 'error' (optional).",
        summary="run code and explain where and why it fails",
        parameters=object_schema(
            {
                "code": {"type": "string", "description": "The Python code that fails"},
                "error": {"type": "string", "description": "The error message you saw (optional)"},
            },
            ["code"],
        ),
        risk="exec",
        function=debug_code,
    ),
]
