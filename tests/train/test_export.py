"""GGUF LoRA export: llama-cpp-python + the exported adapter == transformers + peft, token for token."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import llama_cpp
import pytest
import torch
import yaml

from thau_tui.train.export import ExportError, export_adapter, read_lora_gguf, write_lora_gguf
from thau_tui.train.recipe import Recipe
from thau_tui.train.trainer import add_lora, load_base

PROMPTS = [
    "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nList the files in this folder.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\n¿Qué es una variable?<|im_end|>\n<|im_start|>assistant\n",
]
NEW_TOKENS = 12


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_gguf):
    """A run folder whose adapter has random, clearly non-zero A and B, exported to GGUF."""
    run_dir = tmp_path_factory.mktemp("run")
    recipe = Recipe(base_model=str(tiny_gguf), rank=4, alpha=8, dropout=0.0, seed=1)
    (run_dir / "recipe.yaml").write_text(recipe.to_yaml())
    model, tokenizer, _template = load_base(tiny_gguf)
    base_tokens = [_hf_greedy(model, tokenizer, p) for p in PROMPTS]
    model = add_lora(model, recipe)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:  # B = 0 (peft's init) would make any export look right
                param.copy_(torch.randn(param.shape, generator=generator) * 0.4)
    model.save_pretrained(run_dir / "adapter")
    model.eval()
    tuned_tokens = [_hf_greedy(model, tokenizer, p) for p in PROMPTS]
    path = export_adapter(run_dir)
    return run_dir, path, base_tokens, tuned_tokens, tokenizer


def _hf_greedy(model, tokenizer, prompt: str) -> list[int]:
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False).input_ids])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS, do_sample=False)
    return out[0, ids.shape[1] :].tolist()


def _llama_greedy(llm: llama_cpp.Llama, prompt: str) -> list[int]:
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    llm.reset()
    tokens = []
    for token in llm.generate(ids, temp=0.0, top_k=1, reset=True):
        tokens.append(token)
        if len(tokens) == NEW_TOKENS:
            break
    return tokens


def _last_logits(llm: llama_cpp.Llama, prompt: str):
    import numpy as np

    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[len(ids) - 1])


def test_gguf_metadata_and_tensor_names(exported, tiny_gguf):
    _run, path, *_ = exported
    reader = gguf.GGUFReader(str(path))
    assert reader.fields["general.architecture"].contents() == "llama"
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert reader.fields["adapter.lora.alpha"].contents() == pytest.approx(8.0)
    names = {t.name for t in reader.tensors}
    for i in range(2):
        for part in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
            assert {f"blk.{i}.{part}.weight.lora_a", f"blk.{i}.{part}.weight.lora_b"} <= names
    assert len(names) == 2 * 7 * 2
    shapes = {t.name: tuple(int(x) for x in t.shape) for t in reader.tensors}
    assert shapes["blk.0.attn_k.weight.lora_a"] == (64, 4)  # ggml order: (in, rank)
    assert shapes["blk.0.attn_k.weight.lora_b"] == (4, 32)  # (rank, out = n_head_kv * head_dim)


def test_llama_cpp_with_the_adapter_matches_transformers_with_peft(exported, tiny_gguf):
    _run, path, base_tokens, tuned_tokens, _tok = exported
    assert tuned_tokens != base_tokens  # the adapter really changes the output
    llm = llama_cpp.Llama(str(tiny_gguf), lora_path=str(path), n_ctx=256, n_threads=1, verbose=False, seed=0)
    assert [_llama_greedy(llm, p) for p in PROMPTS] == tuned_tokens


def test_without_the_qk_permutation_llama_cpp_disagrees(exported, tiny_gguf, tmp_path):
    run_dir, _path, _base, tuned_tokens, _tok = exported
    wrong = tmp_path / "unpermuted.gguf"
    write_lora_gguf(run_dir / "adapter", tiny_gguf, wrong, permute_qk=False)
    llm = llama_cpp.Llama(str(tiny_gguf), lora_path=str(wrong), n_ctx=256, n_threads=1, verbose=False, seed=0)
    assert [_llama_greedy(llm, p) for p in PROMPTS] != tuned_tokens


def test_modelfile_and_summary(exported, tiny_gguf):
    run_dir, path, *_ = exported
    modelfile = (run_dir / "Modelfile").read_text().splitlines()
    assert modelfile[0] == f"FROM {tiny_gguf}"
    assert modelfile[1] == f"ADAPTER {path.resolve()}"
    assert json.loads((run_dir / "summary.json").read_text())["adapter_gguf"] == str(path)


def test_a_run_without_an_adapter_says_what_to_do(tmp_path, tiny_gguf):
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump({"base_model": str(tiny_gguf)}))
    with pytest.raises(ExportError, match="finish or resume the run"):
        export_adapter(tmp_path)
    with pytest.raises(ExportError, match="no recipe.yaml"):
        export_adapter(tmp_path / "nowhere")


def test_a_gguf_adapter_reads_back_as_the_peft_weights_it_was_written_from(exported, tiny_gguf, tmp_path):
    """read_lora_gguf undoes the q/k row permutation: every tensor comes back bit for bit."""
    from safetensors.numpy import load_file

    run_dir, path, *_ = exported
    written = load_file(str(run_dir / "adapter" / "adapter_model.safetensors"))
    found = read_lora_gguf(path, tiny_gguf)
    assert (found["rank"], found["alpha"]) == (4, 8.0)
    assert found["modules"] == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    assert set(found["weights"]) == set(written)
    for key, array in written.items():
        assert found["weights"][key].shape == array.shape and (found["weights"][key] == array).all(), key
    # Without the un-permutation q/k lora_b would differ: the permutation is not the identity here.
    wrong = tmp_path / "unpermuted.gguf"
    write_lora_gguf(run_dir / "adapter", tiny_gguf, wrong, permute_qk=False)
    raw = read_lora_gguf(wrong, tiny_gguf)["weights"]
    q_b = next(k for k in written if "q_proj.lora_B" in k)
    assert not (raw[q_b] == written[q_b]).all()


def test_reading_back_refuses_what_is_not_a_lora_adapter(tiny_gguf, tmp_path):
    with pytest.raises(ExportError, match="not a LoRA adapter"):
        read_lora_gguf(tiny_gguf, tiny_gguf)  # a model, not an adapter
    with pytest.raises(ExportError, match="no GGUF adapter"):
        read_lora_gguf(tmp_path / "missing.gguf", tiny_gguf)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf at all")
    with pytest.raises(ExportError, match="not a readable GGUF"):
        read_lora_gguf(junk, tiny_gguf)


def test_f16_and_q8_0_exports_are_smaller_and_llama_cpp_runs_them_alike(exported, tiny_gguf, tmp_path):
    """q8_0 (llama.cpp's 8-bit blocks, as the shipped adapter is stored) quantizes each tensor
    whose rows are whole blocks of 32 and keeps the rest f16; both read back within their
    rounding; llama.cpp gives f16 the f32 adapter's greedy tokens, and q8_0 (which also rounds
    the activations it multiplies) next-token logits within a third of the f32 adapter's own
    distance from the bare model's (this random tiny adapter is far more fragile than a
    trained one: models/README.md has the shipped adapter's q8_0 and f32 scores side by side)."""
    from safetensors.numpy import load_file

    run_dir, path, _base, tuned_tokens, _tok = exported
    written = load_file(str(run_dir / "adapter" / "adapter_model.safetensors"))
    sizes = {"f32": path.stat().st_size}
    for kind, tolerance in (("f16", 1e-3), ("q8_0", 1e-2)):
        out = tmp_path / f"adapter-{kind}.gguf"
        assert write_lora_gguf(run_dir / "adapter", tiny_gguf, out, tensor_type=kind)["tensor_type"] == kind
        sizes[kind] = out.stat().st_size
        types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(str(out)).tensors}
        if kind == "q8_0":  # lora_a rows are 64 wide (whole blocks), lora_b rows are rank 4 wide
            assert types["blk.0.attn_q.weight.lora_a"] == "Q8_0" and types["blk.0.attn_q.weight.lora_b"] == "F16"
        else:
            assert set(types.values()) == {"F16"}
        found = read_lora_gguf(out, tiny_gguf)["weights"]
        for key, array in written.items():
            assert abs(found[key] - array).max() <= tolerance * abs(array).max(), (kind, key)
        llm = llama_cpp.Llama(
            str(tiny_gguf), lora_path=str(out), n_ctx=256, n_threads=1, verbose=False, seed=0, logits_all=True
        )
        if kind == "f16":
            assert [_llama_greedy(llm, p) for p in PROMPTS] == tuned_tokens
        else:
            exact = llama_cpp.Llama(
                str(tiny_gguf), lora_path=str(path), n_ctx=256, n_threads=1, verbose=False, logits_all=True
            )
            bare = llama_cpp.Llama(str(tiny_gguf), n_ctx=256, n_threads=1, verbose=False, logits_all=True)
            for prompt in PROMPTS:
                want, got, plain = (_last_logits(m, prompt) for m in (exact, llm, bare))
                assert abs(got - want).mean() < abs(plain - want).mean() / 3, prompt
    assert sizes["q8_0"] < sizes["f16"] < sizes["f32"]
    with pytest.raises(ExportError, match="unknown tensor type 'q4_0'"):
        write_lora_gguf(run_dir / "adapter", tiny_gguf, tmp_path / "x.gguf", tensor_type="q4_0")


