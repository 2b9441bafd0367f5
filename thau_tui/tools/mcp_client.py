"""MCP servers' tools in the registry, through the official `mcp` SDK.

One long-lived thread runs an asyncio loop that holds every server's ClientSession
(stdio or streamable HTTP). Each server has a supervisor task there: start it, list its
tools into the registry, ping it while idle, and when it fails to start, crashes or stops
answering, take its tools out, say why (`on_notice`) and start it again after a pause.
Tool calls come from the agent's tool threads through `MCPManager.call`, a synchronous
wrapper with the server's call timeout, the user's cancel (Esc) and progress reporting.
`MCPManager.update` applies a changed mcp.servers (config.yaml reloaded): servers whose
entry changed or went are stopped, new ones start, the rest keep running.
A server that says its tools changed (notifications/tools/list_changed) is listed again
and its tools replaced (mcp_server_tools.py). A stdio server ends with thau however thau
ends (mcp_lifetime.py).
One server's state, its transport, its `url:` credentials (api_key_env, headers_env: their
values never appear in notices or logs), its stderr log and its failures in a sentence are
in mcp_connection.py; ServerState, MCPConfigError and request_headers stay importable here.
Nothing here can take thau down: every failure becomes a sentence.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .base import PROGRESS_LABEL_CHARS, ToolContext, ToolError, ToolResult
from .mcp_connection import Connection, leaf, list_all_tools
from .mcp_connection import MCPConfigError as MCPConfigError
from .mcp_connection import ServerState as ServerState
from .mcp_connection import request_headers as request_headers
from .mcp_server_tools import add_tools, drop_tools, relist, replace_tools
from .mcp_tools import MAX_ERROR_CHARS, _cap, defang, tool_count, tool_result
from .registry import ToolRegistry

if TYPE_CHECKING:
    from mcp import ClientSession

    from thau_tui.config import Config, MCPServerConfig

log = logging.getLogger(__name__)

# (text, severity) with Textual's severities: "information", "warning", "error".
Notice = Callable[[str, str], None]

PING_EVERY_S = 5.0  # an idle server is pinged this often: a crash or a hang shows within seconds
PING_TIMEOUT_S = 10.0
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
STABLE_S = 60.0  # ready this long, a server that fails again is restarted after RETRY_FIRST_S
STOP_TIMEOUT_S = 8.0
OUTPUT_LIMIT = 16_000
MAX_PAGES = 10  # tools/list pages read from one server
RELIST_EVERY_S = 1.0  # a server that says "my tools changed" again and again is listed this often at most


class MCPManager:
    """Starts the configured MCP servers in the background and keeps their tools in `registry`."""

    def __init__(
        self,
        servers: Iterable[MCPServerConfig],
        registry: ToolRegistry,
        *,
        workspace: Path | None = None,
        on_notice: Notice | None = None,
        images_dir: Path | None = None,
        log_dir: Path | None = None,
        output_limit: int = OUTPUT_LIMIT,
        config: Config | None = None,
    ) -> None:
        self.registry = registry
        self.workspace = workspace
        self.config = config  # for `sandbox: true` servers: the sandbox's settings (tools.shell)
        self.on_notice = on_notice
        self._images_dir, self._log_dir = images_dir, log_dir
        self.output_limit = output_limit
        self._connections = {c.name: Connection(c) for c in servers}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._updating = threading.Lock()  # one update at a time (two quick config saves)

    # --- lifetime (any thread) ------------------------------------------------------
    def start(self) -> "MCPManager":
        """Start every enabled server in the background; returns at once."""
        enabled = [c for c in self._connections.values() if c.config.enabled]
        for conn in self._connections.values():
            if not conn.config.enabled:
                conn.settled.set()
        if not enabled or self._loop is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="thau-mcp", daemon=True)
        self._thread.start()

        async def begin() -> None:
            for conn in enabled:
                conn.task = asyncio.get_running_loop().create_task(self._supervise(conn))

        asyncio.run_coroutine_threadsafe(begin(), self._loop).result()
        return self

    def update(self, servers: Iterable[MCPServerConfig], timeout: float = STOP_TIMEOUT_S) -> None:
        """Apply a new mcp.servers: a server whose entry changed or went is stopped (its tools
        leave the registry), a new or changed one starts; an unchanged one keeps running.
        Blocking (up to `timeout` for the stops): call it from a worker thread."""
        with self._updating:
            self._update({c.name: c for c in servers}, timeout)

    def _update(self, wanted: dict[str, MCPServerConfig], timeout: float) -> None:
        gone = [conn for name, conn in self._connections.items() if name not in wanted or wanted[name] != conn.config]
        fresh = [
            Connection(cfg)
            for name, cfg in wanted.items()
            if name not in self._connections or self._connections[name].config != cfg
        ]
        for conn in gone:  # a call it is running says why it ended (MCP review)
            cfg = wanted.get(conn.config.name)
            conn.retired = (
                "its entry went"
                if cfg is None
                else "its entry changed" + ("; it starts again with the new one" if cfg.enabled else "")
            )
        loop = self._loop
        if loop is not None and gone:

            async def stop_gone() -> None:
                for conn in gone:
                    await self._end(conn)

            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(stop_gone(), loop).result(timeout)
        for conn in gone:
            self._drop_tools(conn)
        kept = {name: conn for name, conn in self._connections.items() if conn not in gone}
        self._connections = {name: kept.get(name) or next(c for c in fresh if c.config.name == name) for name in wanted}
        for conn in fresh:
            if not conn.config.enabled:
                conn.settled.set()
        starting = [c for c in fresh if c.config.enabled]
        if not starting:
            return
        if self._loop is None:
            self._stopping.clear()
            self.start()  # starts every enabled server: the kept ones were not running
            return

        async def begin() -> None:
            for conn in starting:
                conn.task = asyncio.get_running_loop().create_task(self._supervise(conn))

        asyncio.run_coroutine_threadsafe(begin(), self._loop).result()

    async def _end(self, conn: Connection) -> None:
        """Cancel one server's supervisor: its contexts unwind (a stdio server's stdin closes,
        then it is ended)."""
        task, conn.task = conn.task, None
        if task is not None and not task.done():
            # Through its anyio scope: a native task.cancel() broke into the SDK's shielded
            # shutdown, and a server blocked writing to a full pipe was left running (MCP review)
            if conn.stopper is not None:
                conn.stopper.cancel()
            else:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn.state.status = "stopped" if conn.config.enabled else "disabled"

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every server's first start has ended (ready or failed); False on timeout
        (default: the longest startup_timeout, and a second)."""
        if timeout is None:
            timeout = max((c.config.startup_timeout for c in self._connections.values()), default=0) + 1
        deadline = time.monotonic() + timeout
        return all(c.settled.wait(max(0.0, deadline - time.monotonic())) for c in self._connections.values())

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stop every server (a stdio server's process is ended) and take its tools out.
        True when every server had stopped within `timeout` (False: some were left to die
        with the loop)."""
        self._stopping.set()
        loop = self._loop
        if loop is None:
            return True

        async def shutdown() -> None:
            await asyncio.gather(*(self._end(conn) for conn in self._connections.values()))

        clean = False
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
            clean = True
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        for conn in self._connections.values():
            # One still in the SDK's shutdown (SIGTERM ignored: the SDK's SIGKILL comes 4 s in), and
            # its children: ended here, or they outlived thau's quit (eco review, 2026-12-07 night)
            conn.end_group()
            self._drop_tools(conn)
            if conn.state.status != "disabled":
                conn.state.status = "stopped"
        self._loop = None
        return clean

    def states(self) -> list[ServerState]:
        """Every configured server's state, in config order."""
        return [c.state for c in self._connections.values()]

    # --- calls (the agent's tool threads) --------------------------------------------
    def call(self, server: str, tool: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Run one tool on its server: wait for the result, the call timeout or Esc."""
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED

        conn = self._connections[server]
        session, loop = conn.session, self._loop
        if session is None or loop is None or conn.state.status != "ready":
            why = conn.state.error or conn.state.status
            raise ToolError(f"the MCP server '{server}' is not running ({why}); its tools return once it is back")
        timeout = conn.config.call_timeout

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            # cut before defang reads it: 3,000 labels of 100 KB held the GIL (attacker review)
            ctx.progress(progress, total or 0.0, defang(str(message or "")[:PROGRESS_LABEL_CHARS]))

        async def run() -> Any:
            conn.in_flight += 1
            try:
                return await session.call_tool(tool, arguments, progress_callback=on_progress)
            finally:
                conn.in_flight -= 1

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = future.result(timeout=min(0.05, max(0.0, deadline - time.monotonic())))
                break
            except concurrent.futures.TimeoutError:
                if ctx.cancelled:
                    future.cancel()  # the SDK tells the server (notifications/cancelled)
                    return ToolResult("cancelled by the user; the server was told to stop the call", ok=False)
                if time.monotonic() >= deadline:
                    future.cancel()
                    raise ToolError(
                        f"the MCP server '{server}' gave no answer within {timeout:g} s "
                        "(mcp.servers call_timeout); the call was cancelled"
                    ) from None
            except concurrent.futures.CancelledError:
                raise ToolError(f"the call to the MCP server '{server}' was cancelled") from None
            except MCPError as exc:
                if exc.code == CONNECTION_CLOSED and conn.retired:
                    # "its tools are gone until it restarts" said so of a server the user
                    # had just taken out of config.yaml (MCP review)
                    raise ToolError(
                        f"the MCP server '{server}' was stopped because mcp.servers changed in config.yaml "
                        f"({conn.retired}); the call was cancelled"
                    ) from None
                if exc.code == CONNECTION_CLOSED and not conn.answers_ping(loop):
                    self._mark_dead(conn)
                    raise ToolError(
                        f"the MCP server '{server}' stopped during the call{conn.stderr_tail()}; "
                        "its tools are gone until it restarts"
                    ) from None
                if conn.refused_reply and conn.refused_reply in exc.message:  # thau stopped reading (mcp_http)
                    raise ToolError(f"the MCP server '{server}' answered, but {conn.refused_reply}") from None
                said = _cap(defang(exc.message), MAX_ERROR_CHARS)
                if exc.code == CONNECTION_CLOSED and (broke := conn.broken_reply(exc.message, said)):
                    raise ToolError(broke) from None  # not a refusal (mcp_http.stream_broke)
                raise ToolError(f"the MCP server '{server}' refused the call: {said}") from None
            except Exception as exc:
                said = _cap(defang(exc), MAX_ERROR_CHARS)
                raise ToolError(f"the MCP server '{server}' call failed: {type(exc).__name__}: {said}") from None
        return tool_result(server, result, self._images(), self.output_limit)

    def _images(self) -> Path:
        if self._images_dir is None:
            from ..paths import images_dir

            self._images_dir = images_dir() / "mcp"
        return self._images_dir

    def _mark_dead(self, conn: Connection) -> None:
        if self._loop is not None and conn.dead is not None:
            self._loop.call_soon_threadsafe(conn.dead.set)

    # --- the loop thread ----------------------------------------------------------------
    def _notice(self, text: str, severity: str) -> None:
        log.info(text)  # not warning: the last-resort handler would write on the TUI's screen
        if self.on_notice is not None:
            try:
                self.on_notice(text, severity)
            except Exception:  # a closed screen must not stop the servers
                log.exception("MCP notice could not be shown")

    async def _supervise(self, conn: Connection) -> None:
        """Keep one server up: start, serve, and after a failure start again a little later."""
        import anyio

        with anyio.CancelScope() as conn.stopper:  # how _end stops it
            delay, conn.told = RETRY_FIRST_S, ""
            conn.state.status, conn.state.error = "starting", ""
            while not self._stopping.is_set():
                was_ready = False
                try:
                    await self._serve(conn)
                    was_ready = True
                    why = conn.state.error or "its connection closed"
                except asyncio.CancelledError:
                    self._drop_tools(conn)
                    conn.settled.set()
                    raise
                except BaseException as exc:  # noqa: BLE001 — anything a server does becomes a sentence
                    was_ready = conn.state.status == "ready"
                    # "failed" inside _serve: a start that timed out, told before its connection closed
                    why = conn.state.error if conn.state.status == "failed" else conn.explain(leaf(exc))
                finally:  # the SDK's shutdown is over: nothing of the server may stay (mcp_lifetime)
                    conn.end_group()
                self._drop_tools(conn)
                if self._stopping.is_set():
                    conn.settled.set()
                    return
                # Back off afresh only after a life long enough to call it up; a server that dies
                # soon after it lists its tools was restarted every few seconds, with two notices
                # each time, for as long as thau ran (MCP review)
                if was_ready and time.monotonic() - conn.ready_at >= STABLE_S:
                    delay, conn.told = RETRY_FIRST_S, ""
                self._failed(conn, why, was_ready)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    def _failed(self, conn: Connection, why: str, was_ready: bool) -> None:
        """Mark a server failed (the state first: whoever wait_ready() releases reads it), and
        say why unless that was the last thing said of it."""
        conn.state.status, conn.state.error = "failed", why
        conn.settled.set()
        if why != conn.told:
            conn.announced = False  # a stop told: the next start says it is back (re-review)
            verb = "stopped" if was_ready else "did not start"
            self._notice(
                f"MCP server '{conn.config.name}' {verb}: {why}. thau goes on without its tools "
                f"and starts it again in a while (pauses grow to {RETRY_MAX_S:g} s).",
                "error",
            )
            conn.told = why

    async def _serve(self, conn: Connection) -> None:
        """One life of a server: connect, list its tools, then watch it until it dies."""
        import anyio
        from mcp import ClientSession

        cfg = conn.config
        dead = conn.dead = asyncio.Event()
        conn.tools_changed, conn.retired = asyncio.Event(), ""
        conn.state.status = "starting"
        async with contextlib.AsyncExitStack() as stack:
            transport = conn.transport(stack, self._errlog_folder(), self.workspace, self.config)
            read, write = await stack.enter_async_context(transport)
            conn.not_protocol, conn.state.note = None, ""
            session = await stack.enter_async_context(ClientSession(read, write, message_handler=conn.heard))
            try:
                with anyio.fail_after(cfg.startup_timeout):
                    await session.initialize()
                    listed = await list_all_tools(session, MAX_PAGES)
            except TimeoutError:
                late = TimeoutError(
                    f"no answer within {cfg.startup_timeout:g} s while starting (mcp.servers startup_timeout)"
                    + conn.not_protocol_note()
                )
                # Told now, not once the connection has closed (a stdio server's close takes seconds):
                # wait_ready() returned with it "starting", in doctor too, and `thau -m` refused its
                # tools as unknown before the reason came (eco review, 2026-12-07 night).
                if not self._stopping.is_set():
                    self._failed(conn, conn.explain(late), was_ready=False)
                raise late from None
            self._add_tools(conn, listed)
            conn.session = session
            conn.state.status, conn.state.error = "ready", ""
            conn.ready_at = time.monotonic()
            conn.settled.set()
            if not conn.announced:
                conn.announced = True
                text = f"MCP server '{cfg.name}': {tool_count(len(conn.state.tools))}"
                self._notice(
                    text
                    + (f"; not added: {'; '.join(conn.state.rejected)}" if conn.state.rejected else "")
                    + conn.state.note,
                    "warning" if conn.state.rejected or conn.state.note else "information",
                )
            await self._watch(conn, session, dead)

    def _errlog_folder(self) -> Path:
        """Where the servers' stderr logs go (Connection.errlog): log_dir, or thau's cache."""
        if self._log_dir is None:
            from ..paths import cache_dir

            self._log_dir = cache_dir() / "mcp"
        return self._log_dir

    async def _watch(self, conn: Connection, session: ClientSession, dead: asyncio.Event) -> None:
        """Ping the server while no call is running, list its tools again when it says they
        changed; return when it is gone or hung."""
        import anyio

        changed = conn.tools_changed or asyncio.Event()
        listed_at = 0.0
        while not self._stopping.is_set():
            await _first_of(dead, changed, timeout=PING_EVERY_S)
            if dead.is_set():
                conn.state.error = "it exited or closed the connection" + conn.stderr_tail()
                return
            if changed.is_set():
                await asyncio.sleep(max(0.0, listed_at + RELIST_EVERY_S - time.monotonic()))
                changed.clear()
                listed_at = time.monotonic()
                if not await relist(conn, session, self._replace_tools, self._notice, MAX_PAGES):
                    return
                continue
            conn.trim_log()
            if conn.in_flight:
                continue  # a long call has its own timeout; a one-at-a-time server cannot answer now
            try:
                with anyio.fail_after(PING_TIMEOUT_S):
                    await session.send_ping()
            except TimeoutError:
                conn.state.error = f"it stopped answering (no reply to a ping in {PING_TIMEOUT_S:g} s)"
                return
            except Exception as exc:
                conn.state.error = conn.explain(leaf(exc))
                return

    # --- the registry -----------------------------------------------------------------
    def _add_tools(self, conn: Connection, listed: list[Any]) -> None:
        add_tools(self.registry, conn, listed, held=conn.held, run=self._run)

    def _replace_tools(self, conn: Connection, listed: list[Any]) -> tuple[list[str], list[str]]:
        return replace_tools(self.registry, conn, listed, held=conn.held, run=self._run)

    def _run(self, server: str, tool: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return self.call(server, tool, arguments, ctx)

    def _drop_tools(self, conn: Connection) -> None:
        drop_tools(self.registry, conn)


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until one of `events` is set, or `timeout` seconds."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def quiet_sdk_logs() -> None:
    """Keep the SDK's client logs off the terminal: with no handler configured, Python's
    last resort wrote a "Welcome" banner's 11-line pydantic traceback ("Failed to parse
    JSONRPC message from server") on `thau doctor`'s stderr, above a line that said only
    "ready" (MCP review). thau says what a server did wrong itself (Connection.heard,
    explain); a logging setup of the user's own still gets the records."""
    sdk = logging.getLogger("mcp.client")
    if not any(isinstance(handler, logging.NullHandler) for handler in sdk.handlers):
        sdk.addHandler(logging.NullHandler())


def start_mcp(config: Config, registry: ToolRegistry, on_notice: Notice | None = None) -> MCPManager:
    """The MCP servers of config.mcp, starting in the background, their tools joining `registry`
    (the app, `thau -m` and `thau doctor` start them here, so the SDK's logs are quieted here)."""
    quiet_sdk_logs()
    workspace = Path(config.tools.workspace).expanduser().resolve()
    manager = MCPManager(
        config.mcp.servers,
        registry,
        workspace=workspace,
        on_notice=on_notice,
        output_limit=config.tools.shell.output_limit,
        config=config,
    )
    return manager.start()


def describe_mcp(config: Config) -> list[str]:
    """`thau doctor`'s lines: start each configured server, list its tools, stop it."""
    servers = list(config.mcp.servers)
    if not servers:
        return ["mcp: no servers configured (mcp.servers in config.yaml)"]
    manager = start_mcp(config, ToolRegistry())
    try:
        manager.wait_ready()
        return [state.line() for state in manager.states()]
    finally:
        manager.stop()
