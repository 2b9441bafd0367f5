"""`thau --message` and `thau doctor` as a user runs them: real processes, real model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def thau(*args: str, env_extra: dict | None = None, cwd: Path | None = None, timeout: int = 300):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "thau_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd or ROOT,
    )


def test_message_prints_an_answer_and_exits_zero(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("generation:\n  max_tokens: 24\n  temperature: 0.0\n")
    done = thau("--config", str(config), "--message", "Say hello.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_message_with_missing_model_fails_clearly(tmp_path):
    done = thau("--model", str(tmp_path / "nope.gguf"), "--message", "hi")
    assert done.returncode != 0
    assert "model file not found" in done.stderr and "model.path" in done.stderr


def test_a_folder_as_the_model_and_an_empty_message_are_said_plainly(tmp_path):
    """--model /tmp said 'model file not found: /tmp', and -m "" sent an empty message and
    answered it (first-hour review)."""
    done = thau("--model", str(tmp_path), "--message", "hi", env_extra={"THAU_HOME": str(tmp_path / "h")})
    assert done.returncode == 2 and "is a folder, not a GGUF file" in done.stderr, done.stderr
    assert "Ctrl+O in the chat" not in done.stderr or "--model" in done.stderr
    done = thau("--message", "  ", env_extra={"THAU_HOME": str(tmp_path / "h")}, timeout=60)
    assert done.returncode == 2 and "--message is empty" in done.stderr, done.stderr


def test_message_with_broken_config_still_answers(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("generation:\n  max_tokens: 16\n  colour: blue\n")
    done = thau("--config", str(config), "--message", "hi")
    assert "generation.colour: unknown key" in done.stderr
    assert done.returncode == 0


def test_a_config_named_that_does_not_exist_is_a_usage_error(tmp_path):
    """`--config /nonexist.yaml -m ... --yes` ran `ls` on the defaults without a word: a
    mistyped path dropped the user's tools.policy denials, and --yes approved (first-hour review)."""
    done = thau("--config", str(tmp_path / "nonexist.yaml"), "-m", "Run the shell command ls", "--yes", timeout=60)
    assert done.returncode == 2 and "nonexist.yaml: no such file" in done.stderr, (done.returncode, done.stderr)
    assert not done.stdout


def test_yes_without_a_message_is_a_usage_error_not_ignored(tmp_path):
    """`thau --yes` opened the chat and ignored --yes without a word (keyboard review)."""
    done = thau("--yes", env_extra={"THAU_HOME": str(tmp_path / "home")}, timeout=60)
    assert done.returncode == 2 and "--yes goes with --message" in done.stderr, (done.returncode, done.stderr)


