"""Run-time stance classifier (from the training of issue 10, /work/train10): an int8 ONNX MiniLM, with onnxruntime + tokenizers + numpy only.

``OnnxStance(model_dir).predict([(text, [(start, end), ...]), ...])`` gives one (P(against), P(neutral),
P(favor)) per item. The input convention is the one training used (``encode`` below is shared with
train_stance.py, so both see identical token ids):

- every target mention is wrapped in square brackets and, with a model trained so (config ``others``), every
  other entity the sentence weighs it against (the topic's rivals; in training the set's other targets) in
  braces: "I prefer [Seedance 2.0] to {Sora}" (``bracket``);
- the bracketed text is tokenised without truncation; if it is longer than ``max_length`` tokens, a window
  of ``max_length - 2`` word pieces is cut so that the first target mention sits about a third of the way
  in, then [CLS] and [SEP] are put back (``encode``);
- the model returns logits over the mean of the token vectors (masking padding); softmax gives the
  probabilities.

Each item runs alone by default (``batch_size=1``): the int8 model quantises its activations with one scale per
tensor, computed at run time over the whole batch, so an item's probabilities moved with its neighbours (up to
0.23 on NewsMTSC; 12 of 256 labels changed between one batch of 32 and one at a time), and the same text could
take another stance in another crawl batch. Alone, an item costs about 15% more. With a larger ``batch_size``
items are sorted by token length, so little padding is computed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from crawler.nlp.labels import LABELS

Spans = Sequence[tuple[int, int]]


def bracket(text: str, spans: Spans, others: Spans = ()) -> tuple[str, int]:
    """The text with each (non-overlapping) target span wrapped in [brackets] and each other span that
    overlaps no target in {braces}, and the character offset of the first opening bracket (-1 when there
    is no target span)."""
    marks = [(int(s), int(e), "[", "]") for s, e in spans]
    marks += [(int(s), int(e), "{", "}") for s, e in others
              if not any(int(s) < te and ts < int(e) for ts, te in spans)]
    out, last, first, length = [], 0, -1, 0
    for start, end, opening, closing in sorted(marks):
        if start < last or end <= start or end > len(text):
            continue
        out.append(text[last:start])
        length += start - last
        if first < 0 and opening == "[":
            first = length
        out.append(f"{opening}{text[start:end]}{closing}")
        length += end - start + 2
        last = end
    out.append(text[last:])
    return "".join(out), first


def window(ids: list[int], offsets, first_char: int, max_length: int, cls_id: int, sep_id: int) -> list[int]:
    """Token ids ([CLS] ... [SEP]) cut to ``max_length`` around the token at ``first_char``."""
    if len(ids) <= max_length:
        return ids
    inner, inner_off = ids[1:-1], offsets[1:-1]
    room = max_length - 2
    centre = 0
    if first_char >= 0:
        for i, (start, _end) in enumerate(inner_off):
            if start >= first_char:
                centre = i
                break
    begin = max(0, min(centre - room // 3, len(inner) - room))
    return [cls_id, *inner[begin : begin + room], sep_id]


def load_tokenizer(path: str | Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def encode(tokenizer, items: Sequence[tuple], max_length: int, others: bool = True) -> list[list[int]]:
    """Token ids of each (text, spans) or (text, spans, other spans) item: brackets around the targets,
    braces around the others (unless ``others`` is false), windowed around the first target."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    marked = [bracket(item[0], item[1], item[2] if others and len(item) > 2 else ()) for item in items]
    encodings = tokenizer.encode_batch([m for m, _ in marked])
    return [window(e.ids, e.offsets, first, max_length, cls_id, sep_id) for e, (_, first) in zip(encodings, marked)]


def session(path: str | Path, threads: int = 1):
    """An onnxruntime session of the model file on the CPU, ``threads`` intra-op threads (one per NLP worker)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def pad(batch: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(ids) for ids in batch)
    input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, ids in enumerate(batch):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


class OnnxStance:
    """The shipped stance model: ``model_dir`` holds model.onnx, tokenizer.json and config.json."""

    name = "minilm-onnx"

    def __init__(self, model_dir: str | Path, threads: int = 1, batch_size: int = 1, model_file: str = "model.onnx"):
        model_dir = Path(model_dir)
        self.config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        if tuple(self.config["labels"]) != LABELS:
            raise ValueError(f"{model_dir}: labels {self.config['labels']} are not {LABELS}")
        self.max_length = int(self.config["max_length"])
        self.batch_size = batch_size
        self.tokenizer = load_tokenizer(model_dir / "tokenizer.json")
        self.session = session(model_dir / model_file, threads)

    @property
    def has_vectors(self) -> bool:
        """The model also gives each item's sentence vector (config ``vectors``: see ``predict_vectors``)."""
        return "vectors" in self.config

    def predict(self, items: Sequence[tuple[str, Spans]]) -> list[tuple[float, float, float]]:
        return self.predict_vectors(items, vectors=False)[0]

    def predict_vectors(self, items: Sequence[tuple[str, Spans]], vectors: bool = True
                        ) -> tuple[list[tuple[float, float, float]], np.ndarray | None]:
        """The probabilities of each item and, with ``vectors`` (when the model has them), its sentence
        vector: the mean of the token vectors of one inner encoder layer (one row per item), from the
        same pass."""
        want = vectors and self.has_vectors
        width = len(self.config["labels"])
        if not items:
            return [], (np.zeros((0, 0), dtype=np.float32) if want else None)
        ids = encode(self.tokenizer, items, self.max_length, others=bool(self.config.get("others")))
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        probs = np.zeros((len(ids), width), dtype=np.float32)
        pooled = None
        outputs = ["logits", self.config["vectors"]["output"]] if want else ["logits"]
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            input_ids, mask = pad([ids[i] for i in index])
            results = self.session.run(outputs, {"input_ids": input_ids, "attention_mask": mask})
            probs[index] = softmax(results[0].astype(np.float32))
            if want:
                weights = mask[..., None].astype(np.float32)
                if pooled is None:
                    pooled = np.zeros((len(ids), results[1].shape[-1]), dtype=np.float32)
                pooled[index] = (results[1] * weights).sum(axis=1) / weights.sum(axis=1)
        return [tuple(float(p) for p in row) for row in probs], pooled
