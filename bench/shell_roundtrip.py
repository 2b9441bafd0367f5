"""How much a persistent shell saves: `echo hi` through ShellSandbox vs a fresh bash each time.

Runs both 50 times, interleaved so both see the same machine load, and prints
the medians and their ratio. The sandbox used is whatever config.yaml's
default picks here (bubblewrap when it works); pass --no-sandbox to compare
bash with bash.

    python bench/shell_roundtrip.py [--runs 50] [--no-sandbox]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from thau_tui.config import Config  # noqa: E402
from thau_tui.tools.sandbox import sandbox_prefix, sandbox_status  # noqa: E402
from thau_tui.tools.shell import ShellSandbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-sandbox", action="store_true", help="run the persistent shell without a sandbox")
    options = parser.parse_args()
    config = Config()
    if options.no_sandbox:
        config.tools.shell.sandbox = "none"
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        shell = ShellSandbox(workspace, config)
        shell.run("true")  # start-up is paid once per chat, not per command
        fresh_argv = [*sandbox_prefix(workspace, config), "bash", "-c", "echo hi"]
        persistent, fresh, fresh_sandboxed = [], [], []
        try:
            for _ in range(options.runs):
                start = time.perf_counter()
                result = shell.run("echo hi")
                persistent.append(time.perf_counter() - start)
                assert result.output.startswith("hi"), result.output

                start = time.perf_counter()
                done = subprocess.run(["bash", "-c", "echo hi"], capture_output=True, text=True)
                fresh.append(time.perf_counter() - start)
                assert done.stdout == "hi\n"

                start = time.perf_counter()
                subprocess.run(fresh_argv, capture_output=True, text=True)
                fresh_sandboxed.append(time.perf_counter() - start)
        finally:
            shell.close()
    p, f, fs = (statistics.median(x) * 1000 for x in (persistent, fresh, fresh_sandboxed))
    print(f"sandbox: {sandbox_status(config)}")
    print(f"persistent ShellSandbox      median {p:7.2f} ms  ({options.runs} runs)")
    print(f"fresh bash -c per command    median {f:7.2f} ms  ({options.runs} runs)")
    print(f"fresh sandboxed bash -c      median {fs:7.2f} ms  ({options.runs} runs)")
    print(f"ratio fresh bash / persistent: {f / p:.1f}x   fresh sandboxed / persistent: {fs / p:.1f}x")


if __name__ == "__main__":
    main()