def test_doctor_reports_what_it_sees(tmp_path):
    done = thau("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "llama-cpp-python" in out and any(f"{b} build" in out for b in ("CPU", "Metal", "CUDA"))
    assert "torch" in out and "SmolLM2-135M-Instruct.Q4_1.gguf (found)" in out
    assert "data dir" in out and "shell sandbox" in out
    assert "llama.cpp decode check: ok" in out
    assert "training runs" in out and "cache dir" in out and "problems" not in out


def test_doctor_exits_one_naming_an_invalid_config_and_a_missing_model(tmp_path):
    """doctor said 'config ... INVALID' and exited 0, so a script or CI that runs `thau
    doctor` to check an install passed with a broken config.yaml or no model file."""
    config = tmp_path / "config.yaml"
    config.write_text(f"model:\n  path: {tmp_path / 'gone.gguf'}\ngeneration:\n  colour: blue\n")
    done = thau("--config", str(config), "doctor", cwd=tmp_path, env_extra={"THAU_HOME": str(tmp_path / "h")})
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    problems = done.stdout.strip().splitlines()[-1]
    assert problems.startswith("problems: ") and "gone.gguf is missing" in problems and "is invalid" in problems
    # still one fact a line above it, the runs folder under THAU_HOME included
    assert f"training runs {tmp_path / 'h' / 'data' / 'train' / 'runs'}" in done.stdout


def test_the_chat_draws_its_first_screen_in_a_real_terminal(tmp_path):
    """The chat in a real terminal (a pty, as tmux gives it): its first screen, the welcome
    included, reaches the terminal while the model loads. It used to be lost (a blank screen
    until a resize) because loading pointed fd 2, where Textual draws, at /dev/null."""
    import pexpect

    child = spawn_chat(tmp_path, 40, 120)
    try:
        # the welcome note comes before (or in one frame above) the status line's model name
        first = child.expect(["Ask anything", "SmolLM2-135M-Instruct"])
        assert first == 0, "the model loaded but the first screen (the welcome) never reached the terminal"
        child.sendcontrol("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_message_with_yes_refuses_a_broken_config(tmp_path):
    """A typo elsewhere in config.yaml dropped the whole file, tools.policy included, and
    --yes then approved run_shell though the user had set it to deny. With errors, --yes is
    refused before any model loads."""
    config = tmp_path / "config.yaml"
    config.write_text("tools:\n  policy:\n    run_shell: denny\n  shell:\n    netwrok: true\n")
    done = thau("--config", str(config), "--yes", "--message", "Run the shell command ls", timeout=60)
    assert done.returncode == 2 and "--yes is refused while config.yaml has errors" in done.stderr
    assert "tools.shell.netwrok: unknown key" in done.stderr and not done.stdout


def test_a_cut_adapter_is_refused_before_llama_cpp_loads_it(tmp_path):
    """A LoRA GGUF cut short (a copy stopped by a full disk) loaded without a word, and the
    first token ended thau with a segmentation fault, at every start with it in
    model.lora_path; `thau doctor` said nothing (training review)."""
    from thau_tui.engine.backend import LlamaBackend, ModelLoadError
    from thau_tui.paths import bundled_adapter, bundled_model

    adapter = bundled_adapter()
    assert adapter is not None
    cut = tmp_path / "cut.lora.gguf"
    cut.write_bytes(adapter.read_bytes()[:100_000])
    try:
        LlamaBackend(bundled_model(), lora_path=cut, n_ctx=512)
        raise AssertionError("the cut adapter was loaded")
    except ModelLoadError as exc:
        assert "cut.lora.gguf is damaged" in str(exc) and "thau export" in str(exc)
    config = tmp_path / "config.yaml"
    config.write_text(f"model:\n  lora_path: {cut}\n")
    done = thau("--config", str(config), "doctor", cwd=tmp_path, env_extra={"THAU_HOME": str(tmp_path / "h")})
    assert done.returncode == 1 and "cut.lora.gguf is damaged" in done.stdout.splitlines()[-1], done.stdout
    # a model given as an adapter, and an adapter whose tensors are of a type no LoRA
    # converter writes (I8 from a changed header byte): both passed the first check and
    # crashed the first token (re-review)
    import gguf
    import numpy as np

    odd = tmp_path / "odd.lora.gguf"
    writer = gguf.GGUFWriter(str(odd), "llama")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.ones((4, 576), dtype=np.int8))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.ones((576, 4), dtype=np.int8))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    for wrong, said in ((odd, "is I8, not a LoRA tensor type"), (bundled_model(), "general.type is 'model'")):
        try:
            LlamaBackend(bundled_model(), lora_path=wrong, n_ctx=512)
            raise AssertionError(f"{wrong.name} was loaded")
        except ModelLoadError as exc:
            assert said in str(exc), str(exc)
    # and a one-shot message says so and exits, where it died with SIGSEGV
    done = thau("--config", str(config), "-m", "hi", env_extra={"THAU_HOME": str(tmp_path / "h")}, timeout=120)
    assert done.returncode != -11 and "damaged" in done.stderr, (done.returncode, done.stderr[-500:])


