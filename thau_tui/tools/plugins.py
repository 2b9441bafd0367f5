"""The user's own tools: one .py file per tool in the plugin folder, hot-reloaded.

A plugin file defines either `TOOL = Tool(...)` or the simple form:
NAME, DESCRIPTION, PARAMETERS (JSON Schema), RISK ("read" | "write" | "exec",
default "exec") and `def run(args, ctx)`. A broken file never stops thau: its
error lands in `registry.plugin_errors` and the other plugins still load.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.util
import inspect
import re
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from jsonschema.exceptions import SchemaError

from .base import Tool, ToolContext
from .registry import ToolRegistry

if TYPE_CHECKING:
    from thau_tui.config import Config

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_RISKS = ("read", "write", "exec")


class PluginError(Exception):
    """Why a plugin file could not become a tool (shown to the user as is)."""


def plugins_folder(config: Config | None = None, base: Path | None = None) -> Path:
    """The plugin folder from config.tools.plugins_dir, relative to `base` (default: thau's
    config folder, so `tools` is ~/.config/thau/tools, not a folder of the workspace)."""
    from thau_tui.config import Config
    from thau_tui.paths import config_dir

    folder = Path((config or Config()).tools.plugins_dir).expanduser()
    return folder if folder.is_absolute() else (base or config_dir()) / folder


def _workspace_holding(path: Path, config: Config | None) -> Path | None:
    """The workspace, when the real `path` (links followed) is in it and not hidden from the tools."""
    from thau_tui.config import Config

    from .workspace import hidden_reason

    workspace = Path((config or Config()).tools.workspace).expanduser().resolve()
    real = path.expanduser().resolve()
    if hidden_reason(real, config, workspace) is not None:
        return None  # thau's own config folder in a home-folder workspace: hidden from the tools
    return workspace if real == workspace or workspace in real.parents else None


def plugins_in_workspace(folder: Path, config: Config | None = None) -> str | None:
    """Why plugins in `folder` are not loaded: it is in the workspace, where the model's
    tools write, and a plugin runs inside thau itself, outside the sandbox."""
    from thau_tui.paths import config_dir

    workspace = _workspace_holding(folder, config)
    if workspace is not None:
        return (
            f"plugins in {folder} are not loaded: it is inside the workspace ({workspace}), where tools "
            f"write, and a plugin runs inside thau itself. Move them to {config_dir() / 'tools'} or set "
            "tools.plugins_dir to a folder outside the workspace"
        )
    return None


def _is_plugin_file(path: Path) -> bool:
    return path.suffix == ".py" and not path.name.startswith(("_", "."))


def _import(path: Path) -> Any:
    """Execute the plugin file as a fresh module; errors become one plain sentence."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    name = f"thau_plugins.{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError("cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look the module up while it runs
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise PluginError(f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    except KeyboardInterrupt:
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # SystemExit too: sys.exit() or argparse at import ended thau
        sys.modules.pop(name, None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        where = f" at line {frames[-1].lineno}" if frames else ""
        if isinstance(exc, SystemExit):
            raise PluginError(
                f"called sys.exit({exc.code!r}){where} while loading (argparse does that when it reads "
                "thau's own arguments); a plugin's top level should only define things"
            ) from exc
        raise PluginError(f"raised {type(exc).__name__}{where} while loading: {exc}") from exc
    return module


def _wrap(run: Callable[..., Any]) -> Callable[[dict[str, Any], ToolContext], Any]:
    """Accept run(args, ctx) or run(args)."""
    try:
        wants_ctx = len(inspect.signature(run).parameters) >= 2
    except (TypeError, ValueError):
        wants_ctx = True
    if wants_ctx:
        return run
    return lambda args, _ctx: run(args)


def tool_from_module(module: Any, path: Path) -> Tool:
    """The Tool a plugin module defines (TOOL, or NAME/DESCRIPTION/PARAMETERS/RISK/run)."""
    tool = getattr(module, "TOOL", None)
    if tool is not None:
        if not isinstance(tool, Tool):
            raise PluginError("TOOL must be a Tool (from thau_tui.tools import Tool)")
        tool.source = str(path)
    else:
        missing = [n for n in ("NAME", "DESCRIPTION", "PARAMETERS", "run") if not hasattr(module, n)]
        if missing:
            raise PluginError(
                f"defines no TOOL and lacks {', '.join(missing)}; define TOOL = Tool(...) or "
                "NAME, DESCRIPTION, PARAMETERS, RISK and def run(args, ctx)"
            )
        if not callable(module.run):
            raise PluginError("run must be a function: def run(args, ctx)")
        tool = Tool(
            name=module.NAME,
            description=module.DESCRIPTION,
            parameters=module.PARAMETERS,
            risk=getattr(module, "RISK", "exec"),
            function=_wrap(module.run),
            summary=getattr(module, "SUMMARY", ""),
            source=str(path),
        )
    if not isinstance(tool.name, str) or not _NAME.match(tool.name):
        raise PluginError(f"tool name {tool.name!r} must be letters, digits and underscores (e.g. word_count)")
    if tool.risk not in _RISKS:
        raise PluginError(f"RISK must be one of {', '.join(_RISKS)} (got {tool.risk!r})")
    if not isinstance(tool.parameters, dict) or tool.parameters.get("type") != "object":
        raise PluginError('PARAMETERS must be a JSON Schema object: {"type": "object", "properties": {...}}')
    if not isinstance(tool.description, str) or not tool.description.strip():
        raise PluginError("DESCRIPTION must say in a sentence what the tool does (the model reads it)")
    return tool


def _off_the_loop(function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run `function(*args)` on a daemon thread; its result as a future of the running loop.
    Not asyncio.to_thread: its threads are joined when Python exits, so a plugin whose
    import never returns would keep thau from quitting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            result = function(*args)
        except BaseException as exc:  # handed to the awaiting task, not lost on the thread
            error: BaseException | None = exc
            result = None
        else:
            error = None
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop closed first (thau quit): nobody waits for this
            pass

    threading.Thread(target=work, name="thau-plugins", daemon=True).start()
    return future


def _report_late(on_late: Callable[[str], Any], done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is None and done.result()[1]:  # "": overtaken
        on_late(done.result()[1])


class PluginLoader:
    """Loads the plugin folder into a registry and keeps it in step with the files."""

    def __init__(self, registry: ToolRegistry, folder: Path | str, config: Config | None = None) -> None:
        self.registry = registry
        self.folder = Path(folder).expanduser()
        self.config = config
        self.loaded: dict[Path, str] = {}  # plugin file -> tool name
        self._lock = threading.RLock()  # what loads register, decided one at a time
        self._generations: dict[Path, int] = {}  # each file's latest load or removal

    def _show(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _fail(self, path: Path, why: str) -> str:
        message = f"plugin {self._show(path)} not loaded: {why} — fix the file and save it; thau reloads it"
        self.registry.plugin_errors[str(path)] = message
        return message

    def load_file(self, path: Path) -> tuple[bool, str]:
        """(ok, message) after (re)loading one file; its old tool goes first. Imports run
        unlocked, each file on its own thread; what they register is decided one at a time,
        and an import that a newer load (or removal) of the same file overtook counts for
        nothing, its message empty: a slow first import finishing after the user's fix put
        the old tool back beside the new one, and two files naming one tool could both
        register (re-review)."""
        path = path.resolve()
        with self._lock:
            generation = self._generations[path] = self._generations.get(path, 0) + 1
            old = self.loaded.pop(path, None)
            if old is not None:
                self.registry.unregister(old)
        workspace = _workspace_holding(path, self.config)
        if workspace is not None:  # a link from the plugin folder into the workspace (dotfiles)
            return False, self._fail(
                path,
                f"it is in the workspace ({workspace}), where tools write, and a plugin runs inside thau "
                "itself; keep the file itself outside the workspace, not a link to it",
            )
        try:
            tool: Tool | None = tool_from_module(_import(path), path)
            why = ""
        except PluginError as exc:
            tool, why = None, str(exc)
        except Exception as exc:  # a module whose attributes raise: its error, not thau's
            tool, why = None, f"raised {type(exc).__name__} while being read: {exc}"
        with self._lock:
            if self._generations.get(path) != generation:
                return False, ""  # overtaken: the newer load says how it went
            if tool is None:
                return False, self._fail(path, why)
            return self._register(path, tool, old is not None)

    def _register(self, path: Path, tool: Tool, again: bool) -> tuple[bool, str]:
        existing = self.registry.get(tool.name)
        if existing is not None:
            owner = "a built-in tool" if existing.source == "builtin" else f"defined by {existing.source}"
            return False, self._fail(path, f"tool name '{tool.name}' is already taken ({owner}); rename it")
        # a required name with no property of its own: validation then demanded it, and run()
        # never got the one it read (the tool could not work: tools review)
        params = tool.parameters if isinstance(tool.parameters, dict) else {}
        props, required = params.get("properties"), params.get("required")
        if isinstance(props, dict) and isinstance(required, list):
            if missing := [name for name in required if name not in props]:
                return False, self._fail(
                    path, f"PARAMETERS requires {missing} but has no such properties (they are {sorted(props)})"
                )
        try:
            self.registry.register(tool)
        except SchemaError as exc:
            where = exc.json_path if exc.json_path != "$" else "the top"
            return False, self._fail(path, f"PARAMETERS is not a valid JSON Schema at {where}: {exc.message}")
        except RecursionError:  # check_schema recurses once per level; the other plugins still load
            return False, self._fail(
                path, "PARAMETERS is nested too deeply to check (thousands of levels); a tool's schema needs a few"
            )
        except Exception as exc:
            return False, self._fail(path, f"PARAMETERS could not be checked: {type(exc).__name__}: {exc}")
        self.loaded[path] = tool.name
        self.registry.plugin_errors.pop(str(path), None)
        return True, f"plugin tool '{tool.name}' {'reloaded' if again else 'loaded'} from {self._show(path)}"

    def remove_file(self, path: Path) -> str | None:
        """Forget a deleted file: unregister its tool, drop its error (an import of it still
        running counts for nothing)."""
        path = path.resolve()
        with self._lock:
            self._generations[path] = self._generations.get(path, 0) + 1
            name = self.loaded.pop(path, None)
        had_error = self.registry.plugin_errors.pop(str(path), None) is not None
        if name is not None:
            self.registry.unregister(name)
            return f"plugin {self._show(path)} removed: tool '{name}' is gone"
        return f"plugin {self._show(path)} removed" if had_error else None

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p.resolve() for p in self.folder.iterdir() if p.is_file() and _is_plugin_file(p))

    def load_all(self) -> dict[str, str]:
        """Load every plugin file; {path: error} for those that failed (also in registry.plugin_errors)."""
        errors: dict[str, str] = {}
        present = self._files()
        for gone in [p for p in self.loaded if p not in present]:
            self.remove_file(gone)
        for path in present:
            ok, message = self.load_file(path)
            if not ok and message:
                errors[str(path)] = message
        return errors

    async def load_all_async(
        self,
        on_slow: Callable[[Path], Any] | None = None,
        slow_s: float = 3.0,
        on_late: Callable[[str], Any] | None = None,
    ) -> dict[str, str]:
        """load_all off the event loop, each file on a thread of its own: a plugin that sleeps,
        waits on the network or loops at import held the whole UI (or kept thau from appearing
        at all). A file still importing after `slow_s` seconds is named (`on_slow(path)`, on
        the loop) and left to finish alone while the next files load: one that never returned
        held back every later file, and the folder was watched only after it (MCP review).
        When it does finish, `on_late(message)` says how it went."""
        errors: dict[str, str] = {}
        present = self._files()
        for gone in [p for p in self.loaded if p not in present]:
            self.remove_file(gone)
        for path in present:
            loading = _off_the_loop(self.load_file, path)
            try:
                ok, message = await asyncio.wait_for(asyncio.shield(loading), slow_s)
            except asyncio.TimeoutError:
                if on_slow is not None:
                    on_slow(path)
                if on_late is not None:
                    loading.add_done_callback(functools.partial(_report_late, on_late))
                continue
            if not ok and message:
                errors[str(path)] = message
        return errors

    def _apply(self, paths: set[Path]) -> list[str]:
        messages: list[str | None] = []
        for path in sorted(paths):  # a load's "": overtaken by a newer load of the file
            messages.append(self.load_file(path)[1] if path.is_file() else self.remove_file(path))
        return [message for message in messages if message]

    async def watch(self, on_change: Callable[[list[str]], Any], stop_event: asyncio.Event | None = None) -> None:
        """Reload added, changed and removed plugin files as they happen; report each batch.

        `on_change(messages)` may be a plain function or a coroutine function.
        Runs until cancelled or `stop_event` is set.
        """
        from watchfiles import awatch

        appeared = False
        while not self.folder.is_dir():  # the folder may be created later
            if stop_event is not None and stop_event.is_set():
                return
            appeared = True
            await asyncio.sleep(1.0)
        if appeared:
            # Made while thau ran: checked as at start (a link into the workspace, where tools
            # write, is refused), then what it already holds is loaded; its files were never
            # picked up, though the README says they are (docs review)
            refused = plugins_in_workspace(self.folder, self.config)
            files = set() if refused else {p.resolve() for p in self.folder.iterdir() if _is_plugin_file(p)}
            messages = [refused] if refused else await _off_the_loop(self._apply, files)
            if messages:
                outcome = on_change(messages)
                if inspect.isawaitable(outcome):
                    await outcome
            if refused:
                return
        folder = self.folder.resolve()

        def wanted(_change: Any, name: str) -> bool:
            path = Path(name)
            return _is_plugin_file(path) and path.parent == folder

        async for changes in awatch(
            folder, watch_filter=wanted, debounce=200, step=50, recursive=False, stop_event=stop_event
        ):
            paths = {Path(name).resolve() for _change, name in changes}
            # Imports run user code: keep them off the event loop.
            messages = await _off_the_loop(self._apply, paths)
            if messages:
                outcome = on_change(messages)
                if inspect.isawaitable(outcome):
                    await outcome
