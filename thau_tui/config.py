"""config.yaml as one pydantic model: load, validate with named-key errors, watch.

A wrong key or type never stops thau: `load_config` returns the errors beside
the last good configuration (or the defaults), and the caller shows them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .config_read import load_yaml, short, yaml_problem

__all__ = ["Config", "ConfigResult", "load_config", "parse_config", "salvage_config", "watch_config", "yaml_problem"]

Policy = Literal["ask", "auto", "deny"]

# Upper bounds for numbers that a huge value breaks further down, long after it validated:
# memory_mb * 2**20 overflowed setrlimit (every run_python failed in its preexec_fn), a
# timeout too large for a lock's wait raises OverflowError, and counts go to C ints.
DAY = 86_400.0  # seconds: the longest timeout
MAX_MB = 16 * 1024 * 1024  # 16 TiB, in MB
BIG_COUNT = 2**24  # tokens, characters of output


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(Section):
    path: str | None = None
    dialect: Literal["hermes", "thau", "functiongemma", "stage3"] = "hermes"
    chat_template: str | None = None
    n_ctx: int = Field(4096, ge=256, le=BIG_COUNT)
    n_threads: int | None = Field(None, ge=1, le=4096)
    n_gpu_layers: int = -1
    lora_path: str | None = "auto"
    seed: int = 0
    # Where the model runs: a local GGUF (llama_cpp) or an OpenAI-compatible server (openai).
    backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    base_url: str = "http://127.0.0.1:8080/v1"
    server_model: str | None = None  # empty: the server's first model
    api_key_env: str | None = None  # the NAME of the environment variable holding the key
    timeout: float = Field(120.0, gt=0, le=DAY)  # seconds the server may stay silent
    connect_timeout: float = Field(5.0, gt=0, le=DAY)
    # How a server backend carries tool calls: native (the `tools` field of
    # /v1/chat/completions), dialect (thau's own tags over /v1/completions), or auto (ask the
    # server once when connecting; native only when it shows it reads the tools).
    tool_calls: Literal["auto", "native", "dialect"] = "auto"

    @field_validator("base_url")
    @classmethod
    def _a_web_address(cls, url: str) -> str:
        """ "notaurl" was found out only when a message was sent, as "no server at notaurl
        (UnsupportedProtocol)" (headless review)."""
        if not web_address(url):
            raise ValueError("give the server's address with http:// or https://, like http://127.0.0.1:8080/v1")
        return url


