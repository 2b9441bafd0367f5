"""A `url:` MCP server's replies are read with a bound (tools/mcp_http.py): a server that
answered with a 1.5 GB application/json body took `thau doctor` to 6.6 GB before it
failed, and a compressed body is the same attack in a smaller parcel (servers review).

The server here is a plain HTTP server run on a local port, speaking just enough MCP
(initialize, tools/list, ping) to be taken on; what it was asked and how much of each
reply it managed to write go in a log, so a test sees that thau stopped reading early."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from mcp_support import wait_for
from test_mcp_http import free_port, listening

from thau_tui.config import MCPServerConfig
from thau_tui.tools import ToolContext
from thau_tui.tools.mcp_http import MAX_REPLY_BYTES

SERVER = textwrap.dedent(
    """
    import json, os, sys, zlib
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

    BIG_ON, BIG = os.environ["BIG_ON"], int(os.environ["BIG_BYTES"])
    LOG = open(os.environ["BIG_LOG"], "a", buffering=1)
    BLOCK = b"A" * (1 << 20)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, body, status=200, encoding=None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            method = req.get("method")
            LOG.write(f"{method} accept-encoding={self.headers.get('Accept-Encoding')}\\n")
            if "id" not in req:
                return self.reply(b"", 202)
            answer = lambda result: json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode()
            if method == BIG_ON and os.environ.get("BIG_GZIP"):
                # BIG bytes of JSON in a gzip stream of a few hundred KB
                pack = zlib.compressobj(9, zlib.DEFLATED, 31)
                head = ('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"' % json.dumps(req["id"]))
                body = [pack.compress(head.encode())]
                body += [pack.compress(BLOCK) for _ in range(BIG >> 20)]
                body.append(pack.compress(b'"}]}}') + pack.flush())
                return self.reply(b"".join(body), encoding="gzip")
            if method == BIG_ON:
                head = ('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"' % json.dumps(req["id"]))
                tail = b'"}]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + BIG + len(tail)))
                self.end_headers()
                wrote = 0
                try:
                    self.wfile.write(head.encode())
                    for _ in range(BIG >> 20):
                        self.wfile.write(BLOCK)
                        wrote += len(BLOCK)
                    self.wfile.write(tail)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                LOG.write(f"wrote {wrote} of {BIG}\\n")
                return
            if method == "initialize":
                return self.reply(answer({
                    "protocolVersion": req["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "big", "version": "1"},
                }))
            if method == "tools/list":
                flood = {"name": "flood", "description": "a long reply", "inputSchema": {"type": "object"}}
                return self.reply(answer({"tools": [flood]}))
            return self.reply(answer({}))

        def do_GET(self):  # no stream of server messages
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_DELETE = do_GET

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)

# Past the bound by enough that the socket buffers (a few MB) cannot hide a whole read.
OVERSIZED = MAX_REPLY_BYTES + (64 << 20)


@pytest.fixture
def big_server(tmp_path):
    """big_server(big_on, gzip=False) -> (url, log path): the server above, on a free port."""
    processes = []

    def start(big_on: str, gzip: bool = False):
        script, log, port = tmp_path / "big_server.py", tmp_path / "big.log", free_port()
        script.write_text(SERVER)
        env = {**os.environ, "BIG_ON": big_on, "BIG_BYTES": str(OVERSIZED), "BIG_LOG": str(log)}
        if gzip:
            env["BIG_GZIP"] = "1"
        process = subprocess.Popen([sys.executable, str(script), str(port)], env=env, stderr=subprocess.DEVNULL)
        processes.append(process)
        wait_for(lambda: listening(port) or process.poll() is not None, 60, "the HTTP server")
        assert process.poll() is None, "the server did not start"
        return f"http://127.0.0.1:{port}/mcp", log

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def written(log) -> int:
    """How many bytes of the oversized reply the server got into the connection."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("wrote ")]
    assert lines, "the server never answered with its oversized reply"
    return int(lines[-1].split()[1])


def test_an_oversized_reply_to_a_tool_call_is_cut_at_the_bound(start_servers, big_server, tmp_path):
    url, log = big_server("tools/call")
    manager, registry, _ = start_servers(MCPServerConfig(name="big", url=url, call_timeout=60))
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    result = registry.get("big__flood").run({}, ToolContext(workspace=tmp_path))
    said = result.output
    assert not result.ok, said[:300]
    assert "the MCP server 'big' answered, but thau stopped reading" in said, said[:300]
    assert "refused the call" not in said and "Failed to parse" not in said  # the SDK's words, not thau's
    assert f"thau stopped reading its reply past {MAX_REPLY_BYTES // 2**20} MB" in said, said[:300]
    # Refused before the body was read whole: the server's writes failed short of its end.
    wait_for(lambda: "wrote " in log.read_text(), 30, "the server to give up writing")
    assert written(log) < MAX_REPLY_BYTES + (32 << 20) < OVERSIZED
    # the connection was dropped, not the server: its next call is answered (and cut again)
    assert manager.states()[0].status == "ready"
    again = registry.get("big__flood").run({}, ToolContext(workspace=tmp_path))
    assert not again.ok and "stopped reading its reply past" in again.output


def test_an_oversized_reply_at_the_start_fails_the_server_with_the_bound_named(start_servers, big_server):
    url, log = big_server("initialize")
    manager, registry, notices = start_servers(MCPServerConfig(name="big", url=url, startup_timeout=60))
    state = manager.states()[0]
    assert state.status == "failed"
    assert state.line() == (
        f"mcp big: FAILED: {url}: thau stopped reading its reply past {MAX_REPLY_BYTES // 2**20} MB, the most it "
        "takes from an MCP server (a runaway output, or a result far larger than any thau takes)"
    )
    assert "MCP server 'big' did not start" in notices.text()
    assert written(log) < MAX_REPLY_BYTES + (32 << 20)
    assert not any(name.startswith("big__") for name in registry.names())


def test_a_compressed_reply_is_refused_unread(start_servers, big_server, tmp_path):
    url, log = big_server("tools/call", gzip=True)
    manager, registry, _ = start_servers(MCPServerConfig(name="big", url=url, call_timeout=60))
    assert manager.states()[0].status == "ready", manager.states()[0].line()
    result = registry.get("big__flood").run({}, ToolContext(workspace=tmp_path))
    said = result.output
    assert not result.ok, said[:300]
    assert "the MCP server 'big'" in said and "sent its reply compressed (gzip)" in said, said[:300]
    # thau asked for replies as they are, on every request
    asked = [line for line in log.read_text().splitlines() if "accept-encoding=" in line]
    assert asked and all(line.endswith("accept-encoding=identity") for line in asked), asked
