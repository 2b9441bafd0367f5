"""The GGUF header reader against the gguf package: the same fields, the same values."""

from __future__ import annotations

import gguf
import pytest

from thau_tui.engine import prompt
from thau_tui.engine.gguf_header import read_header
from thau_tui.paths import bundled_model
from thau_tui.train import export


@pytest.mark.parametrize("which", ["bundled", "tiny"])
def test_every_field_reads_as_the_gguf_package_reads_it(which, tiny_gguf):
    path = bundled_model() if which == "bundled" else tiny_gguf
    reader = gguf.GGUFReader(str(path))
    header = read_header(path)
    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert set(header.values) | set(header.arrays) == set(fields)
    for key, field in fields.items():
        if key in header.values:
            assert header.get(key) == field.contents(), key
        elif header.arrays[key][0] == 8:  # strings: spot checks at both ends and inside
            count = header.arrays[key][1]
            for index in sorted({0, min(1, count - 1), count // 2, count - 1}):
                assert header.item(key, index) == field.contents(index), (key, index)
        else:
            assert header.get(key) == field.contents(), key


def test_model_metadata_and_export_info_are_unchanged(tiny_gguf, tmp_path):
    for path in (bundled_model(), tiny_gguf):
        assert prompt.read_gguf_metadata(path) == prompt._read_gguf_metadata_slowly(path)
        assert export._base_info(path) == export._base_info_slowly(path)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:4000])  # a file cut short fails as the gguf package fails
    with pytest.raises(Exception) as fast:
        prompt.read_gguf_metadata(cut)
    with pytest.raises(Exception) as slow:
        prompt._read_gguf_metadata_slowly(cut)
    assert type(fast.value) is type(slow.value)
