"""Trains a topic's frame classifier: ``python -m crawler.training.frames [--topic FILE]``.

Training data: the project's train sets with frames (``reception_train``, ``reception_train_zh``,
``frames_train``, ``posts_train``). Each text is read by the topic's own pipeline (so its cue hits skip
entity names as they do at run time) and turned into ``crawler.nlp.frame_model.features``, with the stance
encoder's sentence vector (``--vector-scale``); one logistic
layer per frame is fitted by full-batch Adam with an L2 penalty. The penalty and the two thresholds of the
decision rule (sure alone / with a cue) are chosen on the dev sets (``frames_dev``, ``posts_dev``), each
text read as at run time (it takes the frames of the sentences the reception component counts): the
highest recall whose micro precision is at least ``--precision``. ``seedtrack eval --dataset FILE`` scores
the result on every set. The model is written to ``crawler/nlp/models/frames-<slug>/model.json``
(shipped with the package).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from crawler.nlp.frame_model import FrameModel, features, model_path
from crawler.nlp.onnx_stance import OnnxStance
from crawler.nlp.stance_models import ONNX_DIR
from crawler.nlp.targets import TargetFinder
from crawler.nlp.tagger import LANGUAGES, Tagger, TaggerSpec
from crawler.text.language import detect_language
from crawler.topic import load_topic
from crawler.training import datasets
from crawler.training.evaluation import score

TRAIN = ("reception-train", "reception-train-zh", "frames_train.jsonl", "posts_train.jsonl")
DEV = ("frames_dev.jsonl", "posts_dev.jsonl")
PENALTIES = (1e-4, 3e-4, 1e-3)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.3, 0.96, 0.05))
CHARS = 0
MIN_COUNT = 2  # a word feature must occur in at least this many training texts
VECTOR_SCALE = 0.2  # the standardised vector's weight against the 0/1 word features (one L2 penalty for both); the best
                    # dev recall of 0.05-0.3 with the stance model of 2026-12-03


def examples(name: str, finder: TargetFinder) -> list[datasets.Example]:
    return datasets.load(str(datasets.DATA_DIR / name) if name.endswith(".jsonl") else name, finder.spans)


def featurised(sets: tuple[str, ...], finder: TargetFinder, tagger: Tagger, chars: int = 0,
               sentences: bool = False) -> tuple[list, list[tuple], list]:
    """(features, gold frames, (text, target spans)) of every text of the sets, read by the topic's pipeline
    as at run time; with ``sentences``, each text's features and (sentence, spans) are lists, one per
    sentence the reception component counts."""
    rows, gold, items = [], [], []
    for name in sets:
        found = examples(name, finder)
        langs = ["zh" if name.endswith("-zh") else detect_language(e.text, hint=e.lang, priors=LANGUAGES) or "en"
                 for e in found]
        for lang in LANGUAGES:
            chosen = [e for e, l in zip(found, langs) if l == lang]
            nlp = tagger.pipeline(lang)
            reception = nlp.get_pipe("seedtrack_reception")
            with nlp.select_pipes(disable=["seedtrack_reception"]):
                for e, doc in zip(chosen, nlp.pipe(e.text for e in chosen)):
                    if sentences:
                        counted = reception.select(doc)[0]
                        rows.append([features(s.text, s.frames, chars) for s in counted])
                        items.append([(s.text, s.spans, s.others) for s in counted])
                    else:
                        hits = finder.frame_hits(e.text, [(ent.start_char, ent.end_char) for ent in doc.ents])
                        rows.append(features(e.text, hits, chars))
                        items.append((e.text, finder.spans(e.text), finder.rival_spans(e.text)))
                    gold.append(e.frames)
    return rows, gold, items


def vectors_of(encoder: OnnxStance, items: list) -> np.ndarray:
    """The stance encoder's sentence vectors of (text, spans, rival spans) items, as the run time computes them."""
    return encoder.predict_vectors(items)[1]


def matrix(rows: list[list[str]], index: dict[str, int]) -> np.ndarray:
    x = np.zeros((len(rows), len(index)), dtype=np.float32)
    for r, row in enumerate(rows):
        x[r, [index[f] for f in row if f in index]] = 1.0
    return x