def web_address(url: str) -> bool:
    """Whether `url` is an http(s) address with a host, as a model server's must be (--base-url
    and model.base_url)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


class GenerationConfig(Section):
    temperature: float = Field(0.2, ge=0.0, le=5.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0, le=BIG_COUNT)
    repeat_penalty: float = Field(1.1, ge=0.0)
    # Inside a tool call, which copies the request's values: a penalty on what it already wrote
    # (quotes, commas) cut lists short and left stated optional values out (+21/-5 of 632
    # held-out cases for the shipped adapter at 1.0 against 1.1), and sampling at the prose's
    # temperature only moved values off the likeliest (models/README.md).
    call_temperature: float = Field(0.0, ge=0.0, le=5.0)
    call_repeat_penalty: float = Field(1.0, ge=0.0)
    max_tokens: int = Field(768, ge=1, le=BIG_COUNT)
    max_tool_rounds: int = Field(6, ge=0, le=10_000)
    system_prompt: str = (
        "You are thau, a helpful assistant running locally in the user's terminal. "
        "Answer clearly and briefly. Use a tool only when it helps."
    )


# Paths under the home folder that hold credentials: hidden (an empty folder or file) inside
# the sandbox, so a command the model runs cannot read them. thau's own config folder (the
# approvals file) is hidden too, always.
DEFAULT_HIDDEN_PATHS = [
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/.netrc",
    "~/.config/gh",
    "~/.docker",
    "~/.kube",
    "~/.git-credentials",
    "~/.pgpass",
    "~/.pypirc",
    "~/.npmrc",
    "~/.config/gcloud",
    "~/.azure",
    # Tokens and keys of other tools, password stores, browser profiles (cookies) and shell
    # history (commands typed with a secret in them).
    "~/.cache/huggingface/token",
    "~/.huggingface/token",
    "~/.cargo/credentials.toml",
    "~/.cargo/credentials",
    "~/.config/git/credentials",
    "~/.config/rclone",
    "~/.vault-token",
    "~/.ollama/id_ed25519",
    "~/.password-store",
    "~/.local/share/keyrings",
    "~/.mozilla",
    "~/.config/google-chrome",
    "~/.config/chromium",
    "~/.bash_history",
    "~/.zsh_history",
    "~/.python_history",
    "~/.psql_history",
    "~/.mysql_history",
    "~/.node_repl_history",
    "~/.lesshst",
    "~/.zhistory",
    "~/.local/share/fish/fish_history",
    "~/.kaggle",
    "~/.terraform.d",
    "~/.config/op",
    # the X11 and ICE cookies: with the network on, an X11 display's abstract socket is
    # reachable, and the cookie would let sandboxed code type into the user's windows
    "~/.Xauthority",
    "~/.ICEauthority",
    # other AI assistants' sign-ins
    "~/.claude",
    "~/.claude.json",
    "~/.codex",
    "~/.gemini",
    # Readable only by root, and thau run as root reads them in the sandbox too (it keeps
    # root's uid there): password hashes, sudo rules, the machine's ssh host keys.
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
    # Container managers' sockets outside /run (which is hidden whole): connecting to one
    # needs no write access, and it gives root on the host to the groups that may use it.
    "~/.rd",
    "~/.colima",
    "/var/snap/lxd/common/lxd",
    "/var/lib/lxd",
    "/var/lib/incus",
]


class ShellConfig(Section):
    timeout: float = Field(30.0, gt=0, le=DAY)
    sandbox: Literal["auto", "bwrap", "sandbox-exec", "none"] = "auto"
    network: bool = False
    output_limit: int = Field(16000, ge=200, le=BIG_COUNT)
    # Characters of output a tool card shows while a command runs (head and tail are kept).
    card_output_limit: int = Field(200_000, ge=1000, le=BIG_COUNT)
    # Environment variables passed to tools besides the fixed allow-list (PATH, HOME, LANG, ...).
    env_passthrough: list[str] = Field(default_factory=list)
    # Paths hidden inside the sandbox (credentials); `~` is the home folder.
    hidden_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_HIDDEN_PATHS))
    # Most processes the shell's commands may have at once (fork bombs stop here).
    max_processes: int = Field(256, ge=8, le=4_194_304)  # the kernel's most pids
    # Most memory one process in the shell may allocate, in MB.
    memory_mb: int = Field(4096, ge=64, le=MAX_MB)
    # Programs that `a` and `A` may allow by name besides thau's own list of safe ones
    # (engine/approvable_programs.py); any other is allowed once per call.
    approvable_by_name: list[str] = Field(default_factory=list)

    @field_validator("approvable_by_name", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, names: Any) -> Any:
        """`approvable_by_name: hadolint` means [hadolint] (it read "Input should be a valid list")."""
        return [names] if isinstance(names, str) else names

    @field_validator("approvable_by_name")
    @classmethod
    def _names_only(cls, names: list[str]) -> list[str]:
        """A name, not a path (an interpreter or launcher is refused where it is applied:
        engine/approvable_programs.set_added)."""
        for name in names:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
                raise ValueError(
                    f"{name!r} is not a program's name: one name per entry, no folder: [hadolint, yamllint]"
                )
        return names


class FilesConfig(Section):
    # Largest file write_file writes, in MB.
    max_write_mb: float = Field(10.0, gt=0, le=MAX_MB)
    # Allow write_file (and the shell) to change .git/ (hooks and config there run code).
    allow_git_writes: bool = False


class PythonToolConfig(Section):
    timeout: float = Field(5.0, gt=0, le=DAY)
    memory_mb: int = Field(512, ge=32, le=MAX_MB)


class ToolsConfig(Section):
    workspace: str = "."
    plugins_dir: str = "tools"
    # A tool's name, or "*" for every tool not named (thau sets "*": ask while it cannot read
    # this file whole, so nothing runs unasked).
    policy: dict[str, Policy] = Field(default_factory=dict)
    approval_timeout: float = Field(600.0, gt=0, le=DAY)
    shell: ShellConfig = Field(default_factory=ShellConfig)
    python: PythonToolConfig = Field(default_factory=PythonToolConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)

    @field_validator("policy")
    @classmethod
    def _every_tool_never_auto(cls, policy: dict[str, str]) -> dict[str, str]:
        """`"*": auto` would let every tool, interpreters and new MCP tools too, run unasked:
        the approvals ignore it, so it was accepted and did nothing, while `thau -m` named it
        as the tool's own entry (docs review). An error at its key, like any bad value."""
        if policy.get("*") == "auto":
            problem = PydanticCustomError("star_auto", 'auto is not allowed: "*" may be ask or deny')
            detail = InitErrorDetails(type=problem, loc=("*",), input="auto")
            raise ValidationError.from_exception_data("tools.policy", [detail])  # pydantic adds the parents' keys
        return policy


