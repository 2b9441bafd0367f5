"""The base model torch trains: converted from the GGUF once, then loaded from thau's cache."""

from __future__ import annotations

import os

import torch

from thau_tui.train import base_model
from thau_tui.train.base_model import converted_dir, load_base


def test_the_converted_model_is_kept_and_loads_the_same(tiny_gguf, monkeypatch):
    fresh_model, fresh_tokenizer, fresh_template = load_base(tiny_gguf)
    folder = converted_dir(tiny_gguf)
    assert folder is not None and (folder / base_model.TEMPLATE_FILE).is_file()

    def no_conversion(path):
        raise AssertionError("the second load must come from the cache, not the GGUF")

    monkeypatch.setattr(base_model, "_from_gguf", no_conversion)
    model, tokenizer, template = load_base(tiny_gguf)
    fresh, kept = fresh_model.state_dict(), model.state_dict()
    assert fresh.keys() == kept.keys()
    assert all(kept[name].dtype == torch.float32 and torch.equal(fresh[name], kept[name]) for name in fresh)
    text = "<|im_start|>user\nList the files in src<|im_end|>\n"
    assert tokenizer(text)["input_ids"] == fresh_tokenizer(text)["input_ids"]
    messages = [{"role": "user", "content": "hi"}]
    assert template.render(messages) == fresh_template.render(messages)


def test_a_changed_gguf_is_converted_again_and_the_old_copy_dropped(tiny_gguf, tmp_path):
    copy = tmp_path / tiny_gguf.name
    copy.write_bytes(tiny_gguf.read_bytes())
    load_base(copy)
    before = converted_dir(copy)
    assert before is not None and before.is_dir()
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = converted_dir(copy)
    assert after != before and converted_dir(tiny_gguf) != after  # another file, another folder
    load_base(tiny_gguf)  # another file of the same name is kept
    load_base(copy)
    assert after is not None and after.is_dir() and not before.exists()  # ~500 MB for the bundled model
    assert converted_dir(tiny_gguf).is_dir()


def test_one_parse_converts_exactly_what_transformers_does(tiny_gguf):
    import gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    model, tokenizer, _template = base_model._from_gguf(tiny_gguf)
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == (reader, name_map)  # put back afterwards
    folder, name = str(tiny_gguf.parent), tiny_gguf.name
    plain = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).state_dict()
    shared = model.state_dict()
    assert plain.keys() == shared.keys() and all(torch.equal(plain[k], shared[k]) for k in plain)
    text = "<|im_start|>system\nTools: run_shell<|im_end|>\n<|im_start|>user\nls -la<|im_end|>\n"
    assert tokenizer(text)["input_ids"] == AutoTokenizer.from_pretrained(folder, gguf_file=name)(text)["input_ids"]
