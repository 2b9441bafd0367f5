"""A GGUF file's metadata fields, read without decoding its vocabulary.

The gguf package's reader builds a numpy view for every element of every array, so
opening the bundled SmolLM2 (49k tokens, 48k merges, 49k token types) took 5-7 s on
2 busy cores, paid by every model load and every scoring run for a few scalar
keys. This reader walks the header once, keeps scalars and strings, notes where
each array starts, and decodes an array element only when asked for it (~0.05 s).
Little-endian GGUF v2 and v3 only: `read_header` raises ValueError for anything
else, and callers fall back to the gguf package. `tensor_shapes` reads the tensor
list after the fields (names and dimensions, no weights), and `lora_misfit` tells
a LoRA adapter made for another model of the same architecture from the header alone.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# GGUF value types: the struct format of each fixed-size one; 8 is a string, 9 an array.
_FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


@dataclass
class GGUFHeader:
    """Scalar and string fields by key; arrays as (element type, count, offset of the first element)."""

    data: Any  # the mapped file
    values: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    tensor_count: int = 0
    tensors_at: int = 0  # where the tensor list starts, just past the fields

    def get(self, key: str) -> Any:
        """A field's value: a scalar or string, or a list for an array of numbers (None if absent).
        An array of strings is decoded one element at a time with `item`."""
        if key in self.values:
            return self.values[key]
        if key not in self.arrays:
            return None
        kind, count, offset = self.arrays[key]
        if kind not in _FIXED:
            raise ValueError(f"{key} is an array of strings or arrays: read it with item()")
        return list(struct.unpack_from(f"<{count}{_FIXED[kind]}", self.data, offset))

    def item(self, key: str, index: int) -> Any:
        """Element `index` of an array field."""
        kind, count, offset = self.arrays[key]
        if not 0 <= index < count:
            raise IndexError(f"{key} has {count} elements, not {index + 1}")
        if kind in _FIXED:
            size = struct.calcsize(_FIXED[kind])
            return struct.unpack_from(f"<{_FIXED[kind]}", self.data, offset + index * size)[0]
        for _ in range(index):
            offset = _skip(self.data, kind, offset)
        return _value(self.data, kind, offset)[0]


def _string(data: Any, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<Q", data, offset)
    start = offset + 8
    return bytes(data[start : start + length]).decode("utf-8", "replace"), start + length


def _skip(data: Any, kind: int, offset: int) -> int:
    """The offset just past one value of type `kind` at `offset`."""
    if kind in _FIXED:
        return offset + struct.calcsize(_FIXED[kind])
    if kind == _STRING:
        (length,) = struct.unpack_from("<Q", data, offset)
        return offset + 8 + int(length)
    if kind == _ARRAY:
        inner, count = struct.unpack_from("<IQ", data, offset)
        offset += 12
        if inner in _FIXED:
            return offset + int(count) * struct.calcsize(_FIXED[inner])
        for _ in range(count):
            offset = _skip(data, inner, offset)
        return offset
    raise ValueError(f"unknown GGUF value type {kind}")


def _value(data: Any, kind: int, offset: int) -> tuple[Any, int]:
    if kind in _FIXED:
        fmt = _FIXED[kind]
        return struct.unpack_from(f"<{fmt}", data, offset)[0], offset + struct.calcsize(fmt)
    if kind == _STRING:
        return _string(data, offset)
    raise ValueError(f"unknown GGUF value type {kind}")


def read_header(path: str | Path) -> GGUFHeader:
    """The metadata of a little-endian GGUF v2/v3 file; ValueError for anything else."""
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")
    version, tensors, count = struct.unpack_from("<IQQ", data, 4)
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} (byte order or version not read here)")
    header = GGUFHeader(data, tensor_count=tensors)
    offset = 24
    for _ in range(count):
        key, offset = _string(data, offset)
        (kind,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if kind == _ARRAY:
            inner, length = struct.unpack_from("<IQ", data, offset)
            header.arrays[key] = (inner, length, offset + 12)
            offset = _skip(data, kind, offset)
        else:
            header.values[key], offset = _value(data, kind, offset)
    header.tensors_at = offset
    return header


_MAX_DIMS = 4  # GGML_MAX_DIMS
_MAX_NAME = 64  # GGML_MAX_NAME: a longer name is a damaged or hostile file, never read whole


def tensor_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Each tensor's name and dimensions in ggml's order (ne[0], the length of a row, first),
    read from the header (no weights); ValueError or struct.error for a file cut or damaged there."""
    header = read_header(path)
    data, offset, shapes = header.data, header.tensors_at, {}
    for _ in range(header.tensor_count):  # a count past the file's end stops at struct.error
        (length,) = struct.unpack_from("<Q", data, offset)
        if length > _MAX_NAME:  # 5,000 digits of a layer number made int() raise (review of the diff)
            raise ValueError(f"a tensor name of {length} bytes (ggml's are at most {_MAX_NAME})")
        name, offset = _string(data, offset)
        (dims,) = struct.unpack_from("<I", data, offset)
        if not 0 < dims <= _MAX_DIMS:
            raise ValueError(f"tensor {name} has {dims} dimensions")
        shapes[name] = struct.unpack_from(f"<{dims}Q", data, offset + 4)
        offset += 4 + 8 * dims + 4 + 8  # the dimensions, then the type and the data offset
    return shapes