class ImagesConfig(Section):
    model: str | None = None
    device: Literal["auto", "mps", "cuda", "cpu"] = "auto"
    dtype: Literal["auto", "float16", "float32", "bfloat16"] = "auto"
    attention_slicing: Literal["auto", "on", "off"] = "auto"
    width: int | None = Field(None, ge=8, le=16_384)
    height: int | None = Field(None, ge=8, le=16_384)
    steps: int | None = Field(None, ge=1, le=10_000)
    guidance: float | None = Field(None, ge=0.0)


class UIConfig(Section):
    render_hz: float = Field(15.0, ge=1.0, le=60.0)
    sidebar: bool = True
    keys: dict[str, str] = Field(default_factory=dict)


class TrainConfig(Section):
    recipe: str = "train/recipes/smollm2-tools.yaml"
    runs_dir: str = "train/runs"


class MCPServerConfig(Section):
    """One MCP server: a command thau starts (stdio) or a URL it connects to (streamable HTTP)."""

    # The prefix of its tools' names (name__tool): letters, digits, "_" and "-".
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,23}$")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    # Variables set for the server, and names of thau's own variables passed through to it
    # (a token stays in the environment, not in this file). PATH, HOME, USER, SHELL, TERM pass.
    env: dict[str, str] = Field(default_factory=dict)
    env_passthrough: list[str] = Field(default_factory=list)
    url: str | None = None
    # For a url: the NAME of an environment variable holding a token sent as
    # "Authorization: Bearer <token>", and headers whose values are read from the named
    # variables ({"X-Team-Key": "TEAM_KEY"}). Secrets stay in the environment, not here.
    api_key_env: str | None = None
    headers_env: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    # false: every tool of this server asks, whatever its readOnlyHint says.
    trust_hints: bool = True
    # true: a command server runs in the shell's sandbox (workspace writable, the rest
    # read-only, credentials and thau's own folders hidden, network per tools.shell.network).
    sandbox: bool = False
    # With sandbox: the workspace read-only to the server too. Only then (and with
    # tools.shell.network off) do its tools that say they only read run without a card.
    read_only: bool = False
    startup_timeout: float = Field(30.0, gt=0, le=DAY)  # seconds to start and list its tools
    call_timeout: float = Field(120.0, gt=0, le=DAY)  # seconds one call may run before it is cancelled

    @field_validator("name")
    @classmethod
    def _one_prefix(cls, name: str) -> str:
        # Two servers must never make the same tool name (approvals follow the name).
        if "__" in name or name.endswith("_"):
            raise ValueError(
                f"{name!r}: no '__' in a server's name and no '_' at its end "
                "(its tools are named NAME__TOOL, and another server's could take the same name)"
            )
        return name

    @model_validator(mode="after")
    def _read_only_needs_the_sandbox(self) -> "MCPServerConfig":
        if self.read_only and not self.sandbox:
            raise ValueError(
                f"server {self.name!r}: read_only: true needs sandbox: true (only the sandbox can keep "
                "the workspace read-only)"
            )
        return self

    @model_validator(mode="after")
    def _one_transport(self) -> "MCPServerConfig":
        if bool(self.command) == bool(self.url):
            raise ValueError(f"server {self.name!r} needs one of command (stdio) or url (streamable HTTP), not both")
        if (self.api_key_env or self.headers_env) and not self.url:
            raise ValueError(f"server {self.name!r}: api_key_env and headers_env are for a url server")
        if self.sandbox and self.url:
            raise ValueError(f"server {self.name!r}: sandbox is for a command server; thau does not start a url one")
        return self


