"""Scores of the stance tagger on labelled sets: accuracy, macro-F1, confusion matrix, per-frame precision/recall.

Written out here (no scikit-learn at run time). Macro-F1 is the mean of the per-label F1 over the labels
present in the gold data, as NewsMTSC's paper reports it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from crawler.nlp.labels import LABELS, label_of
from crawler.nlp.tagger import LANGUAGES, Tagger
from crawler.text.language import detect_language
from crawler.nlp.targets import TargetFinder
from crawler.training import datasets


def f1_per_label(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    scores = {}
    for label in sorted(set(gold), key=lambda l: LABELS.index(l) if l in LABELS else len(LABELS)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    scores = f1_per_label(gold, predicted)
    return sum(scores.values()) / len(scores) if scores else 0.0


@dataclass
class Report:
    dataset: str
    count: int
    accuracy: float
    macro_f1: float
    f1: dict[str, float]
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    frames: dict[str, dict[str, float]] = field(default_factory=dict)  # frame -> precision, recall, support
    docs_per_second: float = 0.0


def score(dataset: str, gold: Sequence[str], predicted: Sequence[str],
          gold_frames: Sequence[Sequence[str]] = (), predicted_frames: Sequence[Sequence[str]] = ()) -> Report:
    pairs = Counter(zip(gold, predicted))
    confusion = {g: {p: pairs[(g, p)] for p in LABELS} for g in LABELS}
    frames = {}
    if gold_frames:
        for name in sorted({f for fs in gold_frames for f in fs} | {f for fs in predicted_frames for f in fs}):
            tp = sum(name in g and name in p for g, p in zip(gold_frames, predicted_frames))
            found = sum(name in p for p in predicted_frames)
            support = sum(name in g for g in gold_frames)
            frames[name] = {"precision": tp / found if found else 0.0, "recall": tp / support if support else 0.0,
                            "support": support}
        tp = sum(len(set(g) & set(p)) for g, p in zip(gold_frames, predicted_frames))
        found, support = sum(len(set(p)) for p in predicted_frames), sum(len(set(g)) for g in gold_frames)
        frames["(all, micro)"] = {"precision": tp / found if found else 0.0,
                                  "recall": tp / support if support else 0.0, "support": support}
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0
    return Report(dataset, len(gold), accuracy, macro_f1(gold, predicted), f1_per_label(gold, predicted), confusion, frames)


def format_report(report: Report) -> str:
    lines = [f"{report.dataset}: {report.count} examples, accuracy {report.accuracy:.3f}, "
             f"macro-F1 {report.macro_f1:.3f}, {report.docs_per_second:.0f} texts/s",
             "  F1 " + ", ".join(f"{label} {value:.3f}" for label, value in report.f1.items()),
             "  confusion (rows gold, columns predicted):",
             "    " + " ".join(f"{label:>8}" for label in ("", *LABELS))]
    for gold in LABELS:
        lines.append("    " + f"{gold:>8} " + " ".join(f"{report.confusion[gold][p]:>8}" for p in LABELS))
    if report.frames:
        lines.append("  frames (precision / recall / support):")
        for name, values in report.frames.items():
            lines.append(f"    {name:<12} {values['precision']:.3f} / {values['recall']:.3f} / {values['support']}")
    return "\n".join(lines)


def evaluate(tagger: Tagger, finder: TargetFinder, name: str, limit: int | None = None,
             newsmtsc: Path | None = None) -> Report:
    """Scores on one labelled set; ``limit`` takes the first N examples (for a quick check); ``newsmtsc`` is
    NewsMTSC's folder (default ``datasets.newsmtsc_dir()``)."""
    if name in datasets.RECEPTION or datasets.is_file_name(name):
        examples = datasets.load(name, finder.spans)[:limit]
        default = ("zh" if name.endswith("-zh") else "en") if name in datasets.RECEPTION else None
        langs = [default or detect_language(e.text, hint=e.lang, priors=LANGUAGES) for e in examples]
        started = time.perf_counter()
        results = tagger.analyse([e.text for e in examples], langs)
        results = [r or {"stance": "neutral", "frames": []} for r in results]  # a language not analysed
        elapsed = time.perf_counter() - started
        report = score(name, [e.label for e in examples], [r["stance"] for r in results],
                       [e.frames for e in examples], [r["frames"] for r in results])
    else:
        examples = datasets.load(name, newsmtsc=newsmtsc)[:limit]
        classifier = tagger.pipeline("en").get_pipe("seedtrack_reception").model
        started = time.perf_counter()
        probabilities = classifier.predict([(e.text, e.spans, e.others) for e in examples])
        elapsed = time.perf_counter() - started
        predicted = [label_of(p) for p in probabilities]
        report = score(name, [e.label for e in examples], predicted)
    report.docs_per_second = len(examples) / elapsed if elapsed else 0.0
    return report
