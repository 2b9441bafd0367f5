"""mcp.servers in config.yaml: the README's example parses, and mistakes are named."""

from __future__ import annotations

import pytest

from thau_tui.config import parse_config

EXAMPLE = """
mcp:
  servers:
    - name: git
      command: uvx
      args: [mcp-server-git, --repository, .]
    - name: github
      url: http://127.0.0.1:8931/mcp
      enabled: false
    - name: notes
      command: python
      args: [notes_server.py]
      env: {NOTES_DIR: /tmp/notes}
      env_passthrough: [GITHUB_TOKEN]
      trust_hints: false
      call_timeout: 30
"""


def test_servers_parse_with_their_defaults():
    git, github, notes = parse_config(EXAMPLE).mcp.servers
    assert (git.command, git.args, git.url, git.enabled) == ("uvx", ["mcp-server-git", "--repository", "."], None, True)
    assert git.trust_hints and git.startup_timeout == 30 and git.call_timeout == 120
    assert github.url == "http://127.0.0.1:8931/mcp" and not github.enabled and github.command is None
    assert notes.env == {"NOTES_DIR": "/tmp/notes"} and notes.env_passthrough == ["GITHUB_TOKEN"]
    assert not notes.trust_hints and notes.call_timeout == 30


@pytest.mark.parametrize(
    "servers, message",
    [
        ("- {name: git}", "mcp.servers.0: server 'git' needs one of command (stdio) or url"),
        ("- {name: git, command: x, url: 'http://h/mcp'}", "server 'git' needs one of command (stdio) or url"),
        ("- {name: a, command: x}\n    - {name: a, command: y}", "two servers are named a; each needs its own name"),
        ("- {name: 'my server', command: x}", "mcp.servers.0.name: String should match pattern"),
        # gh__issues + create and gh + issues__create would both be gh__issues__create
        ("- {name: gh__issues, command: x}", "no '__' in a server's name and no '_' at its end"),
        ("- {name: gh_, command: x}", "no '__' in a server's name and no '_' at its end"),
        ("- {name: git, command: x, timeout: 3}", "mcp.servers.0.timeout: unknown key"),
        ("- {name: gh, url: 'http://h/mcp', sandbox: true}", "server 'gh': sandbox is for a command server"),
    ],
)
def test_mistakes_are_named(servers, message):
    with pytest.raises(ValueError) as error:
        parse_config(f"mcp:\n  servers:\n    {servers}\n")
    assert message in str(error.value)


def test_the_readmes_worked_example_is_a_valid_config():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### MCP servers") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml\n") + 8)]
    config = parse_config(example)
    assert [s.name for s in config.mcp.servers] == ["git", "github", "notes"]
    assert config.tools.policy == {"notes__list_notes": "auto", "git__git_reset": "deny"}
    assert config.mcp.servers[0].sandbox  # its read-only tools run unasked only so (test_mcp_read_hints.py)