def fit(x: np.ndarray, y: np.ndarray, penalty: float, steps: int = 600, rate: float = 0.05):
    """Logistic layers (features x frames) minimising mean cross-entropy + penalty * |W|^2, by Adam."""
    w = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    b = np.zeros(y.shape[1], dtype=np.float32)
    moments = [[np.zeros_like(w), np.zeros_like(w)], [np.zeros_like(b), np.zeros_like(b)]]
    for step in range(1, steps + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        error = (p - y) / len(x)
        for param, grad, (m, v) in ((w, x.T @ error + 2 * penalty * w, moments[0]), (b, error.sum(0), moments[1])):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w, b


def micro(gold, predicted) -> tuple[float, float]:
    values = score("dev", ["neutral"] * len(gold), ["neutral"] * len(gold), gold, predicted).frames["(all, micro)"]
    return values["precision"], values["recall"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.training.frames", description=__doc__.split("\n")[0])
    parser.add_argument("--topic", help="topic file (default: the shipped topic)")
    parser.add_argument("--precision", type=float, default=0.87,
                        help="the least micro precision on the dev sets a choice may have (default 0.87: the "
                             "target 0.85 and a margin for unseen text)")
    parser.add_argument("--chars", type=int, default=CHARS, help=f"letter n-grams of this length as features "
                        f"too, 0 for none (default {CHARS})")
    parser.add_argument("--out", type=Path, help="where to write the model (default: models/frames-<slug>/model.json)")
    parser.add_argument("--vector-scale", type=float, default=VECTOR_SCALE,
                        help=f"weigh the stance encoder's sentence vectors, standardised and times this (default "
                             f"{VECTOR_SCALE}; 0: words and cues only)")
    args = parser.parse_args(argv)
    topic = load_topic(args.topic)
    finder = TargetFinder.from_topic(topic)
    frames = [frame.name for frame in topic.frames]
    tagger = Tagger(TaggerSpec.from_topic(topic, stance_model="textcat"))
    rows, gold, items = featurised(TRAIN, finder, tagger, args.chars)
    dev_texts, dev_gold, dev_items = featurised(DEV, finder, tagger, args.chars, sentences=True)
    dev_rows = [row for text in dev_texts for row in text]  # one per counted sentence; a text takes their frames
    owner = [t for t, text in enumerate(dev_texts) for _row in text]
    counts: dict[str, int] = {}
    for row in rows:
        for f in row:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, c in counts.items() if c >= MIN_COUNT or f.startswith("cue:"))
    index = {f: i for i, f in enumerate(names)}
    x, dev_x = matrix(rows, index), matrix(dev_rows, index)
    vectors = None
    if args.vector_scale > 0:
        encoder = OnnxStance(ONNX_DIR)
        if not encoder.has_vectors:
            raise SystemExit(f"{ONNX_DIR}: the stance model gives no vectors (python -m crawler.training.onnx_train "
                             "--add-vectors DIR), or pass --vector-scale 0")
        v, dev_v = vectors_of(encoder, items), vectors_of(encoder, [i for text in dev_items for i in text])
        mean, std = v.mean(axis=0), v.std(axis=0) + 1e-6
        vectors = {"encoder": ONNX_DIR.name, "scale": args.vector_scale, "mean": mean, "std": std}
        x = np.hstack([x, (v - mean) / std * args.vector_scale])
        dev_x = np.hstack([dev_x, (dev_v - mean) / std * args.vector_scale])
    y = np.array([[float(f in g) for f in frames] for g in gold], dtype=np.float32)
    dev_hits = [{f[4:] for f in row if f.startswith("cue:")} for row in dev_rows]
    best = None
    for penalty in PENALTIES:
        w, b = fit(x, y, penalty)
        p = 1.0 / (1.0 + np.exp(-(dev_x @ w + b)))
        for sure in THRESHOLDS:
            for with_cue in (t for t in THRESHOLDS if t <= sure):
                predicted = [set() for _text in dev_texts]
                for i, t in enumerate(owner):
                    predicted[t].update(f for j, f in enumerate(frames)
                                        if p[i, j] >= sure or (f in dev_hits[i] and p[i, j] >= with_cue))
                precision, recall = micro(dev_gold, predicted)
                key = (precision >= args.precision, recall if precision >= args.precision else precision)
                if best is None or key > best[0]:
                    best = (key, penalty, sure, with_cue, precision, recall, w, b)
        print(f"penalty {penalty}: best so far P {best[4]:.3f} R {best[5]:.3f} (sure {best[2]}, with a cue {best[3]})",
              file=sys.stderr)
    _key, penalty, sure, with_cue, precision, recall, w, b = best
    if vectors is not None:  # the last rows of the weights are the vector's
        w, dense = w[: len(names)], w[len(names):]
        vectors = {"encoder": vectors["encoder"], "scale": vectors["scale"], "mean": np.round(vectors["mean"], 5).tolist(),
                   "std": np.round(vectors["std"], 5).tolist(), "weights": np.round(dense, 4).tolist()}
    keep = np.abs(w).max(axis=1) >= 1e-3
    out = args.out or model_path(topic.slug)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"topic": topic.slug, "frames": frames, "threshold": sure, "cue_threshold": with_cue, "chars": args.chars,
            "trained_on": list(TRAIN), "chosen_on": list(DEV), "penalty": penalty,
            "dev_micro": {"precision": round(precision, 3), "recall": round(recall, 3)},
            "features": [f for f, k in zip(names, keep) if k],
            "weights": np.round(w[keep], 4).tolist(), "bias": np.round(b, 4).tolist(), "vectors": vectors}
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    FrameModel.load(out)  # it loads
    print(f"wrote {out} ({len(data['features'])} features; dev micro precision {precision:.3f}, recall {recall:.3f}; "
          f"penalty {penalty}, thresholds {sure} alone / {with_cue} with a cue)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
