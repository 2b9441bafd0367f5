"""A user:password or a key written into a server's address: thau sends it where it must and
never shows it: not in `thau doctor`, the model picker, an MCP server's notice or its error
(servers review: all four printed it)."""

from __future__ import annotations

import socket

from thau_tui.addresses import hide_url_secrets, shown_url
from thau_tui.config import Config, MCPServerConfig


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_address_is_shown_without_its_secrets():
    assert shown_url("http://alice:S3cretPass@127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert shown_url("https://h.example/mcp?api_key=QSECRET42&team=blue") == "https://h.example/mcp?api_key=…&team=…"
    quoted = "GET http://alice:S3cretPass@h/v1 failed; key QSECRET42 refused"
    hidden = hide_url_secrets(quoted, "http://alice:S3cretPass@h/v1?key=QSECRET42")
    assert "S3cretPass" not in hidden and "QSECRET42" not in hidden and "h/v1" in hidden


def test_doctor_says_where_the_model_server_is_without_its_password():
    from thau_tui.engine.openai_backend import describe_server

    config = Config()
    config.model.backend = "openai"
    config.model.base_url = f"http://alice:S3cretPass@127.0.0.1:{_dead_port()}/v1"
    config.model.connect_timeout = 1
    lines = "\n".join(describe_server(config))
    assert "NOT REACHABLE" in lines and "127.0.0.1" in lines
    assert "S3cretPass" not in lines, lines


def test_an_mcp_servers_failure_is_told_without_the_secrets_in_its_address():
    from thau_tui.tools.mcp_client import describe_mcp

    port = _dead_port()
    config = Config()
    config.mcp.servers = [
        MCPServerConfig(name="creds", url=f"http://bob:MCPpass99@127.0.0.1:{port}/mcp"),
        MCPServerConfig(name="query", url=f"http://127.0.0.1:{port}/mcp?api_key=QSECRET42"),
    ]
    lines = "\n".join(describe_mcp(config))
    assert lines.count("FAILED") == 2 and f"127.0.0.1:{port}" in lines, lines
    assert "MCPpass99" not in lines and "QSECRET42" not in lines, lines


def test_a_key_in_the_model_servers_query_is_refused_without_being_shown():
    """?key=SECRET in model.base_url was printed in full by -m and the chat's notice, and the
    request went to /v1?key=SECRET/v1/models, so such an address never worked (attacker re-review)."""
    import pytest

    from thau_tui.engine.backend import ModelLoadError
    from thau_tui.engine.openai_backend import OpenAiBackend

    with pytest.raises(ModelLoadError) as refused:
        OpenAiBackend(f"http://127.0.0.1:{_dead_port()}/v1?key=SECRETQ123", timeout=1)
    said = str(refused.value)
    assert "holds a query" in said and "model.api_key_env" in said and "SECRETQ123" not in said, said
