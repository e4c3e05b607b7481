"""The sentence encoder: pinned weights only, the exported graph it runs checked too, the
upstream model's figures, a cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.encoder import (
    DIGESTS,
    FOLDER,
    NEEDED,
    ONNX,
    ONNX_DIGESTS,
    Encoder,
    EncoderError,
    Remembered,
    sha256,
    shared,
    verify,
    verify_export,
)


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


def test_the_exported_graph_is_the_one_recorded_from_the_pinned_weights() -> None:
    verify_export(FOLDER)  # `make install` exported and adopted it
    recorded = (FOLDER / ONNX_DIGESTS).read_text().split()
    assert recorded == [sha256(FOLDER / ONNX), DIGESTS["model.safetensors"]]


@pytest.mark.parametrize(
    "record",
    [
        "0" * 64 + "\n" + DIGESTS["model.safetensors"],  # not this file's digest
        "{onnx}\n" + "1" * 64,  # made from other weights
        "",  # no record
    ],
)
def test_an_exported_graph_not_as_recorded_is_refused(tmp_path: Path, record: str) -> None:
    (tmp_path / ONNX).write_bytes(b"not the exported graph")
    (tmp_path / ONNX_DIGESTS).write_text(record.format(onnx=sha256(tmp_path / ONNX)))
    with pytest.raises(EncoderError, match=r"model\.onnx (has SHA-256|has no record)"):
        verify_export(tmp_path)


@pytest.mark.slow
def test_vectors_match_the_published_similarity() -> None:
    # sentence-transformers' documentation gives 0.7553 for this pair with this model.
    first, second, other = shared().encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "where is my parcel"]
    )
    assert float(first @ second) == pytest.approx(0.7553, abs=1e-3)
    assert float(first @ other) < 0.2
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    assert shared().runtime == "onnxruntime"  # the exported graph, not TensorFlow


@pytest.mark.slow
def test_onnxruntime_and_tensorflow_give_the_same_vectors(tmp_path: Path) -> None:
    for needed in NEEDED:  # the weights without the exported graph: TensorFlow runs them
        shutil.copy(FOLDER / needed, tmp_path / needed)
    on_tensorflow = Encoder(tmp_path)
    assert on_tensorflow.runtime == "tensorflow"
    texts = ["hi", "where is my order LS-117342?", "this is the third time I ask!!! " * 12]
    agreement = np.sum(on_tensorflow.encode(texts) * shared().encode(texts), axis=1)
    assert agreement.min() > 0.9999


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
