"""A `url:` MCP server, plain HTTP on the port given as its argument, speaking just enough
MCP (initialize, tools/list, ping) to be taken on; a tools/call gets an event stream that
ends with no event in it: the reply breaks on the way, the server refused nothing."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, body: bytes, status: int = 200, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        method = request.get("method")
        if "id" not in request:
            return self.reply(b"", 202)

        def answer(result: dict) -> bytes:
            return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()

        if method == "initialize":
            return self.reply(
                answer(
                    {
                        "protocolVersion": request["params"]["protocolVersion"],
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "broken", "version": "1"},
                    }
                )
            )
        if method == "tools/list":
            tool = {"name": "fetch", "description": "a reply that breaks", "inputSchema": {"type": "object"}}
            return self.reply(answer({"tools": [tool]}))
        if method == "tools/call":
            return self.reply(b"", kind="text/event-stream")
        return self.reply(answer({}))

    def do_GET(self) -> None:  # no stream of server messages
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_DELETE = do_GET


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
