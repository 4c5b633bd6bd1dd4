"""A topic's trained frame classifier: one logistic layer per frame over a sentence's words and cue hits.

The features of a sentence are its word stems, their first letters and stem pairs (English), its characters
and character pairs (Chinese), with addresses (URLs, host names, @handles) reduced to one ``URL`` token,
and one feature per frame whose topic-file cue it carries (``TargetFinder.frame_hits``: never inside a
name or address), so the cue lists are the classifier's seeds. A counted sentence takes a frame when the
classifier is sure (P >= ``threshold``) or when it carries the frame's cue and the classifier agrees
(P >= ``cue_threshold``): a cue alone no longer decides ("China" in passing is not geopolitics), and a
sentence about a frame in words its cue list lacks can still take it. Frames the model was not trained for
keep the cue rule.

A model may also weigh the sentence's vector from the shipped stance encoder (``vectors`` in its file: the
mean token vector of an inner layer, which the English stance model gives from the pass it makes anyway,
``OnnxStance.predict_vectors``): unions, crews and regulators named in words no cue list holds. Where the
stance model gives no vectors (Chinese, or another stance model chosen), the frame model runs the encoder
itself.

The model is ``models/frames-<topic slug>/model.json``, trained by ``python -m crawler.training.frames``
on the project's train sets only; a topic without one is framed by its cues alone. Numpy (and the ONNX
encoder for vectors) at run time.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from crawler.nlp.targets import ADDRESS
from crawler.text.language import CJK_RANGE

MODELS_DIR = Path(__file__).with_name("models")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_CJK_RUN = re.compile(f"[{CJK_RANGE}]+")
PREFIX = 5  # a longer stem also gives its first PREFIX letters as a feature


def model_path(slug: str) -> Path:
    return MODELS_DIR / f"frames-{slug}" / "model.json"


def stem(word: str) -> str:
    """A word's crude lemma, enough for features: "infringing", "infringed", "infringes" -> "infring"."""
    for suffix, keep in (("ies", 4), ("ing", 5), ("ed", 4), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) > keep and not word.endswith(("ss", "us", "is")):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def features(text: str, hits: Iterable[str], chars: int = 0) -> list[str]:
    """The feature names of one sentence (see the module docstring); ``hits`` are its cue-hit frames;
    ``chars`` > 0 adds each stem's letter n-grams of that length ("<deepf", "deepfa" ...)."""
    text = ADDRESS.sub(" URL ", text).lower()
    words = [stem(w) for w in _WORD.findall(text)]
    out = {f"w:{w}" for w in words} | {f"b:{a}_{b}" for a, b in zip(words, words[1:])}
    out |= {f"p:{w[:PREFIX]}" for w in words if len(w) > PREFIX}  # "regulators", "regulatory" -> "regul"
    if chars:
        for word in {f"<{w}>" for w in words if len(w) > 2}:
            out |= {f"c:{word[i:i + chars]}" for i in range(len(word) - chars + 1)}
    for run in _CJK_RUN.findall(text):
        out |= {f"z:{c}" for c in run} | {f"zz:{run[i:i + 2]}" for i in range(len(run) - 1)}
    out |= {f"cue:{name}" for name in hits}
    return sorted(out)


class FrameModel:
    def __init__(self, data: dict):
        self.frames: list[str] = data["frames"]
        self.index = {name: i for i, name in enumerate(data["features"])}
        self.weights = np.asarray(data["weights"], dtype=np.float32)  # features x frames
        self.bias = np.asarray(data["bias"], dtype=np.float32)
        self.threshold, self.cue_threshold = data["threshold"], data["cue_threshold"]
        self.chars = data.get("chars", 0)
        self.vectors = data.get("vectors")  # {"mean", "std", "scale", "weights": dims x frames} or None
        if self.vectors:
            self.vector_mean = np.asarray(self.vectors["mean"], dtype=np.float32)
            self.vector_factor = self.vectors["scale"] / np.asarray(self.vectors["std"], dtype=np.float32)
            self.vector_weights = np.asarray(self.vectors["weights"], dtype=np.float32)
        self._encoder = None

    @classmethod
    def load(cls, path: str | Path) -> FrameModel:
        return _load(str(path))

    def encode(self, items: Sequence[tuple[str, Sequence[tuple[int, int]]]]) -> np.ndarray:
        """The encoder's vectors of (sentence, target spans), for a stance model that gives none."""
        if self._encoder is None:
            from crawler.nlp.onnx_stance import OnnxStance

            self._encoder = OnnxStance(MODELS_DIR / self.vectors["encoder"])
        return self._encoder.predict_vectors(items)[1]

    def probabilities(self, items: Sequence[tuple[str, Iterable[str]]], vectors: np.ndarray | None = None) -> np.ndarray:
        """P(frame) of each (sentence, cue-hit frames), one row per item in ``self.frames`` order; ``vectors``
        (one row per item) when the model weighs them."""
        out = np.empty((len(items), len(self.frames)), dtype=np.float32)
        for row, (text, hits) in enumerate(items):
            indexes = [i for f in features(text, hits, self.chars) if (i := self.index.get(f)) is not None]
            out[row] = self.weights[indexes].sum(axis=0) + self.bias
        if self.vectors and len(items):
            out += ((vectors - self.vector_mean) * self.vector_factor) @ self.vector_weights
        return 1.0 / (1.0 + np.exp(-out))

    def decide(self, items: Sequence[tuple[str, dict[str, int]]], vectors: np.ndarray | None = None,
               spans: Sequence[Sequence[tuple[int, int]]] | None = None) -> list[dict[str, int]]:
        """Each sentence's frames (name -> 1) from its text and cue hits (and the stance model's vectors of
        the sentences, else the encoder's of the sentences with their target ``spans``): the model's frames
        by the rule of the module docstring, the others by their cues."""
        if self.vectors and vectors is None and items:
            vectors = self.encode([(text, list(s)) for (text, _hits), s in zip(items, spans or [()] * len(items))])
        decided = []
        for (_text, hits), probs in zip(items, self.probabilities(items, vectors)):
            frames = {name: count for name, count in hits.items() if name not in self.frames}
            for name, p in zip(self.frames, probs):
                if p >= self.threshold or (name in hits and p >= self.cue_threshold):
                    frames[name] = 1
            decided.append(frames)
        return decided


@functools.lru_cache(maxsize=None)
def _load(path: str) -> FrameModel:
    return FrameModel(json.loads(Path(path).read_text(encoding="utf-8")))


def frame_model_for(slug: str, frames: Iterable[str]) -> str:
    """The path of the topic's trained frame model when it has one for some of its frames, else ""."""
    path = model_path(slug)
    if not path.is_file():
        return ""
    trained = json.loads(path.read_text(encoding="utf-8"))["frames"]
    return str(path) if set(trained) & set(frames) else ""
