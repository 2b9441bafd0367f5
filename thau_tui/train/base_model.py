"""The base model as torch trains it: the chat's GGUF, dequantized to float32 once and kept.

transformers reads a GGUF slowly: it parses the whole file (vocabulary and merges
included) once for the config, again for the weights and once more for the
tokenizer, and rebuilds llama.cpp's tensor-name table for every module; for the
bundled SmolLM2-135M that was 45-55 s of every run's start on 2 busy cores, against
~4 s to dequantize the weights themselves. The converted model (the very float32
weights llama.cpp's file holds), its tokenizer and chat template are saved in
thau's cache folder on first use and loaded from there afterwards (~2 s); that
first conversion parses the file once for all three readers (31 s instead of 58 s
on 2 busy cores). The cache is keyed by the GGUF's path, size and modification
time and by the transformers version, so a changed file or converter converts
again (and the old conversion of that file, ~500 MB, is removed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

TEMPLATE_FILE = "chat_template.json"


def converted_dir(gguf_path: Path) -> Path | None:
    """The cache folder for this GGUF (None when thau has no writable cache folder)."""
    import transformers

    from ..paths import cache_dir

    gguf_path = Path(gguf_path).resolve()
    stat = gguf_path.stat()
    where = hashlib.sha256(str(gguf_path).encode("utf-8")).hexdigest()[:8]
    what = hashlib.sha256(f"{stat.st_size}|{stat.st_mtime_ns}|{transformers.__version__}".encode()).hexdigest()[:8]
    try:
        return cache_dir() / "base-models" / f"{gguf_path.stem}-{where}-{what}"
    except OSError:  # FolderError: no writable cache folder
        return None


@contextmanager
def _one_gguf_parse():
    """While transformers converts a GGUF: one parse of each file and one tensor-name table
    per architecture, shared by its config, weights and tokenizer readers (it asks for three
    parses and one table per module). Both are read-only there; outside this block the gguf
    package is as it was. A gguf without these names is left alone (the conversion is only
    slower)."""
    import gguf

    reader_cls = getattr(gguf, "GGUFReader", None)
    name_map = getattr(gguf, "get_tensor_name_map", None)
    if reader_cls is None or name_map is None:
        yield
        return
    readers: dict[tuple, object] = {}

    def shared_reader(path, mode="r"):
        key = (str(Path(path).resolve()), mode)
        if key not in readers:
            readers[key] = reader_cls(path, mode)
        return readers[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = shared_reader, lru_cache(maxsize=None)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader_cls, name_map


def _from_gguf(gguf_path: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..engine.prompt import read_gguf_metadata

    folder, name = str(gguf_path.parent), gguf_path.name
    with _one_gguf_parse():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        meta = read_gguf_metadata(gguf_path)
    template = {
        "source": meta.get("tokenizer.chat_template"),
        "bos_token": meta.get("bos_token", ""),
        "eos_token": meta.get("eos_token", ""),
    }
    return model, tokenizer, template


def _save(folder: Path, model, tokenizer, template: dict) -> None:
    """Write the converted model whole or not at all (a half-written folder is never used)."""
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    # transformers marks a GGUF-loaded model as quantized and refuses to save it, though its
    # weights are plain float32 by now; saved without the mark, it loads as an ordinary model.
    quantizer, model.hf_quantizer = getattr(model, "hf_quantizer", None), None
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / TEMPLATE_FILE).write_text(json.dumps(template), encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:  # another run converted it meanwhile: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)
            return
        # An older conversion of this same file (changed since, or by another transformers)
        # is ~500 MB nobody will load again.
        same_file = folder.name.rsplit("-", 1)[0]
        for stale in folder.parent.iterdir():
            if stale != folder and re.fullmatch(re.escape(same_file) + r"-[0-9a-f]{8}", stale.name):
                shutil.rmtree(stale, ignore_errors=True)
    except OSError:  # a full or read-only disk only costs the next run the conversion again
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        model.hf_quantizer = quantizer


def load_base(gguf_path: Path, device: str = "cpu"):
    """(model, tokenizer, chat template) from a GGUF: float32 weights, the GGUF's own template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ..engine.prompt import ChatTemplate

    hf_logging.disable_progress_bar()
    gguf_path = Path(gguf_path)
    folder = converted_dir(gguf_path)
    if folder is not None and (folder / TEMPLATE_FILE).is_file():
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        template = json.loads((folder / TEMPLATE_FILE).read_text(encoding="utf-8"))
    else:
        model, tokenizer, template = _from_gguf(gguf_path)
        if folder is not None:
            _save(folder, model, tokenizer, template)
    chat = ChatTemplate(template["source"], template["bos_token"], template["eos_token"])
    return model.to(device), tokenizer, chat
