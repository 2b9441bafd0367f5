"""`thau --message` as a script and a person at a terminal use it (headless review): a
question when stdout goes to a file, a reader that stops early, Ctrl+C, refusals, --resume,
long lines on stderr, a THAU_HOME that is a file, an address without its scheme.

In-process tests run the real entry point on a scripted model; the ones that need a
terminal, a closed pipe or a signal run `thau` in a child against a scripted
OpenAI-compatible server this test starts on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from http_fakes import send_json, serve
from scripted import ScriptedBackend, hermes_call

from thau_tui import cli
from thau_tui.engine import models
from thau_tui.engine.approvable_programs import approvable_by_name, set_added

ROOT = Path(__file__).resolve().parent.parent


# --- in process, on a scripted model --------------------------------------------------------


@pytest.fixture
def one_shot(tmp_path, monkeypatch, capsys):
    """`thau --message` in this process on a scripted model: (exit code, stdout, stderr, backend)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()

    def run(
        replies: list[str], *flags: str, message: str = "go", policy: dict | None = None, tools: tuple[str, ...] = ()
    ):
        config = tmp_path / "config.yaml"
        lines = ["tools:", f"  workspace: {workspace}", *tools]
        if policy:
            lines += ["  policy:", *(f"    {tool}: {value}" for tool, value in policy.items())]
        config.write_text("\n".join(lines) + "\n")
        backend = ScriptedBackend(list(replies))
        monkeypatch.setattr(models, "load_backend", lambda _config: backend)
        code = cli.main(["--config", str(config), "--message", message, *flags])
        out, err = capsys.readouterr()
        return code, out, err, backend

    run.workspace = workspace  # type: ignore[attr-defined]
    return run


def test_a_call_tools_policy_denies_exits_3_like_one_not_approved(one_shot):
    """tools.policy: deny ended -m with 0, so a script could not tell the write never ran."""
    code, _out, err, _ = one_shot(
        [hermes_call("write_file", path="x.txt", content="x"), "Done."], policy={"write_file": "deny"}
    )
    assert code == 3, err
    assert not (one_shot.workspace / "x.txt").exists()
    assert "denied write_file: the configuration denies this tool (tools.policy: write_file: deny" in err
    help_text = " ".join(cli.build_parser().format_help().split())
    assert "3 when a tool call was refused (not approved, or denied by tools.policy)" in help_text