def test_an_export_replaces_a_planted_link_instead_of_writing_through_it(exported, tiny_gguf, tmp_path):
    """From the training review: `thau export RUN --out adapter.gguf` where adapter.gguf was a
    link wrote the GGUF into the file it pointed at. The new file now takes the link's place."""
    run_dir = exported[0]
    victim = tmp_path / "victim"
    victim.write_text("the user's file\n")
    out = tmp_path / "adapter.gguf"
    out.symlink_to(victim)
    write_lora_gguf(run_dir / "adapter", tiny_gguf, out)
    assert victim.read_text() == "the user's file\n"
    assert not out.is_symlink() and out.read_bytes()[:4] == b"GGUF"


def test_an_export_never_writes_its_modelfile_or_summary_through_a_planted_link(exported, tmp_path):
    """Third attacker review: a run folder from a cloned repository held Modelfile ->
    ~/.bashrc and summary.json -> another file; `thau export` wrote through both, and a base
    model path with a line break (from the run's recipe.yaml) put a command into the first."""
    import shutil

    from thau_tui.train.export import modelfile_text

    run_dir = tmp_path / "run"
    shutil.copytree(exported[0], run_dir, symlinks=True)
    bashrc, secret = tmp_path / "bashrc", tmp_path / "secret.json"
    bashrc.write_text("export PS1=original\n")
    secret.write_text('{"token": "s3cret"}')
    for name, target in (("Modelfile", bashrc), ("summary.json", secret)):
        (run_dir / name).unlink(missing_ok=True)
        (run_dir / name).symlink_to(target)
    export_adapter(run_dir)
    assert bashrc.read_text() == "export PS1=original\n" and secret.read_text() == '{"token": "s3cret"}'
    assert not (run_dir / "Modelfile").is_symlink() and (run_dir / "Modelfile").read_text().startswith("FROM ")
    assert "s3cret" not in (run_dir / "summary.json").read_text()  # not read through the link either
    with pytest.raises(ExportError, match="line break"):
        modelfile_text(Path("m\necho PWNED\n.gguf"), tmp_path / "a.gguf")


def test_the_modelfile_names_where_the_gguf_is_not_a_planted_links_target(exported, tmp_path, monkeypatch):
    """Data review: a run folder holding adapter.gguf -> /elsewhere/a was exported right (the
    link replaced) but the Modelfile said `ADAPTER /elsewhere/a`, and summary.json kept a path
    relative to the folder `thau export` ran in, which the chat reads from another."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(exported[0], run_dir, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a").write_text("not an adapter\n")
    (run_dir / "adapter.gguf").unlink()
    (run_dir / "adapter.gguf").symlink_to(elsewhere / "a")
    monkeypatch.chdir(tmp_path)
    path = export_adapter(Path("run"))
    where = tmp_path.resolve() / "run" / "adapter.gguf"
    assert not where.is_symlink() and where.read_bytes()[:4] == b"GGUF"
    assert (elsewhere / "a").read_text() == "not an adapter\n"
    assert (run_dir / "Modelfile").read_text().splitlines()[1] == f"ADAPTER {where}"
    assert json.loads((run_dir / "summary.json").read_text())["adapter_gguf"] == str(where)
    assert path.resolve() == where
