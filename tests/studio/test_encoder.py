"""The sentence encoder: pinned weights only, the upstream model's figures, a cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.encoder import DIGESTS, FOLDER, NEEDED, EncoderError, Remembered, sha256, shared, verify


def test_the_unpacked_files_carry_the_pinned_digests() -> None:
    verify(FOLDER)
    assert {name: sha256(FOLDER / name) for name in DIGESTS} == DIGESTS


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_a_changed_file_is_refused(tmp_path: Path, name: str) -> None:
    for needed in NEEDED:
        shutil.copy(FOLDER / needed, tmp_path / needed)
    with (tmp_path / name).open("ab") as stream:
        stream.write(b" ")
    with pytest.raises(EncoderError, match=f"{name} has SHA-256 .* not the pinned"):
        verify(tmp_path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match=r"model\.safetensors is missing: run `make install`"):
        verify(tmp_path)


@pytest.mark.slow
def test_vectors_match_the_published_similarity() -> None:
    # sentence-transformers' documentation gives 0.7553 for this pair with this model.
    first, second, other = shared().encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "where is my parcel"]
    )
    assert float(first @ second) == pytest.approx(0.7553, abs=1e-3)
    assert float(first @ other) < 0.2
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)


def test_remembered_encodes_each_text_once() -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    remembered = Remembered(encode, size=2)
    assert remembered(["ab", "c", "ab"]).tolist() == [[2, 1], [1, 1], [2, 1]]
    assert remembered(["c", "def"]).tolist() == [[1, 1], [3, 1]]
    assert calls == [["ab", "c"], ["def"]]  # "c" was remembered, "ab" was dropped (size 2)
    remembered(["ab"])
    assert calls[-1] == ["ab"]
    assert remembered([]).shape == (0, 384)