class MCPConfig(Section):
    servers: list[MCPServerConfig] = Field(default_factory=list)

    @field_validator("servers")
    @classmethod
    def _unique_names(cls, servers: list[MCPServerConfig]) -> list[MCPServerConfig]:
        names = [s.name for s in servers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two servers are named {', '.join(twice)}; each needs its own name")
        return servers


class Config(Section):
    model: ModelConfig = Field(default_factory=ModelConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    images: ImagesConfig = Field(default_factory=ImagesConfig)
    ui: UIConfig = Field(default_factory=UIConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    mcp: MCPConfig = Field(default_factory=MCPConfig)


@dataclass
class ConfigResult:
    """What loading produced: the config to use, where it came from, and any problems."""

    config: Config
    path: Path | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the section at `loc` (the unknown key's parents) takes; [] when not a section."""
    section: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list of sections (mcp.servers)
        field_info = getattr(section, "model_fields", {}).get(part)
        if field_info is None:
            return []
        kind = field_info.annotation
        args = getattr(kind, "__args__", ())
        section = next((a for a in (kind, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if section is None:
            return []
    return list(getattr(section, "model_fields", {}))


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(tuple(error["loc"][:-1]))
        where = f"; {key.rsplit('.', 1)[0]} takes: {', '.join(known)}" if known and "." in key else ""
        if known and "." not in key:
            where = f"; the sections are: {', '.join(known)}"
        return f"{key}: unknown key (check the spelling{where})"
    expected = error["msg"].removeprefix("Value error, ")  # a validator's own sentence, as it is
    # cut short: the full repr of an aliased list was a 52 MB message
    return f"{key}: {expected} (got {short(error.get('input'))})"


def parse_config(text: str) -> Config:
    """Parse YAML text into a Config; raises ValueError with every problem named
    (ConfigTooLarge for one whose aliases expand past config_read.MAX_VALUES)."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ValueError(yaml_problem(exc)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("config.yaml must be a mapping of sections (model:, generation:, tools:, ...)")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ValueError("\n".join(_describe(e) for e in exc.errors())) from exc


def salvage_config(text: str) -> Config | None:
    """Every valid setting of a file that has bad ones (config_load.salvage_config)."""
    from .config_load import salvage_config

    return salvage_config(text)


def load_config(path: Path | None, last_good: Config | None = None) -> ConfigResult:
    """Load config.yaml. On errors: `last_good` when given (an edit in progress keeps the
    running config), else every setting that is valid, the bad ones at their defaults; the
    errors are reported either way. A file that cannot be read whole (not YAML, a byte that
    is not UTF-8) fails safe: what can be read applies, and every tool asks before it runs.
    The steps are in config_load.py, which needs the models above."""
    from .config_load import load

    return load(path, last_good)


async def watch_config(
    path: Path, on_change, current: Config | None = None, candidates: list[Path] | None = None
) -> None:
    """Call `on_change(ConfigResult)` each time the config changes (watchfiles).

    Folders are watched, not files, so a config.yaml created after thau started is
    noticed. `candidates` are the files thau would read, in order of preference (for
    the default config: ./config.yaml, then the user's); a change loads the first that
    exists. A missing folder is created (or skipped), never fatal.
    """
    from watchfiles import awatch

    files = list(dict.fromkeys([*(candidates or []), path]))
    # A config.yaml linked to a dotfiles repository changes there, not in its own folder: a
    # deny added to the target was not applied until restart (config review).
    watched = list(dict.fromkeys([*files, *(Path(os.path.realpath(f)) for f in files if f.is_symlink())]))
    folders = []
    for file in watched:
        try:
            if file in files:
                file.parent.mkdir(parents=True, exist_ok=True)
            elif not file.parent.is_dir():
                continue
        except OSError:
            continue
        if file.parent not in folders:
            folders.append(file.parent)
    if not folders:
        return
    names = {(f.parent, f.name) for f in watched}

    def wanted(_change, changed: str) -> bool:
        changed_path = Path(changed)
        return (changed_path.parent, changed_path.name) in names

    # Only the folders themselves: a config kept in ~ would watch the whole home folder, and
    # one unreadable folder down there (or the system's limit on watches) raised out of the
    # watch, which ended the app.
    try:
        async for _changes in awatch(*folders, watch_filter=wanted, recursive=False):
            chosen = next((f for f in files if f.is_file()), path)
            # Removed: the defaults, not the last file's settings, whose tools.policy (an
            # `auto`) stayed in force with no file to say so (UX review).
            gone = not (chosen.exists() or chosen.is_symlink())
            result = load_config(chosen, None if gone else current)
            if result.ok:
                current = result.config
            on_change(result)
    except OSError as exc:
        on_change(
            ConfigResult(
                current or Config(), path, [f"config.yaml is no longer watched ({exc}); restart thau to apply changes"]
            )
        )
