"""search_docs, analyze_code, run_tests, debug_code on small real inputs."""

from __future__ import annotations

import pytest

from thau_tui.tools.base import ToolError
from thau_tui.tools.devtools import analyze_code, debug_code, run_tests, search_docs


@pytest.fixture
def plain_pytest(config, monkeypatch):
    """run_tests' pytest without the plugins installed here (hypothesis, textual's snapshots
    and the rest load at every start: 2.7 s of CPU a run, 0.5 without). The environment
    variable reaches the tool's process the way a user would pass it: tools.shell.env_passthrough."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    config.tools.shell.env_passthrough = ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]


def test_search_docs_shows_the_page_for_a_dotted_name(ctx):
    result = search_docs({"query": "json.dumps"}, ctx)
    assert result.ok
    assert result.output.startswith("Python documentation for function dumps in module json")
    assert "Serialize ``obj``" in result.output


def test_search_docs_lists_matches_for_words(ctx):
    result = search_docs({"query": "read csv files"}, ctx)
    first = result.output.splitlines()[1]
    assert first.strip().startswith("csv - ")


def test_search_docs_knows_keywords(ctx):
    assert 'The "with" statement' in search_docs({"query": "with"}, ctx).output


def test_analyze_syntax(ctx):
    bad = analyze_code({"code": "def f(:\n    pass", "analysis_type": "syntax"}, ctx).output
    assert bad.splitlines() == ["syntax error at line 1, column 7: invalid syntax", "    def f(:", "          ^"]
    good = analyze_code({"code": "class A:\n    def m(self):\n        return 1\n"}, ctx).output
    assert good == "no syntax errors (3 lines, 1 functions, 1 classes)"


def test_analyze_security_with_bandit(ctx):
    code = "import subprocess\nsubprocess.call(cmd, shell=True)\n"
    output = analyze_code({"code": code, "analysis_type": "security"}, ctx).output
    assert "line 2: HIGH severity, HIGH confidence [B602]" in output
    assert (
        analyze_code({"code": "x = 1\n", "analysis_type": "security"}, ctx).output == "bandit found no security issues"
    )


def test_analyze_complexity_with_radon(ctx):
    code = "def pick(x):\n    if x > 1:\n        return 1\n    elif x < 0:\n        return 2\n    return 3\n"
    output = analyze_code({"code": code, "analysis_type": "complexity"}, ctx).output
    assert "pick (function, line 1): complexity 3, rank A" in output
    assert output.startswith("maintainability index")


def test_run_tests_on_code_counts_passes_and_failures(ctx, workspace, plain_pytest):
    code = "def test_ok():\n    assert 1 + 1 == 2\n\ndef test_bad():\n    assert 'a' == 'b'\n"
    result = run_tests({"code": code}, ctx)
    assert result.output.startswith("pytest: 1 failed, 1 passed (some failed, exit status 1)")
    assert "assert 'a' == 'b'" in result.output
    assert result.data["counts"] == {"failed": 1, "passed": 1} and not result.ok
    assert list((workspace / ".thau" / "tests").iterdir()) == []  # the temporary file is gone


def test_run_tests_on_a_workspace_path(ctx, workspace, plain_pytest):
    (workspace / "calc.py").write_text("def double(x):\n    return 2 * x\n")
    (workspace / "test_calc.py").write_text(
        "from calc import double\n\ndef test_double():\n    assert double(2) == 4\n"
    )
    result = run_tests({"path": "test_calc.py"}, ctx)
    assert result.ok and result.output.startswith("pytest: 1 passed (all passed, exit status 0)")
    empty = run_tests({"code": "x = 1\n"}, ctx)
    assert empty.output.startswith("pytest collected no tests")
    with pytest.raises(ToolError, match="give either 'path'"):
        run_tests({}, ctx)


def test_debug_code_points_at_the_failing_line(ctx):
    code = "items = [1, 2]\nprint('start')\nprint(items[5])\n"
    result = debug_code({"code": code, "error": "it crashes"}, ctx)
    lines = result.output.splitlines()
    assert lines[0] == "IndexError: list index out of range"
    assert "  ->   3 | print(items[5])" in lines
    assert any(line.startswith("what it means: a list or tuple index is past its end") for line in lines)
    assert "you reported: it crashes" in lines
    assert result.data == {"exit_status": 1, "exception": "IndexError", "line": 3}


def test_debug_code_syntax_error_and_clean_run(ctx):
    broken = debug_code({"code": "x = (1,\n"}, ctx)
    assert broken.output.startswith("SyntaxError: ") and broken.data["line"] == 1
    clean = debug_code({"code": "print('fine')", "error": "KeyError: 'a'"}, ctx)
    assert clean.output.startswith("the code ran without an exception")
    assert "that error did not happen in this run" in clean.output


def test_a_nul_character_in_an_argument_is_a_clear_error(ctx):
    """It surfaced as "crashed: ValueError: embedded null byte"."""
    from thau_tui.tools.python import run_python

    for tool, args in ((search_docs, {"query": "json\x00x"}), (run_python, {"code": "print(1)\x00"})):
        with pytest.raises(ToolError, match="NUL character"):
            tool(args, ctx)


# Thousands of operators in one expression: Python's own parser gives up on them (RecursionError
# or MemoryError from its stack), and radon's and bandit's tree walkers recurse on what parses.
DEEP = {"plus": "+".join(["1"] * 3000), "minus": "-" * 3000 + "1", "not": "not " * 6000 + "x"}


@pytest.mark.parametrize("kind", ["syntax", "complexity", "security"])
@pytest.mark.parametrize("code", DEEP.values(), ids=DEEP.keys())
def test_analyze_code_says_plainly_when_code_is_nested_too_deeply(ctx, code, kind):
    """It failed with "analyze_code crashed: RecursionError" (syntax, complexity) or blamed
    the syntax (security), which is fine: the nesting is what no tool can walk."""
    output = analyze_code({"code": code, "analysis_type": kind}, ctx).output
    assert output.startswith("the code is nested too deeply to analyse"), output
    assert "split" in output  # and what to do about it


@pytest.mark.parametrize("code", DEEP.values(), ids=DEEP.keys())
def test_debug_code_says_plainly_when_code_is_nested_too_deeply(ctx, code):
    """It failed with "debug_code crashed: RecursionError" (or MemoryError) at compile."""
    result = debug_code({"code": code}, ctx)
    assert result.output.startswith("the code is nested too deeply to analyse"), result.output
    assert not result.ok and result.data["exit_status"] is None


def test_analyze_code_still_handles_moderate_nesting(ctx):
    code = "x = " + "+".join(["1"] * 200) + "\n"
    assert analyze_code({"code": code}, ctx).output.startswith("no syntax errors")
    assert analyze_code({"code": code, "analysis_type": "security"}, ctx).output == "bandit found no security issues"
    assert analyze_code({"code": code, "analysis_type": "complexity"}, ctx).output.startswith("maintainability")


@pytest.mark.parametrize(
    "code",
    ["x = (" + "\n" * 4000 + "1)\n", "s = '''" + "\n" * 4000 + "'''\n", ("x = (" + "\n" * 198 + "1)\n") * 40],
    ids=["open bracket", "long string", "many long statements"],
)
def test_a_complexity_count_whose_time_would_grow_with_the_square_is_refused_at_once(ctx, code):
    """radon tokenizes a statement again at each of its lines: 8 KB with a bracket open over
    4,000 lines took 30 s in thau's process, with no card, and Esc could not stop it (attacker review)."""
    import time

    started = time.monotonic()
    output = analyze_code({"code": code, "analysis_type": "complexity"}, ctx).output
    assert time.monotonic() - started < 2, output
    assert "statements span too many lines" in output and "syntax or security analysis" in output


