"""Example plugin: count the lines, words and characters of a text (or of a workspace file).

Copy this file to start your own tool; thau picks up changes while it runs.
"""

from thau_tui.tools import ToolError
from thau_tui.tools.workspace import resolve_in_workspace

NAME = "word_count"
DESCRIPTION = "Count the lines, words and characters of a text, or of a text file in the workspace."
SUMMARY = "count lines, words and characters"
RISK = "read"
PARAMETERS = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "The text to count"},
        "path": {"type": "string", "description": "A text file in the workspace to count instead"},
    },
    "additionalProperties": False,
}


def run(args, ctx):
    """Return one line: N lines, N words, N characters."""
    if "path" in args:
        text = resolve_in_workspace(ctx.workspace, args["path"]).read_text(encoding="utf-8", errors="replace")
    elif "text" in args:
        text = args["text"]
    else:
        raise ToolError("give 'text' or 'path'")
    return f"{len(text.splitlines())} lines, {len(text.split())} words, {len(text)} characters"
