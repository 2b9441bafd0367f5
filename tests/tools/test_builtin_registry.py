"""The built-in tools through the real registry: names, schemas, validation messages."""

from __future__ import annotations

from thau_tui.tools import ToolCall, build_registry
from thau_tui.tools.devtools import TOOLS as DEV
from thau_tui.tools.file_search import TOOLS as SEARCH
from thau_tui.tools.files import TOOLS as FILES
from thau_tui.tools.python import TOOLS as PYTHON
from thau_tui.tools.shell import TOOLS as SHELL

MINE = [*SHELL, *PYTHON, *FILES, *SEARCH, *DEV]


def test_contract_names_arguments_and_risks():
    registry = build_registry()
    expected = {
        "run_shell": ({"command"}, "exec"),
        "run_python": ({"code"}, "exec"),
        "read_file": ({"path"}, "read"),
        "write_file": ({"path", "content", "mode"}, "write"),
        "list_directory": ({"path"}, "read"),
        "search_code": ({"pattern", "path"}, "read"),
        "search_docs": ({"query"}, "read"),
        "analyze_code": ({"code", "analysis_type"}, "read"),
        "run_tests": ({"path", "code"}, "exec"),
        "debug_code": ({"code", "error"}, "exec"),
    }
    for name, (arguments, risk) in expected.items():
        tool = registry.get(name)
        assert tool is not None, name
        assert set(tool.parameters["properties"]) == arguments and tool.risk == risk
        assert tool.parameters["additionalProperties"] is False
        assert tool.summary and len(tool.compact()) < 90


def test_compact_lines():
    compact = {tool.name: tool.compact() for tool in MINE}
    assert compact["run_tests"].startswith("run_tests(path?, code?) - ")
    assert compact["write_file"].startswith("write_file(path, content, mode?) - ")
    assert compact["list_directory"].startswith("list_directory(path?) - ")


def test_validation_messages_the_model_can_act_on():
    registry = build_registry()
    mode = registry.validate(ToolCall("write_file", {"path": "a", "content": "b", "mode": "replace"}))
    assert mode == ["write_file.mode must be one of overwrite, append (got 'replace')"]
    missing = registry.validate(ToolCall("run_shell", {}))
    assert missing == ["run_shell: missing required argument 'command'"]
    extra = registry.validate(ToolCall("read_file", {"path": "a", "lines": 3}))
    assert extra == ["read_file: unexpected argument(s) 'lines'; allowed: path"]
    kind = registry.validate(ToolCall("analyze_code", {"code": "x", "analysis_type": "style"}))
    assert kind == ["analyze_code.analysis_type must be one of syntax, security, complexity (got 'style')"]
    assert registry.validate(ToolCall("run_tests", {"code": "def test_a(): pass"})) == []


def test_tool_run_turns_tool_errors_into_failed_results(ctx):
    registry = build_registry()
    result = registry.get("read_file").run({"path": "../outside"}, ctx)
    assert not result.ok
    assert result.output.startswith("read_file failed: path '../outside' is outside the workspace")