def test_a_long_literal_is_still_measured(ctx):
    code = "settings = {\n" + "".join(f"    'key{i}': {i},\n" for i in range(150)) + "}\n"
    assert analyze_code({"code": code, "analysis_type": "complexity"}, ctx).output.startswith("maintainability")


def test_run_tests_runs_under_the_shells_process_and_memory_caps(ctx, config, plain_pytest):
    """run_tests passed no memory limit and no process cap: a test could take all the
    machine's memory or fork without end. It now runs under the shell's (tools.shell)."""
    config.tools.shell.max_processes = 40
    config.tools.shell.memory_mb = 300
    code = (
        "import resource\n"
        "def test_limits():\n"
        "    print('NPROC', resource.getrlimit(resource.RLIMIT_NPROC))\n"
        "    print('DATA', resource.getrlimit(resource.RLIMIT_DATA))\n"
        "    assert 0\n"
        "def test_memory():\n"
        "    block = bytearray(600 * 1024 * 1024)\n"
    )
    output = run_tests({"code": code}, ctx).output
    assert output.startswith("pytest: 2 failed"), output
    assert "NPROC (40, 40)" in output and f"DATA ({300 * 1024 * 1024}, {300 * 1024 * 1024})" in output
    assert "MemoryError" in output


def test_run_tests_on_a_project_in_a_subfolder_imports_its_modules(ctx, workspace):
    """run_tests path="proj" gave "No module named 'calc'" (pytest ran from the workspace) and
    called the collection error "some failed" (tools review)."""
    from thau_tui.tools.devtools import run_tests

    project = workspace / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'calc'\nversion = '0'\n")
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (project / "tests" / "test_calc.py").write_text(
        "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n"
    )
    out = run_tests({"path": "proj"}, ctx).output
    assert out.startswith("pytest: 1 failed, 1 passed (some failed"), out
    (project / "tests" / "test_broken.py").write_text("import not_a_module\n")
    out = run_tests({"path": "proj/tests/test_broken.py"}, ctx).output
    assert "stopped while collecting the tests" in out.splitlines()[0], out


def test_search_docs_on_a_module_lists_its_functions(ctx):
    """`search_docs os` gave 6,000 characters of CLASSES cut inside sched_param: the model never
    saw a function of the module (tools review)."""
    from thau_tui.tools.docs_lookup import search_docs

    out = search_docs({"query": "os"}, ctx).output
    assert out.startswith("Python module os") and "FUNCTIONS (" in out and "makedirs" in out and "walk" in out
    assert "search_docs os.NAME gives one's whole page" in out and "[... documentation cut" not in out
    out = search_docs({"query": "json"}, ctx).output
    assert "  dumps(obj, *" in out and "Serialize ``obj`` to a JSON formatted ``str``" in out
    assert "dumps(obj" in search_docs({"query": "json.dumps"}, ctx).output  # a name: its whole page
