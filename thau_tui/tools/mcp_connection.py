"""One configured MCP server as `mcp_client.MCPManager` holds it: its state, its transport
(stdio, started to end with thau: mcp_lifetime.py; or streamable HTTP), the credentials a
`url:` server sends, its stderr log, and a failure put in a sentence.

A `url:` server's credentials come from environment variables named in its entry
(api_key_env, headers_env); their values never appear in notices or logs.
Starting, watching and restarting servers stay in mcp_client.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TextIO

from ..addresses import hide_url_secrets, plain_http_refusal, secret_may_go_to
from .base import ToolError
from .mcp_tools import defang, tool_count
from .sandbox import sandbox_kind, sandbox_prefix

if TYPE_CHECKING:
    from mcp import ClientSession

    from thau_tui.config import Config, MCPServerConfig

_STDERR_LINES = 4


@dataclass
class ServerState:
    """Where one server stands, for notices and `thau doctor`."""

    name: str
    status: str = "starting"  # starting, ready, failed, disabled, stopped
    error: str = ""
    tools: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # tools not added, each with why
    note: str = ""  # what else a ready server did wrong (Connection.not_protocol_note)

    def line(self) -> str:
        """One line: `mcp NAME: ready, 3 tools (a, b, c)` or why it is not."""
        if self.status == "ready":
            shown = ", ".join(self.tools[:8]) + (", …" if len(self.tools) > 8 else "")
            text = f"mcp {self.name}: ready, {tool_count(len(self.tools))}" + (f" ({shown})" if shown else "")
            if self.rejected:
                text += f"; not added: {'; '.join(self.rejected)}"
            return text + self.note
        if self.status == "failed":
            return f"mcp {self.name}: FAILED: {self.error}"
        return f"mcp {self.name}: {self.status}" + (f" ({self.error})" if self.error else "")


class MCPConfigError(Exception):
    """A server's entry cannot be used as it is (a variable it names is not set)."""


def request_headers(config: MCPServerConfig) -> dict[str, str]:
    """The headers a url server gets: Authorization from api_key_env, the rest from headers_env."""
    headers = {}
    wanted = dict(config.headers_env)
    if config.api_key_env:
        wanted["Authorization"] = config.api_key_env
    for header, variable in wanted.items():
        value = os.environ.get(variable)
        if not value:
            field_name = (
                "api_key_env" if variable == config.api_key_env and header == "Authorization" else "headers_env"
            )
            raise MCPConfigError(
                f"its {field_name} names the environment variable {variable}, which is not set: "
                f"export {variable}=<the secret> before starting thau"
            )
        headers[header] = f"Bearer {value}" if header == "Authorization" and config.api_key_env == variable else value
    if headers and config.url and not secret_may_go_to(config.url):
        raise MCPConfigError(plain_http_refusal(config.url, "the secrets in its api_key_env/headers_env"))
    return headers


def leaf(exc: BaseException) -> BaseException:
    """The first real error inside anyio's exception groups."""
    while True:
        inner = getattr(exc, "exceptions", None)
        if not (isinstance(inner, (list, tuple)) and inner):
            return exc
        exc = inner[0]


MAX_LOG_BYTES = 1_000_000  # a running server's stderr log is cut back past this
LOG_KEPT_BYTES = 65_536  # to its last part


