"""Ctrl+Q while thau connects to a model server: the screen blanked at once, but the process
lived on until the request in progress ran out of model.timeout, ~23 s with a /v1/models
that sent a space every half second (servers review). The real `thau`, in a terminal (a
pty), against such a server on 127.0.0.1."""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

import pytest

TIMEOUT_S = 60  # model.timeout: the wait before the fix


class DrippingServer:
    """/v1/models answered with a JSON list that never ends: a space every 0.3 s."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.asked = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            self.asked.set()
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"data": [')
                while not self.stop.wait(0.3):
                    conn.sendall(b" ")
            except OSError:  # thau closed it
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def dripping_server():
    server = DrippingServer()
    yield server
    server.close()


def drain(fd: int, seen: list[bytes], seconds: float) -> bool:
    """Read the terminal for `seconds`; False once thau closed it."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # the other end closed: thau is gone
            return False
        if not data:
            return False
        seen.append(data)
    return True


@pytest.mark.slow  # thau in a child process (tests/conftest.py marks such files slow by path)
def test_ctrl_q_while_connecting_exits_at_once(tmp_path, dripping_server):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"model:\n  backend: openai\n  base_url: {dripping_server.url}\n  timeout: {TIMEOUT_S}\n"
        f"tools:\n  workspace: {workspace}\n"
    )
    master, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 110, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "thau_tui.cli", "--config", str(config)],
        cwd=workspace,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,  # the pty is its controlling terminal
    )
    os.close(terminal)
    seen: list[bytes] = []
    try:
        deadline = time.monotonic() + 60
        while not (dripping_server.asked.is_set() and seen):
            assert time.monotonic() < deadline, "thau never asked the server for its models"
            assert drain(master, seen, 0.2), b"".join(seen)[-2000:]
        drain(master, seen, 2.0)  # connecting for a while, the screen drawn and the keys read
        assert child.poll() is None, b"".join(seen)[-2000:]
        os.write(master, b"\x11")  # Ctrl+Q
        quit_at, before_quit = time.monotonic(), len(seen)
        reading = True
        while reading and child.poll() is None and time.monotonic() - quit_at < 10:
            reading = drain(master, seen, 0.2)
        # Before the fix: ~TIMEOUT_S, the request's own limit. A second or two here; 10 s is
        # a bound on a loaded machine, not a measure.
        code = child.wait(timeout=max(0.1, 10 - (time.monotonic() - quit_at)))
        waited = time.monotonic() - quit_at
    except subprocess.TimeoutExpired:
        pytest.fail(f"thau was still running {time.monotonic() - quit_at:.0f} s after Ctrl+Q")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        os.close(master)
    shown = b"".join(seen).decode(errors="replace")
    assert code == 0, shown[-2000:]
    assert waited < 10, f"{waited:.1f} s"
    # nothing said at exit by a load left behind (before it, textual_image's note that this
    # pty does not answer its query of the cell size is no concern of this test)
    after_quit = b"".join(seen[before_quit:]).decode(errors="replace")
    assert "Traceback" not in after_quit and "Exception" not in after_quit, after_quit[-3000:]