def test_resume_with_a_message_answers_in_the_last_chat(one_shot, thau_home):
    """--resume with -m was ignored: the answer went to a new chat, without the last one's history."""
    code, _out, err, _ = one_shot(["Noted."], message="My colour is teal.")
    assert code == 0, err
    code, _out, err, backend = one_shot(["Teal."], "--resume", message="What is my colour?")
    assert code == 0, err
    assert "in the chat “My colour is teal.”" in err  # the title quoted, not read as words (skeptic review)
    assert "My colour is teal." in backend.prompts[-1]  # the model saw the chat it answers in
    db = sqlite3.connect(thau_home / "data" / "sessions.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
        said = [row[0] for row in db.execute("SELECT content FROM messages ORDER BY id")]
    finally:
        db.close()
    assert said == ["My colour is teal.", "Noted.", "What is my colour?", "Teal."]


def test_yes_is_refused_when_tools_policy_names_no_tool(one_shot, capsys):
    """`run-shell: deny` (a typo) applied to nothing, and --yes then ran run_shell (headless
    review). Without --yes it is said; with --yes nothing runs."""
    call = hermes_call("run_shell", command="touch ran.txt")
    code, _out, err, _ = one_shot([call, "Done."], "--yes", policy={"run-shell": "deny"})
    assert code == 2 and not (one_shot.workspace / "ran.txt").exists(), err
    assert "tools.policy.run-shell: no tool has this name" in err and "did you mean run_shell?" in err
    assert "--yes is refused while tools.policy names a tool that does not exist" in err
    code, _out, err, _ = one_shot(["Hello."], policy={"run-shell": "deny"})  # said, and it answers
    assert code == 0 and "tools.policy.run-shell: no tool has this name" in err, err
    code = cli.main(["--config", str(one_shot.workspace.parent / "config.yaml"), "doctor"])  # it said "(ok)"
    out = capsys.readouterr().out
    assert code == 1 and "config: tools.policy.run-shell: no tool has this name" in out, out
    assert "tools.policy.run-shell names no tool" in out.strip().splitlines()[-1]


def test_every_tool_auto_is_a_config_error_and_a_refusal_names_the_star_entry(one_shot, capsys):
    """`"*": auto` passed doctor and -m without a word, and -m's refusal read "tools.policy.
    run_shell is 'auto'" for a file with no run_shell entry (docs review). It is reported as
    a bad value everywhere, "*" asks meanwhile, and a refusal by "*" names "*"."""
    shell = hermes_call("run_shell", command="touch ran.txt")
    code, _out, err, _ = one_shot([shell, "Done."], policy={'"*"': "auto"})
    said = " ".join(err.split())
    assert code == 3 and not (one_shot.workspace / "ran.txt").exists(), err
    assert "config: " in said and 'tools.policy.*: auto is not allowed: "*" may be ask or deny' in said
    assert "denied run_shell: tools.policy.\"*\" is 'ask' in config.yaml (every tool not named there)" in said
    assert "tools.policy.run_shell" not in said
    code, _out, err, _ = one_shot([shell, "Done."], "--yes", policy={'"*"': "auto"})
    assert code == 2 and "--yes is refused while config.yaml has errors" in err
    code = cli.main(["--config", str(one_shot.workspace.parent / "config.yaml"), "doctor"])  # it said "(ok)"
    out = capsys.readouterr().out
    assert code == 1 and "tools.policy.*: auto is not allowed" in out, out
    # a valid "*" entry is named as itself too, not as the tool's own
    code, _out, err, _ = one_shot([shell, "Done."], policy={'"*"': "ask"})
    assert code == 3 and "denied run_shell: tools.policy.\"*\" is 'ask'" in " ".join(err.split()), err


def test_files_thau_does_not_use_are_said_on_stderr(one_shot, tmp_path, monkeypatch, thau_home, capsys):
    """The chat says when it ignores a ./config.yaml or a plugin folder inside the workspace;
    `thau -m` said nothing of either (docs review). The same words, one line each."""
    from scripted import ScriptedBackend

    workspace = one_shot.workspace
    (workspace / "config.yaml").write_text("tools:\n  policy:\n    run_shell: auto\n")
    (workspace / "tools").mkdir()
    (thau_home / "config").mkdir(parents=True, exist_ok=True)
    user_config = thau_home / "config" / "config.yaml"
    user_config.write_text(f"tools:\n  plugins_dir: {workspace / 'tools'}\n")
    monkeypatch.chdir(workspace)
    monkeypatch.setattr(models, "load_backend", lambda _config: ScriptedBackend(["Hi."]))
    code = cli.main(["--message", "Say hi"])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 0 and out.strip() == "Hi.", err
    local = f"config.yaml: {workspace / 'config.yaml'} is not read: this folder is the workspace, where tools write"
    assert any(line.startswith(local) and line.endswith("thau --config config.yaml") for line in lines), err
    plugins = f"plugins: plugins in {workspace / 'tools'} are not loaded: it is inside the workspace ({workspace})"
    assert any(line.startswith(plugins) for line in lines), err
    monkeypatch.setattr(models, "load_backend", lambda _config: ScriptedBackend(["Hi."]))
    code = cli.main(["--config", "config.yaml", "--message", "Say hi"])  # the one here, named: read
    assert code == 0 and "is not read" not in capsys.readouterr().err


def test_resume_while_another_window_answers_there_takes_a_new_chat(one_shot, thau_home):
    """--resume answered in a chat whose turn another window was still running: a card that
    waited there got a false "did not run" result and the history mixed the two turns for
    good (headless review). It answers in a new chat and says why."""
    code, _out, err, _ = one_shot(["Noted."], message="first chat")
    assert code == 0, err
    window = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # another live thau
    try:
        db = sqlite3.connect(thau_home / "data" / "sessions.sqlite3")
        try:
            (sid,) = db.execute("SELECT id FROM sessions").fetchone()
            turn = {"turn": {"pid": window.pid, "host": socket.gethostname()}}
            db.execute("UPDATE sessions SET meta=? WHERE id=?", (json.dumps(turn), sid))
            db.commit()
        finally:
            db.close()
        code, _out, err, backend = one_shot(["Fresh."], "--resume", message="second")
    finally:
        window.kill()
        window.wait()
    assert code == 0, err
    assert "the last chat is answering in another thau window: a new one" in err
    assert "first chat" not in backend.prompts[-1]
    db = sqlite3.connect(thau_home / "data" / "sessions.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    finally:
        db.close()


def test_a_tool_card_on_a_redirected_stderr_is_one_line(one_shot):
    """stderr to a file was wrapped at 80 columns, splitting a tool card inside its argument."""
    content = "word " * 60
    code, _out, err, _ = one_shot([hermes_call("write_file", path="long.txt", content=content), "Done."], "--yes")
    assert code == 0, err
    card = next(line for line in err.splitlines() if line.startswith("tool write_file"))
    assert content.strip() in card


def test_thau_home_that_is_a_file_is_said_in_one_line(tmp_path, monkeypatch, capsys):
    """A THAU_HOME that is a file ended doctor, -m and the chat with a 9-frame traceback."""
    home = tmp_path / "home"
    home.write_text("x\n")
    monkeypatch.setenv("THAU_HOME", str(home))
    for argv in (["doctor"], ["-m", "hi"], []):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"cannot write thau's config dir {home / 'config'}: a file is in the way" in err, (argv, err)


def test_a_base_url_without_http_is_a_usage_error(capsys):
    """`--base-url notaurl` said "no server at notaurl (UnsupportedProtocol)"."""
    for url in ("notaurl", "localhost:8080/v1", "http://"):
        with pytest.raises(SystemExit) as stopped:
            cli.main(["--base-url", url, "-m", "hi"])
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert f"--base-url {url}: give the server's address with http:// or https://" in err, err


# --- in a child, against a scripted server --------------------------------------------------


class ScriptedServer:
    """An OpenAI-compatible server on 127.0.0.1 that streams `replies`, one per completion, a
    word at a time with `delay` between words. A reply's call body goes to the request that
    carries a grammar, as thau's dialect path asks for it. `prompts` holds what thau sent."""

    def __init__(self, replies: list[str], delay: float = 0.0) -> None:
        self.replies, self.delay, self.prompts = list(replies), delay, []
        self._call_body: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path != "/v1/completions":
                    return self._json(404, {"detail": "Not Found"})
                server.prompts.append(body.get("prompt", ""))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for piece in server.next_reply(bool(body.get("grammar"))):
                        chunk = {"choices": [{"text": piece, "index": 0, "finish_reason": None}]}
                        self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                        self.wfile.flush()
                        time.sleep(server.delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:  # thau stopped reading: that is what some tests are about
                    pass
                self.close_connection = True

            _json = send_json

        self.httpd, self.url = serve(Handler)

    def next_reply(self, grammar: bool) -> list[str]:
        if grammar and self._call_body:
            text = self._call_body.pop()
        else:
            text = self.replies.pop(0) if self.replies else "Done."
            before, tag, after = text.partition("<tool_call>")
            if tag:
                self._call_body.append(after)
                text = before + tag
        words = text.split(" ")
        return [word + " " for word in words[:-1]] + words[-1:]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server():
    started: list[ScriptedServer] = []

    def start(replies: list[str], delay: float = 0.0) -> ScriptedServer:
        started.append(ScriptedServer(replies, delay))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _config(tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    config = tmp_path / "config.yaml"
    config.write_text(f"tools:\n  workspace: {workspace}\n")
    return config


def _thau_command(tmp_path: Path, server: ScriptedServer) -> list[str]:
    return [sys.executable, "-m", "thau_tui.cli", "--config", str(_config(tmp_path)), "--base-url", server.url]


def _thau(tmp_path: Path, server: ScriptedServer, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([*_thau_command(tmp_path, server), *args], cwd=tmp_path, **popen)


def _plain(seen: list[str]) -> str:
    """What the terminal shows, without rich's colour sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", "".join(seen))


def _read_until(fd: int, wanted: str, seen: list[str], after: str = "", timeout: float = 60) -> bool:
    """Read `fd` into `seen` until `wanted` is in it past the last `after`; False at EOF or
    after `timeout`."""
    end = time.monotonic() + timeout

    def found() -> bool:
        text = _plain(seen)
        return wanted in text[max(0, text.rfind(after)) if after else 0 :]

    while not found():
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:  # the pty's other end closed
            return False
        if not data:
            return False
        seen.append(data.decode(errors="replace"))
    return True


@pytest.mark.slow
def test_a_question_goes_to_the_terminal_when_stdout_is_a_file(tmp_path, scripted_server):
    """`thau -m 'ask me' > out.txt` at a terminal: the question went into out.txt, the terminal
    showed nothing and thau waited; Ctrl+D then ended it with two tracebacks and exit 1."""
    ask = hermes_call("ask_user", question="Which colour?")
    server = scripted_server(
        [f"Sure. {ask}", f"Right. {hermes_call('ask_user', question='And the size?')}", "Teal it is."]
    )
    master, terminal = os.openpty()
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        child = _thau(tmp_path, server, "-m", "ask me", stdin=terminal, stdout=stdout, stderr=terminal)
    os.close(terminal)
    seen: list[str] = []
    try:
        assert _read_until(master, "Ctrl+D leaves it unanswered): ", seen), "".join(seen)
        assert "question: Which colour?" in _plain(seen)
        os.write(master, b"teal\n")
        assert _read_until(master, "Ctrl+D leaves it unanswered): ", seen, after="And the size?"), "".join(seen)
        os.write(master, b"\x04")  # Ctrl+D: the question is left unanswered
        _read_until(master, "\0", seen)  # everything until thau exits
        assert child.wait(timeout=60) == 0, "".join(seen)
    finally:
        child.kill()
        os.close(master)
    shown = _plain(seen)
    assert "Traceback" not in shown and "EOFError" not in shown, shown
    assert "Which colour?" not in out.read_text()  # stdout holds the answer alone
    assert "Teal it is." in out.read_text()
    last = server.prompts[-1]  # the whole chat, both results in it
    assert "teal" in last  # the typed answer reached the model
    assert "the user dismissed the question" in last


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_answer_quietly(tmp_path, scripted_server):
    """`thau -m ... | head -c 5` printed a 24-line BrokenPipeError traceback and exited 1."""
    server = scripted_server([" ".join(f"word{i}" for i in range(200))], delay=0.01)
    child = _thau(tmp_path, server, "-m", "count", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.read(5)
    child.stdout.close()  # as head does once it has its 5 bytes
    err = child.stderr.read().decode(errors="replace")
    assert child.wait(timeout=60) == 141, err
    assert first == b"word0"
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert "141 when stdout is closed" in " ".join(cli.build_parser().format_help().split())


@pytest.mark.slow
def test_ctrl_c_during_a_shell_command_stops_it_without_a_crash(tmp_path, scripted_server, thau_home):
    """Ctrl+C while run_shell ran `sleep 77` said "the run_shell tool crashed" with an EBADF
    traceback: the shell was closed while the tool thread still read it."""
    server = scripted_server([hermes_call("run_shell", command="sleep 77"), "Stopped."])
    child = _thau(tmp_path, server, "--yes", "-m", "sleep", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stderr is not None
    seen: list[str] = []
    try:
        assert _read_until(child.stderr.fileno(), "tool run_shell", seen), "".join(seen)
        time.sleep(1.5)  # the command is running
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    err = "".join(seen) + err.decode(errors="replace")
    assert child.returncode == 130, err
    assert "Traceback" not in err and "crashed" not in err and "Bad file descriptor" not in err, err
    assert "run_shell: cancelled" in err
    db = sqlite3.connect(thau_home / "data" / "sessions.sqlite3")
    try:  # the call's end was saved before the shell closed
        assert [row[0] for row in db.execute("SELECT status FROM tool_calls")] == ["cancelled"]
    finally:
        db.close()


@pytest.mark.slow
def test_ctrl_c_while_the_model_loads_is_one_line(tmp_path):
    """Ctrl+C during "loading model…" against a server that never answers printed a long
    httpx traceback."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are accepted by the kernel and never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
    command = [sys.executable, "-m", "thau_tui.cli", "--config", str(_config(tmp_path)), "--base-url", url, "-m", "hi"]
    child = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(6)  # started, and waiting on the server
        assert child.poll() is None, child.communicate()
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    finally:
        child.kill()
        silent.close()
    said = err.decode(errors="replace")
    assert child.returncode == 130, said
    assert said.strip() == "thau: stopped (Ctrl+C)", said


@pytest.mark.slow
def test_sigterm_mid_answer_saves_what_was_shown_and_exits_143(tmp_path, scripted_server, thau_home):
    """SIGTERM (a job's timeout, kill) ended thau with the answer saved only up to its last
    batch: word5 in the chat, word8 on stdout (headless review)."""
    server = scripted_server([" ".join(f"word{i}" for i in range(400))], delay=0.05)
    child = _thau(tmp_path, server, "-m", "count", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    shown = b""
    try:
        while b"word12 " not in shown:
            piece = child.stdout.read1(4096)
            assert piece, "the answer ended early"
            shown += piece
        child.send_signal(signal.SIGTERM)
        rest, err = child.communicate(timeout=60)
    finally:
        child.kill()
    shown += rest
    assert child.returncode == 143, err.decode(errors="replace")
    db = sqlite3.connect(thau_home / "data" / "sessions.sqlite3")
    try:
        saved = [row[0] for row in db.execute("SELECT content FROM messages WHERE role = 'assistant'")]
    finally:
        db.close()
    assert len(saved) == 1 and saved[0].strip() == shown.decode().strip(), (saved, shown)


@pytest.mark.slow
def test_stdout_full_closed_or_stderr_gone_end_with_a_line_not_a_traceback(tmp_path, scripted_server, thau_home):
    """The headless review of 2026-12-07: stdout on a full disk ended in a 25-line OSError
    traceback; stdout closed (`>&-`) in an AttributeError, with the answer not saved; stderr
    closed (`2>&-`) made the whole run fail with nothing on stdout."""
    server = scripted_server(["word " * 200, "A short answer.", "Another answer."])
    with open("/dev/full", "w") as full:  # every write: No space left on device
        done = _thau(tmp_path, server, "-m", "long", stdout=full, stderr=subprocess.PIPE, text=True)
        _out, err = done.communicate(timeout=60)
    assert done.returncode == 1 and "Traceback" not in err, err
    assert "cannot write the answer to stdout: No space left on device" in err
    closed = _thau(tmp_path, server, "-m", "hi", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    closed.wait(timeout=60)  # a plain run first: the server's next reply is the short one
    stdout_closed = subprocess.run(
        [*(_thau_command(tmp_path, server)), "-m", "hi"],
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        close_fds=True,
        preexec_fn=lambda: os.close(1),
        cwd=tmp_path,
        timeout=60,
    )
    assert stdout_closed.returncode == 2 and "Traceback" not in stdout_closed.stderr, stdout_closed.stderr
    assert "stdout is closed, so the answer has nowhere to go" in stdout_closed.stderr
    stderr_closed = subprocess.run(
        [*(_thau_command(tmp_path, server)), "-m", "hi"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(2),
        cwd=tmp_path,
        timeout=60,
    )
    assert stderr_closed.returncode == 0 and "Another answer." in stderr_closed.stdout, stderr_closed


@pytest.mark.slow
def test_a_question_with_stderr_redirected_is_not_waited_for(tmp_path, scripted_server):
    """stdin a terminal, stderr to a file: thau waited for an answer to a question only the
    file showed (headless review). The model is told no one can answer, and thau goes on."""
    server = scripted_server([hermes_call("ask_user", question="Which colour?"), "Fine, blue."])
    master, terminal = os.openpty()
    try:
        done = _thau(
            tmp_path, server, "-m", "ask me", stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err = done.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(terminal)
    assert done.returncode == 0, err
    assert "(not asked: stdin or stderr is not a terminal)" in err and "Fine, blue." in out


def test_a_notice_after_a_partial_line_starts_its_own_line(capsys):
    """ "part15 error: the connection ... broke" read as one line on a terminal: stderr's
    notice went on after the answer's unfinished line (headless review)."""
    import io

    from rich.console import Console

    from thau_tui.config import Config
    from thau_tui.headless import OneAnswer

    err = io.StringIO()
    answer = OneAnswer(None, Config(), Console(file=err, width=200), yes=False)  # type: ignore[arg-type]
    answer.out("part15")
    answer.said(("error:", "red"), " the connection broke")
    answer.out("a whole line\n")
    answer.said("tool run_shell: done")
    assert capsys.readouterr().out == "part15a whole line\n"
    assert err.getvalue() == "\nerror: the connection broke\ntool run_shell: done\n", repr(err.getvalue())


@pytest.mark.slow
def test_piped_stdin_reaches_the_model_and_a_silent_pipe_is_said(tmp_path, scripted_server, thau_home):
    """`seq 1 2000 | thau -m "How many lines are on stdin?"` answered without the data (the model
    tried `wc -l stdin`), and `seq 1 2000000 | thau -m -` sent "-" and exited 0 (long-chat
    review). A pipe that stays silent is said on stderr, not waited on without a word."""
    server = scripted_server(["2000.", "Refused anyway."])
    child = _thau(
        tmp_path,
        server,
        "-m",
        "How many lines are on stdin?",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stderr is not None
    seen: list[str] = []
    try:
        assert _read_until(child.stderr.fileno(), "waiting for stdin: its text goes into the message", seen), "".join(
            seen
        )
        out, err = child.communicate(b"".join(b"%d\n" % i for i in range(1, 2001)), timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, "".join(seen) + err.decode(errors="replace")
    assert out.decode().strip() == "2000."
    assert "How many lines are on stdin?\n\n```\n1\n2\n" in server.prompts[-1]
    assert "\n1999\n2000\n```" in server.prompts[-1]
    seq = subprocess.Popen(["seq", "1", "2000000"], stdout=subprocess.PIPE)
    try:
        done = subprocess.run(
            [*_thau_command(tmp_path, server), "-m", "-"], stdin=seq.stdout, capture_output=True, text=True, timeout=60
        )
    finally:
        assert seq.stdout is not None
        seq.stdout.close()
        seq.wait(timeout=60)
    assert done.returncode == 2, done.stderr
    assert "thau: stdin holds more than 160 KiB" in done.stderr and "Traceback" not in done.stderr
    assert seq.returncode == -signal.SIGPIPE  # it was not read to the end
    assert len(server.prompts) == 1  # nothing more was sent


def test_a_launcher_in_approvable_by_name_is_said_and_left_out(one_shot):
    """tools.shell.approvable_by_name adds programs to the list `a` may allow by name; an
    interpreter there would have been ignored without a word."""
    try:
        code, _out, err, _ = one_shot(["Hello."], tools=("  shell:", "    approvable_by_name: [python3, hadolint]"))
        assert code == 0, err
        assert "tools.shell.approvable_by_name: python3 left out (it runs whatever code it is given: thau never" in err
        assert approvable_by_name("hadolint") and not approvable_by_name("python3")
    finally:
        set_added([])