class Connection:
    """One configured server: its state, and its session while it is up."""

    def __init__(self, config: MCPServerConfig) -> None:
        self.config = config
        self.task: asyncio.Task[None] | None = None  # its supervisor, on the MCP loop
        self.stopper: Any = None  # the supervisor's anyio CancelScope
        self.http_status: int | None = None  # a url server's last refusal (401, ...)
        self.refused_reply: str | None = None  # why thau last stopped reading a url server's reply (mcp_http)
        self.state = ServerState(config.name, "starting" if config.enabled else "disabled")
        self.session: ClientSession | None = None
        self.names: dict[str, str] = {}  # registry name -> the server's own tool name
        self.dead: asyncio.Event | None = None
        self.in_flight = 0
        self.settled = threading.Event()  # the first start ended, ready or not
        self.log_path: Path | None = None
        self.log_offset = 0
        self.ready_at = 0.0  # time.monotonic() of its last start that listed its tools
        self.announced = False  # its tools were named in a notice since the last failure told
        self.told = ""  # the last failure a notice told of it (said once until it changes)
        self.not_protocol: str | None = None  # the first stdout line that was not an MCP message
        self.retired = ""  # why thau stopped it for good (its entry changed or went), for a call it cut
        # Set by `heard` when the server says its tool list changed; MCPManager._watch lists
        # them again (not here: the SDK awaits this handler in its reader, which the answer needs).
        self.tools_changed: asyncio.Event | None = None
        self.held = False  # mcp_connection.held for the config it was started with (transport)
        self.pid: int | None = None  # a stdio server's process (and process group) while it may run

    async def heard(self, message: object) -> None:
        """ClientSession's message_handler: keeps the first line a server wrote on its stdout
        that is not a protocol message (a "Welcome" banner made it time out unexplained), and
        notes notifications/tools/list_changed."""
        from mcp.types import ToolListChangedNotification

        if isinstance(message, ToolListChangedNotification) and self.tools_changed is not None:
            self.tools_changed.set()
        if isinstance(message, Exception) and self.not_protocol is None:
            errors = getattr(message, "errors", None)
            first = errors()[0] if callable(errors) and errors() else {}
            line = first.get("input") if isinstance(first, dict) else None
            self.not_protocol = line if isinstance(line, str) else str(message)
            self.state.note = self.not_protocol_note()  # a server that answers anyway: doctor names it

    def not_protocol_note(self) -> str:
        """Why a stdio server's start got no answer, when it wrote something else on stdout."""
        if not self.not_protocol or not self.config.command:
            return ""
        line = defang(self.not_protocol.strip()[:80])
        return (
            f"; on its standard output it wrote {line!r}, which is not an MCP message "
            "(a stdio server writes only protocol messages there, and its logs to stderr)"
        )

    def transport(
        self, stack: contextlib.AsyncExitStack, log_folder: Path, workspace: Path | None, config: Config | None
    ) -> Any:
        """The SDK's client transport to this server, to enter in `stack`: streamable HTTP for
        a `url:` server, stdio for a command (its stderr in `log_folder`; started so that it
        ends with thau: mcp_lifetime)."""
        cfg = self.config
        # What this start's sandbox holds, kept for every later tool list: a relist after
        # tools.shell.network was turned off read the new config, so a server still running
        # with the network had its read-only tools run without a card (attacker review).
        self.held = held(cfg, config)
        if cfg.url:
            from .mcp_http import bounded_client, http_transport

            def refused(reason: str) -> None:
                self.refused_reply = reason

            # Replies read with a bound, never unpacked: a 1.5 GB one took doctor to 6.6 GB (servers review)
            client = bounded_client(request_headers(cfg), refused)
            self.http_status, self.refused_reply = None, None

            async def note_status(response: Any) -> None:
                # The SDK turns a 401 into "Server returned an error response": keep the status.
                if response.status_code >= 400:
                    self.http_status = response.status_code

            client.event_hooks["response"].append(note_status)
            stack.push_async_callback(client.aclose)
            return http_transport(cfg.url, client)
        from mcp import stdio_client

        from .mcp_lifetime import ON_SPAWN, dies_with_thau, note_server_pids
        from .mcp_stdio import ON_TOO_LONG, bound_stdio_lines

        params = dies_with_thau(stdio_params(cfg, workspace, config), cfg.sandbox)
        errlog = stack.enter_context(self.errlog(log_folder))
        if bound_stdio_lines():  # the reason a runaway line closed it goes in the server's log
            ON_TOO_LONG.set(lambda reason: print(reason, file=errlog, flush=True))
        if note_server_pids():  # what is left of it is ended after the SDK's shutdown (end_group)
            ON_SPAWN.set(self.spawned)
        return stdio_client(params, errlog=errlog)

    def spawned(self, pid: int) -> None:
        """mcp_lifetime.ON_SPAWN: the stdio server just started is `pid`."""
        self.pid = pid

    def end_group(self) -> None:
        """SIGKILL what is left of this server's process group (mcp_lifetime.end_group): the
        server, if it outlived the SDK's shutdown, and the children it started."""
        from .mcp_lifetime import end_group

        pid, self.pid = self.pid, None
        if pid is not None:
            end_group(pid)

    @contextlib.contextmanager
    def errlog(self, folder: Path) -> Iterator[TextIO]:
        """The server's stderr goes to a log file in `folder` (never onto thau's screen); its
        last lines explain a failed start or a crash."""
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / f"{self.config.name}.log"
        if self.log_path.exists() and self.log_path.stat().st_size > MAX_LOG_BYTES:
            self.log_path.unlink()
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as handle:
            handle.write(f"--- started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            handle.flush()
            self.log_offset = handle.tell()
            yield handle

    def trim_log(self) -> None:
        """Keep a running server's stderr log to its last LOG_KEPT_BYTES once it has grown
        past MAX_LOG_BYTES (it was trimmed only at the next start: a chatty server's log
        grew while thau ran). The server appends (O_APPEND), so it goes on at the new end.
        Checked at each ping (PING_EVERY_S): a flood can pass the mark in between. A server
        that wants to fill the disk can write files anyway; this keeps a chatty one in hand."""
        if self.log_path is None or os.name == "nt":  # Windows only emulates O_APPEND: cut at the next start
            return
        try:
            with open(self.log_path, "r+b") as log:
                size = log.seek(0, os.SEEK_END)
                if size <= MAX_LOG_BYTES:
                    return
                log.seek(size - LOG_KEPT_BYTES)
                # to the end as it is now; only what the server appends in the instant between
                # this read and the truncate is lost (a log, not a record)
                kept = log.read()
                log.seek(0)
                log.write(b"--- earlier lines cut: the log keeps its last part while the server runs\n" + kept)
                log.truncate()
                self.log_offset = 0
        except OSError:  # a log that cannot be trimmed costs nothing else
            pass

    def stderr_tail(self) -> str:
        """What the server last wrote on stderr since this start, as ` (it said: ...)`."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as handle:  # the last 4,000 bytes only: the log can be large
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(self.log_offset, size - 4000))
                text = handle.read().decode("utf-8", errors="replace")
                lines = [line.strip() for line in text.splitlines() if line.strip()]
        except OSError:
            return ""
        if not lines:
            return ""
        said = defang(" / ".join(lines[-_STDERR_LINES:]))
        return f" (it said: {said if len(said) <= 400 else '…' + said[-399:]})"  # its last words count most

    def broken_reply(self, message: str, said: str) -> str:
        """What a call tells the model when the SDK's error `message` (`said`: as shown) says a
        url server's reply stream broke on the way (mcp_http.stream_broke); "" when it does not."""
        from .mcp_http import broken_stream, stream_broke

        return stream_broke(self.config.name, said) if self.config.url and broken_stream(message) else ""

    def answers_ping(self, loop: asyncio.AbstractEventLoop, timeout: float = 3.0) -> bool:
        """Whether the server still answers a ping (from a thread other than `loop`'s). The
        SDK gives a closed connection the code -32000, and servers give the same code to any
        failure of their own (JSON-RPC's range for server errors): only this tells them apart."""
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED

        if self.session is None:
            return False
        ping = asyncio.run_coroutine_threadsafe(self.session.send_ping(), loop)
        try:
            ping.result(timeout=timeout)
        except MCPError as exc:
            return exc.code != CONNECTION_CLOSED  # "method not found" is an answer too
        except Exception:  # no reply in time, or the loop is gone
            ping.cancel()
            return False
        return True

    def explain(self, exc: BaseException) -> str:
        """A failed start or a lost connection, in a sentence; a user:password or query value
        of the server's address never in it (it was on screen and in doctor: servers review)."""
        said = self._explain(exc)
        return hide_url_secrets(said, self.config.url) if self.config.url else said

    def _explain(self, exc: BaseException) -> str:
        cfg = self.config
        if isinstance(exc, MCPConfigError):
            return str(exc)
        status = getattr(getattr(exc, "response", None), "status_code", None) or self.http_status
        if cfg.url and status in (401, 403):
            named = ", ".join(filter(None, [cfg.api_key_env, *cfg.headers_env.values()]))
            return f"{cfg.url} refused thau's credentials ({status}): " + (
                f"check the value in ${named}" if named else "name the variable holding a token in api_key_env"
            )
        tail = self.stderr_tail()
        if isinstance(exc, FileNotFoundError) and cfg.command:
            return f"cannot run `{cfg.command}`: no such program (is it installed and on PATH?)"
        if isinstance(exc, PermissionError) and cfg.command:
            return f"cannot run `{cfg.command}`: permission denied"
        if isinstance(exc, TimeoutError):
            return f"{exc}{tail}"
        name = type(exc).__name__
        errors = getattr(exc, "errors", None)
        if name == "ValidationError" and callable(errors):  # pydantic: the SDK read a malformed message
            first = errors()[0] if errors() else {}
            where = ".".join(str(part) for part in first.get("loc", ()))
            return defang(f"it sent a message that breaks the MCP protocol ({where}: {first.get('msg', exc)})")
        message = defang(getattr(exc, "message", None) or exc or name)
        if self.refused_reply and self.refused_reply in message:  # not the SDK's "Failed to parse JSON response"
            return f"{cfg.url}: {self.refused_reply}"
        if name == "MCPError" and "closed" in message.lower():
            return f"it exited or closed the connection{tail}" if cfg.command else f"the connection closed{tail}"
        if cfg.url:
            return f"cannot talk to {cfg.url}: {message}"
        return f"{message}{tail}"


def sandboxed(
    cfg: MCPServerConfig, argv: list[str], workspace: Path | None, config: Config | None
) -> tuple[str, list[str]]:
    """`argv` wrapped in the shell's sandbox (bubblewrap or sandbox-exec), for a server with
    `sandbox: true`, as (command, args); MCPConfigError when there is no sandbox to run it in."""
    folder = (workspace or Path.cwd()).resolve()
    try:
        kind, why = sandbox_kind(config)
        writable = not cfg.read_only
        prefix = sandbox_prefix(folder, config, writable=writable, outside_workspace=True) if kind != "none" else []
    except ToolError as exc:
        why, prefix = str(exc), []
    if not prefix:
        raise MCPConfigError(
            f"sandbox: true, but there is no sandbox to run it in ({why}); "
            "install bubblewrap (Linux) or set sandbox: false for this server"
        )
    return prefix[0], [*prefix[1:], *argv]


def stdio_params(cfg: MCPServerConfig, workspace: Path | None, config: Config | None) -> Any:
    """How to start a command server: the SDK's StdioServerParameters. Its environment is
    cfg.env plus the variables it names; it starts never in the workspace, sandboxed or not:
    a tool (or a cloned repository) can put files there that a server would pick up from its
    working folder (a module for `python -m`, an .npmrc for npx). An empty folder of thau's
    own instead; in bubblewrap the sandbox's own empty /tmp (sandboxed's --chdir)."""
    from mcp import StdioServerParameters

    from ..paths import start_folder

    env = dict(cfg.env)
    env.update({name: os.environ[name] for name in cfg.env_passthrough if name in os.environ})
    command, args = str(cfg.command), server_args(cfg.args, workspace)
    if cfg.sandbox:
        command, args = sandboxed(cfg, [command, *args], workspace, config)
    else:
        command = outside_command(command, workspace, config)
    return StdioServerParameters(command=command, args=args, env=env, cwd=str(start_folder()))


def outside_command(command: str, workspace: Path | None, config: Config | None) -> str:
    """The program a server without a sandbox runs, by its full path, never one PATH finds in
    the workspace: an `uvx` in an activated .venv/bin there, which a sandboxed tool can
    write, ran outside any sandbox at thau's start (attacker review). A path the user wrote
    in `command` is taken as it is."""
    from ..host_programs import host_program, workspace_copy

    configured = config.tools.workspace if config is not None else None
    found = host_program(command, workspace, configured)
    if found is not None:
        return found
    planted = workspace_copy(command, workspace, configured)
    if planted is not None:
        raise MCPConfigError(
            f"`{command}` is found only at {planted}, in the workspace, which tools can write, so thau "
            "does not run it outside the sandbox; set sandbox: true, or write its full path in `command`"
        )
    return command  # not found: starting it says so


def held(cfg: MCPServerConfig, config: Config | None) -> bool:
    """Whether the server cannot change the workspace or reach the network, so that a tool
    of it that says it only reads may run without a card: sandboxed with `read_only: true`
    and tools.shell.network off. In a writable workspace a read-only tool can still be
    made to write (git_status runs a planted repository's core.fsmonitor)."""
    from .workspace import shell_settings

    return cfg.sandbox and cfg.read_only and not shell_settings(config).network


def server_args(args: list[str], workspace: Path | None) -> list[str]:
    """A command server's arguments, where `{workspace}`, and a lone `.` (`--repository .`),
    stand for the workspace: the server does not start in it (see `paths.start_folder`)."""
    if workspace is None:
        return list(args)
    where = str(workspace)
    return [where if arg == "." else arg.replace("{workspace}", where) for arg in args]


async def list_all_tools(session: ClientSession, max_pages: int) -> list[Any]:
    """A server's tools, its tools/list pages read one after another (at most max_pages)."""
    tools: list[Any] = []
    cursor = None
    for _ in range(max_pages):
        if cursor is None:
            page = await session.list_tools()
        else:
            from mcp.types import PaginatedRequestParams

            page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools
