"""Sentence embeddings of documents for story matching: the shipped int8 ONNX all-MiniLM-L6-v2
(``crawler/nlp/models/story-encoder/``, exported by ``crawler/training/story_encoder.py``), with onnxruntime + tokenizers
+ numpy only.

``StoryEncoder().embed([(title, text), ...])`` gives one L2-normalised float32 vector (384) per document, of the
title, a blank line and the text, cut to the model's ``max_length`` word pieces (the title and lead paragraphs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from crawler.nlp.onnx_stance import load_tokenizer, pad, session

MODEL_DIR = Path(__file__).resolve().parents[1] / "nlp" / "models" / "story-encoder"


def doc_text(title: str, text: str) -> str:
    return f"{title.strip()}\n\n{text}" if title and title.strip() else text


class StoryEncoder:
    """The story encoder: ``model_dir`` holds model.onnx, tokenizer.json and config.json."""

    def __init__(self, model_dir: str | Path = MODEL_DIR, threads: int = 1, batch_size: int = 16,
                 max_length: int | None = None):
        model_dir = Path(model_dir)
        self.config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.max_length = int(max_length or self.config["max_length"])
        self.dim = int(self.config["dim"])
        self.batch_size = batch_size
        self.tokenizer = load_tokenizer(model_dir / "tokenizer.json")
        self.tokenizer.enable_truncation(self.max_length)
        self.session = session(model_dir / "model.onnx", threads)

    def embed(self, docs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(n, dim) unit vectors of (title, text) pairs."""
        out = np.zeros((len(docs), self.dim), np.float32)
        if not docs:
            return out
        # only the first max_length word pieces are read: tokenise about as many characters
        ids = [e.ids for e in self.tokenizer.encode_batch([doc_text(t or "", x or "")[: self.max_length * 8]
                                                          for t, x in docs])]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            index = order[start:start + self.batch_size]
            input_ids, mask = pad([ids[i] for i in index])
            (vec,) = self.session.run(["embedding"], {"input_ids": input_ids, "attention_mask": mask})
            out[index] = vec
        return out