def test_a_config_that_is_a_dangling_link_is_not_taken_for_no_config(tmp_path):
    """A link to a file that does not exist ran on the defaults, and --yes then approved what
    the user's tools.policy denies: as --config (the check looked at the link itself) and at
    the usual place, where doctor said 'missing, using defaults' (re-review)."""
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to(tmp_path / "gone" / "x.yaml")
    done = thau("--config", str(dangling), "-m", "Run the shell command: echo hi", "--yes", timeout=60)
    assert done.returncode == 2 and "no such file" in done.stderr and "hi\n" not in done.stdout, done.stderr
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.yaml").symlink_to(tmp_path / "gone" / "y.yaml")
    done = thau("-m", "Run the shell command: echo hi", "--yes", env_extra={"THAU_HOME": str(home)}, timeout=120)
    assert done.returncode == 2 and "--yes is refused while config.yaml has errors" in done.stderr, done.stderr
    assert "which does not exist" in done.stderr
    done = thau("doctor", env_extra={"THAU_HOME": str(home)}, cwd=tmp_path)
    assert done.returncode == 1 and "missing, using defaults" not in done.stdout


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_give_the_terminal_back_and_keep_the_draft(tmp_path, number, monkeypatch):
    """SIGTERM ended the chat on the spot: the shell was left on the alternate screen with
    mouse reporting on and the cursor hidden until `reset` (reliability review). Now it ends
    as Ctrl+Q does: the screen restored, the draft kept, and the signal's exit status."""
    import pexpect

    from thau_tui.paths import unsent_left

    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    child = spawn_chat(tmp_path)
    try:
        child.expect("SmolLM2-135M-Instruct")  # loaded: the prompt is live
        child.send("half a thought")
        child.expect("thought")
        time.sleep(0.5)
        child.kill(number)
        child.expect(pexpect.EOF)
        after = child.before
    finally:
        child.close(force=True)
    # and no segmentation fault at exit (llama.cpp's model freed after its library: release_model)
    assert child.exitstatus == 128 + number, (child.exitstatus, child.signalstatus)
    assert b"\x1b[?1049l" in after, "the alternate screen was left on"  # Textual's driver stopped
    assert b"\x1b[?1000l" in after and b"\x1b[?25h" in after, "mouse reporting or a hidden cursor was left"
    assert [path.read_text() for path in unsent_left()] == ["half a thought"]


def test_ctrl_q_ends_the_chat_without_a_crash_every_time(tmp_path, monkeypatch):
    """About every second Ctrl+Q ended thau with a segmentation fault once the screen was
    restored: llama.cpp's model was freed by the garbage collector at exit, after the
    library itself (release_model frees it first). Four quits in a row, each exit status 0."""
    import pexpect

    monkeypatch.setenv("THAU_HOME", str(tmp_path / "home"))
    statuses = []
    for _ in range(4):
        child = spawn_chat(tmp_path)
        try:
            child.expect("SmolLM2-135M-Instruct")
            child.sendcontrol("q")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        statuses.append((child.exitstatus, child.signalstatus))
    assert statuses == [(0, None)] * 4, statuses


def spawn_chat(tmp_path, rows: int = 30, columns: int = 100):
    """`thau` in a real terminal (a pty, as tmux gives it), started in `tmp_path`."""
    import pexpect

    return pexpect.spawn(
        sys.executable,
        ["-m", "thau_tui.cli"],
        cwd=str(tmp_path),
        env={**os.environ, "TERM": "xterm-256color"},
        dimensions=(rows, columns),
        timeout=120,
    )


def test_a_question_typed_while_thau_starts_waits_in_the_prompt(tmp_path):
    """Keys typed at once after `thau` were thrown away with the terminal probe's answer
    (known-left since the probe fix): a question typed while thau started was lost. What was
    typed before the probe is now read first and put in the prompt, not sent."""
    import pexpect

    child = spawn_chat(tmp_path, 40, 120)
    try:
        child.send("typed ahead words")  # before Python has even imported thau (the terminal echoes it)
        child.expect("Ask anything", timeout=120)  # the app's first screen: the echo came before it
        child.expect("typed ahead words", timeout=30)  # drawn in the prompt
        child.sendcontrol("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_typed_ahead_bytes_become_prompt_text():
    from thau_tui.type_ahead import as_text

    assert as_text(b"early keys\x1b[Dx") == "early keysx"  # an arrow left out
    assert as_text(b"hel\x7flo\r") == "helo"  # backspace takes a character back; no send
    assert as_text("¿qué tal?\x1b[?1;2c".encode()) == "¿qué tal?"  # a terminal's late answer
    assert as_text(b"one\rtwo\x03") == "one\ntwo"