def lora_misfit(adapter: str | Path, model: str | Path) -> str | None:
    """Why llama.cpp would refuse the LoRA `adapter` on `model` by its tensors' shapes, in words
    (None when they fit, or when either file cannot be read this way: the other checks say why).

    A LoRA made for another model of the same architecture (another width, other layers) passed
    doctor, and the chat then failed to load it (known-left review). The rules are llama.cpp's
    (llama-adapter.cpp): every adapted tensor is in the model, and lora_a's rows and lora_b's
    columns match it (token_embd's pair the other way round)."""
    try:
        made, has = tensor_shapes(adapter), tensor_shapes(model)
    except (OSError, ValueError, struct.error):
        return None
    pairs: dict[str, dict[str, tuple[int, ...]]] = {}
    for name, shape in made.items():
        base, _, part = name.rpartition(".")
        if part in ("lora_a", "lora_b"):
            pairs.setdefault(base, {})[part] = shape
    for base, pair in sorted(pairs.items(), key=lambda item: _block_order(item[0])):
        a, b = pair.get("lora_a"), pair.get("lora_b")
        if a is None or b is None:
            return f"its {base} has only one of lora_a and lora_b"
        if base not in has:
            return f"it changes {base}, which the model does not have (made for a model with other layers)"
        if len(a) < 2 or len(b) < 2:
            return f"its {base} pair is not two matrices"
        want, needs = has[base][:2], ((b[1], a[1]) if base == "token_embd.weight" else (a[0], b[1]))
        if base != "token_embd.weight" and a[1] != b[0]:
            return f"its {base} pair does not agree on its rank ({a[1]} and {b[0]})"
        if tuple(want) != needs:
            shown = " x ".join(map(str, want)), " x ".join(map(str, needs))
            return (
                f"{base} is {shown[0]} in the model and {shown[1]} in the adapter "
                "(made for another model of the same architecture, e.g. another width)"
            )
    return None


def _block_order(name: str) -> tuple[int, str]:
    """blk.2 before blk.10: the first misfit named is the first layer's."""
    parts = name.split(".")
    return (int(parts[1]), name) if len(parts) > 2 and parts[0] == "blk" and parts[1].isdigit() else (-1, name)


def architecture(path: str | Path) -> str | None:
    """general.architecture of a model or adapter GGUF; None when it cannot be read."""
    try:
        value = read_header(path).get("general.architecture")
    except (OSError, ValueError, struct.error):
        return None
    return value if isinstance(value, str) else None
