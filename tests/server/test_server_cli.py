"""`thau --base-url URL [--server-model NAME]` against the real server: a one-shot answer,
`thau doctor`'s backend lines, and the message when nothing listens there."""

from __future__ import annotations

import json
from pathlib import Path

from server_fakes import free_port

from thau_tui.cli import _config, build_parser, main


def _config_file(tmp_path, key_env: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"model:\n  api_key_env: {key_env}\n  n_ctx: 2048\ngeneration:\n  max_tokens: 24\n  temperature: 0.0\n",
        encoding="utf-8",
    )
    return str(path)


def test_flags_choose_the_server_backend_and_leave_model_alone(tmp_path):
    args = build_parser().parse_args(
        ["--config", str(tmp_path / "none.yaml"), "--base-url", "http://h:1/v1", "--server-model", "qwen"]
    )
    model = _config(args).config.model
    assert (model.backend, model.base_url, model.server_model, model.path) == ("openai", "http://h:1/v1", "qwen", None)
    plain = _config(build_parser().parse_args(["--config", str(tmp_path / "none.yaml")])).config.model
    assert plain.backend == "llama_cpp"


def test_one_shot_message_through_the_server(llama_server, server_key, tmp_path, capsys):
    config = _config_file(tmp_path, server_key)
    code = main(["--config", config, "--base-url", llama_server.url, "-m", "Say hello."])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip()


def test_doctor_reports_the_server(llama_server, server_key, tmp_path, capsys):
    config = _config_file(tmp_path, server_key)
    assert main(["--config", config, "--base-url", llama_server.url, "doctor"]) == 0
    out = capsys.readouterr().out
    assert f"backend openai at {llama_server.url}" in out
    assert "server: reachable; model " in out and "SmolLM2-135M-Instruct.Q4_1.gguf found" in out
    # the bundled model's template shows no tools: the probe finds the server ignores them
    assert "tools: dialect: thau's own dialect over /v1/completions (the server ignores the tools field" in out, out
    # a model the server lacks stops thau as a missing GGUF does: exit 1 (it was 0: servers review)
    assert main(["--config", config, "--base-url", llama_server.url, "--server-model", "nope", "doctor"]) == 1
    out = capsys.readouterr().out
    assert "reachable, but the server at" in out and out.splitlines()[-1].startswith("problems: the server at"), out


def test_doctor_says_native_on_a_server_that_does_tools(tools_server, server_key, tmp_path, capsys):
    config = _config_file(tmp_path, server_key)
    assert main(["--config", config, "--base-url", tools_server.url, "doctor"]) == 0
    out = capsys.readouterr().out
    assert "tools: native: the server's tools field on /v1/chat/completions (the server reads the tools field" in out, (
        out
    )
    forced = tmp_path / "forced.yaml"
    forced.write_text(Path(config).read_text(encoding="utf-8").replace("model:\n", "model:\n  tool_calls: dialect\n"))
    assert main(["--config", str(forced), "--base-url", tools_server.url, "doctor"]) == 0
    assert (
        "tools: dialect: thau's own dialect over /v1/completions (model.tool_calls: dialect" in capsys.readouterr().out
    )


def test_doctor_and_one_shot_without_a_server(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = str(tmp_path / "empty.yaml")
    Path(config).write_text("")  # the defaults (a --config that does not exist is a usage error)
    assert main(["--config", config, "--base-url", url, "doctor"]) == 1
    out = capsys.readouterr().out
    assert "server: NOT REACHABLE: no server at" in out and "problems: NOT REACHABLE: no server at" in out, out
    assert main(["--config", config, "--base-url", url, "-m", "hi"]) == 2
    assert "no server at" in capsys.readouterr().err
    assert main(["--config", config, "doctor"]) == 0
    assert "backend llama_cpp" in capsys.readouterr().out


def test_a_servers_words_reach_the_terminal_with_their_control_characters_shown(fake_server, tmp_path, capsys):
    """A hostile server's model id went to the terminal as it was: `thau doctor` printed
    an OSC 52 (sets the clipboard) and ESC[2J (clears the screen), and `thau -m` with
    another --server-model printed them in its error."""
    from server_fakes import send_json

    evil = "m\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\u202efake"
    models = json.dumps({"object": "list", "data": [{"id": evil, "object": "model"}]}).encode()

    def respond(path, conn):
        if path == "/v1/models":
            send_json(conn, models)
        else:
            send_json(conn, b'{"detail": "Not Found"}', b"404 Not Found")

    server = fake_server(respond)
    config = str(tmp_path / "empty.yaml")
    Path(config).write_text("")  # the defaults (a --config that does not exist is a usage error)
    assert main(["--config", config, "--base-url", server.url, "doctor"]) == 0
    out = capsys.readouterr().out
    assert "ZWNobyBwd25lZA==" in out  # the id is shown
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert main(["--config", config, "--base-url", server.url, "--server-model", "other", "-m", "hi"]) == 2
    err = capsys.readouterr().err
    assert "ZWNobyBwd25lZA==" in err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err


def test_one_shot_prints_a_lone_surrogate_from_the_server_without_dying(fake_server, tmp_path):
    """From the engine review: a chunk whose JSON held "\\ud800" reached `thau -m`'s
    stdout as a lone surrogate, and the UTF-8 terminal's encoder ended the run with a
    UnicodeEncodeError (exit 1). It is shown as <U+D800> now."""
    import subprocess
    import sys

    from server_fakes import serving

    (tmp_path / "empty.yaml").write_text("")  # the defaults
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"

    def completions(conn):
        conn.sendall(head + b'data: {"choices": [{"index": 0, "text": "caf\\ud800 ok"}]}\n\n')
        conn.sendall(b'data: {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
        conn.close()

    server = fake_server(serving(completions))
    env = {"PATH": "/usr/bin:/bin", "THAU_HOME": str(tmp_path / "home"), "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8"}
    done = subprocess.run(
        [sys.executable, "-m", "thau_tui.cli", "--config", str(tmp_path / "empty.yaml"), "--base-url", server.url]
        + ["-m", "hi"],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-600:]
    assert "caf<U+D800> ok" in done.stdout.decode("utf-8")
