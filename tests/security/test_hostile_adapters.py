"""LoRA adapter files thau did not write: one planted in model.lora_path, sent, or listed by
Ctrl+O for another model. Each is refused with a reason, never loaded to crash later.

llama-cpp-python 0.3 took llama.cpp's NULL answer for a refused adapter as a loaded one: the
model loaded and its first token ended thau with a segmentation fault, for an adapter made
for another model or missing a tensor (attacker review)."""

from __future__ import annotations

import time

import gguf
import numpy as np
import pytest

from thau_tui.engine.backend import LlamaBackend, ModelLoadError, check_adapter
from thau_tui.paths import bundled_model

F32 = gguf.GGMLQuantizationType.F32
EMBED = 576  # SmolLM2-135M's width


def _adapter(path, tensors, arch="llama", extra=None, alpha=None):
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    (alpha or (lambda w: w.add_float32("adapter.lora.alpha", 16.0)))(writer)
    for key, value in (extra or {}).items():
        writer.add_array(key, value)
    for name, array in tensors:
        writer.add_tensor(name, array, raw_dtype=F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _pair(layer="blk.0.attn_q.weight", rank=8, out=EMBED, into=EMBED):
    # ggml order as llama.cpp's converter writes it: lora_a (in, rank), lora_b (rank, out)
    return [
        (f"{layer}.lora_a", np.zeros((rank, into), np.float32)),
        (f"{layer}.lora_b", np.zeros((out, rank), np.float32)),
    ]


REFUSED_BY_LLAMA_CPP = {
    "another_width": (_pair(out=EMBED * 2), {}, "incorrect shape"),
    "half_a_pair": (_pair()[:1], {}, "missing one component"),
    "another_arch": (_pair(), {"arch": "gpt2"}, "arch"),
    "a_layer_it_lacks": (_pair(layer="blk.99.attn_q.weight"), {}, "does not exist"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BY_LLAMA_CPP))
def test_an_adapter_llama_cpp_refuses_is_not_loaded(tmp_path, case):
    tensors, kwargs, said = REFUSED_BY_LLAMA_CPP[case]
    path = _adapter(tmp_path / f"{case}.lora.gguf", tensors, **kwargs)
    check_adapter(path)  # a well-formed adapter: only the model can tell it does not fit
    with pytest.raises(ModelLoadError, match=said) as caught:
        LlamaBackend(bundled_model(), lora_path=path, n_ctx=512)
    assert f"{case}.lora.gguf" in str(caught.value) and "Ctrl+O" in str(caught.value)


def test_a_refused_adapter_in_the_config_ends_a_one_shot_message_with_the_reason(tmp_path):
    path = _adapter(tmp_path / "wide.lora.gguf", _pair(out=EMBED * 2))
    config = tmp_path / "config.yaml"
    config.write_text(f"model:\n  lora_path: {path}\n")
    from test_thau_cli import thau

    done = thau("--config", str(config), "-m", "hi", env_extra={"THAU_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    assert done.returncode not in (-11, -6, 139, 134), done.returncode  # SIGSEGV before
    assert done.returncode != 0 and "incorrect shape" in done.stderr, done.stderr[-600:]


def test_tensors_that_are_not_two_dimensional_are_refused_before_llama_cpp_sees_them(tmp_path):
    """llama.cpp aborts the whole process on a 3-D LoRA tensor."""
    path = _adapter(tmp_path / "cube.lora.gguf", [("blk.0.attn_q.weight.lora_a", np.zeros((2, 8, EMBED), np.float32))])
    with pytest.raises(ModelLoadError, match="3 dimensions"):
        check_adapter(path)


def test_a_header_of_many_array_values_is_refused_at_once(tmp_path):
    """2 million empty strings in a 16 MB adapter took the gguf reader 44 s and 3.2 GB."""
    path = _adapter(tmp_path / "bloated.lora.gguf", _pair(), extra={"junk.strings": [""] * 200_000})
    started = time.perf_counter()
    with pytest.raises(ModelLoadError, match="200,000 array values"):
        check_adapter(path)
    assert time.perf_counter() - started < 2.0


def test_a_header_value_of_the_wrong_type_is_refused_before_llama_cpp_asserts_on_it(tmp_path):
    """adapter.lora.alpha written as a string or an integer passed the check, and llama.cpp's
    typed getter aborted thau (GGML_ASSERT, exit 134: attacker re-review)."""
    for name, alpha in (
        ("text", lambda w: w.add_string("adapter.lora.alpha", "16")),
        ("whole", lambda w: w.add_uint32("adapter.lora.alpha", 16)),
    ):
        path = _adapter(tmp_path / f"{name}.lora.gguf", _pair(), alpha=alpha)
        with pytest.raises(ModelLoadError, match="adapter.lora.alpha is (STRING|UINT32), not FLOAT32"):
            check_adapter(path)
    check_adapter(_adapter(tmp_path / "fine.lora.gguf", _pair()))  # a float32 alpha passes
