"""tools.python.memory_mb has an upper bound, and run_python works right up to it."""

from __future__ import annotations

from thau_tui.config import PythonToolConfig
from thau_tui.tools.python import run_python


def test_run_python_works_at_the_largest_memory_mb(ctx):
    """10**20 validated, then every run_python failed with 'Exception occurred in
    preexec_fn' (setrlimit overflowed); the largest value allowed now still runs code."""
    bound = next(m.le for m in PythonToolConfig.model_fields["memory_mb"].metadata if hasattr(m, "le"))
    ctx.config.tools.python.memory_mb = bound
    result = run_python({"code": "print(6 * 7)"}, ctx)
    assert result.ok and "42" in result.output, result.output
