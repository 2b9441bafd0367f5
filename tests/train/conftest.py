"""Fixtures for the training tests: a tiny llama GGUF with the bundled model's real tokenizer.

The tiny model (2 layers, 64 wide, float32) is built from a config with random
weights and written with the gguf package, so both transformers (`gguf_file=`)
and llama-cpp-python load it in well under a second, and float32 weights make
their outputs comparable token for token.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thau_tui.paths import bundled_model
from thau_tui.train.data import build_dataset

TINY = {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_head_kv": 2, "n_ff": 128}


def write_tiny_llama_gguf(
    path: Path,
    *,
    seed: int = 0,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 2,
    n_ff: int = 128,
    n_vocab: int = 2048,
) -> Path:
    """A random llama GGUF in llama.cpp's layout, with the bundled model's tokenizer cut to `n_vocab` tokens.

    SmolLM2's BPE lists its special tokens and bytes first, then one token per merge
    in merge order (merge i makes token 252 + i), so its first n_vocab tokens and
    first n_vocab - 252 merges are a complete, smaller tokenizer: fast to load.
    """
    import gguf

    source = gguf.GGUFReader(str(bundled_model()))
    value = lambda key: source.fields[key].contents()  # noqa: E731
    tokens = value("tokenizer.ggml.tokens")[:n_vocab]
    first_merge_token = 252
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama-test")
    writer.add_context_length(512)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model(value("tokenizer.ggml.model"))
    writer.add_tokenizer_pre(value("tokenizer.ggml.pre"))
    writer.add_token_list(tokens)
    writer.add_token_types(value("tokenizer.ggml.token_type")[:n_vocab])
    writer.add_token_merges(value("tokenizer.ggml.merges")[: n_vocab - first_merge_token])
    writer.add_bos_token_id(value("tokenizer.ggml.bos_token_id"))
    writer.add_eos_token_id(value("tokenizer.ggml.eos_token_id"))
    writer.add_unk_token_id(value("tokenizer.ggml.unknown_token_id"))
    writer.add_pad_token_id(value("tokenizer.ggml.padding_token_id"))
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(value("tokenizer.chat_template"))

    rng = np.random.default_rng(seed)
    head_dim = n_embd // n_head

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    writer.add_tensor("token_embd.weight", (rng.standard_normal((len(tokens), n_embd)) * 0.5).astype(np.float32))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    # An output head of its own: with tied embeddings a random model just repeats its last token.
    writer.add_tensor("output.weight", matrix(len(tokens), n_embd) * 4)
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", matrix(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.attn_k.weight", matrix(n_head_kv * head_dim, n_embd))
        writer.add_tensor(f"blk.{i}.attn_v.weight", matrix(n_head_kv * head_dim, n_embd))
        writer.add_tensor(f"blk.{i}.attn_output.weight", matrix(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", matrix(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", matrix(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", matrix(n_embd, n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """A tiny llama GGUF shared by the training tests."""
    return write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-model") / "tiny-llama.gguf")


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A small data set built the real way (built-in tools, hermes dialect)."""
    out = tmp_path_factory.mktemp("data")
    build_dataset(out, n_train=8, n_eval=4, seed=3, count_tokens=False)
    return out
