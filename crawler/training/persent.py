"""Document-level stance on PerSenT (Bastan et al., COLING 2020: the author's sentiment toward a news
article's main person), read with the topic machinery: each document's ``TARGET_ENTITY`` is its topic
(its full name and surname are the target names), the same ``seedtrack_reception`` component decides.

    python -m crawler.training.persent [--split random_test] [--limit N] [--stance-model onnx]

PerSenT is evaluation only (its licence is unclear) and is not shipped: ``--dir`` or
``$SEEDTRACK_PERSENT`` points at its folder (default ``../shared/realdata/persent``). Positive/Negative/
Neutral map to favor/against/neutral toward the target. Its dev split chose the numbers of how a page
is weighed (``crawler.nlp.reception``: the headline's and an attributed opinion's weight, the favor and
against thresholds per stance model), with the project's documents_dev; no model is trained on it.
random_test and fixed_test are reported once.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from crawler.nlp.targets import TargetFinder
from crawler.training.evaluation import format_report, score

LABEL = {"Positive": "favor", "Negative": "against", "Neutral": "neutral"}


def persent_dir() -> Path:
    env = os.environ.get("SEEDTRACK_PERSENT")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "realdata" / "persent"


def read_persent(path: Path) -> list[tuple[str, str, str]]:
    """(target, document text with its title as the first line, label) of each labelled document."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        return [(row["TARGET_ENTITY"].strip(), f"{row['TITLE'].strip()}\n{row['DOCUMENT'].strip()}",
                 LABEL[row["TRUE_SENTIMENT"].strip()])
                for row in csv.DictReader(handle) if row.get("TRUE_SENTIMENT", "").strip() in LABEL]


def target_names(target: str) -> list[str]:
    parts = target.split()
    return [target] + ([parts[-1]] if len(parts) > 1 and len(parts[-1]) > 2 else [])


def evaluate_persent(path: Path, stance_model: str = "onnx", limit: int | None = None):
    """The full tagger's document stance on one split (the first ``limit`` documents)."""
    from crawler.nlp.reception import reception_of
    from crawler.nlp.tagger import Tagger, TaggerSpec

    rows = read_persent(path)[:limit]
    nlp = Tagger(TaggerSpec(stance_model=stance_model)).pipeline("en")
    reception = nlp.get_pipe("seedtrack_reception")
    predicted, started = [], time.perf_counter()
    for target, text, _label in rows:
        reception.finder = TargetFinder(target_names(target))
        predicted.append(reception_of(nlp(text))["stance"])
    report = score(f"persent-{path.stem}", [label for _, _, label in rows], predicted)
    report.docs_per_second = len(rows) / (time.perf_counter() - started)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.training.persent", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="PerSenT's folder (default $SEEDTRACK_PERSENT)")
    parser.add_argument("--split", default="random_test", help="dev (chose the page rule), random_test or fixed_test (default random_test)")
    parser.add_argument("--limit", type=int, help="first N documents only")
    parser.add_argument("--stance-model", default="onnx")
    args = parser.parse_args(argv)
    path = (args.dir or persent_dir()) / f"{args.split}.csv"
    if not path.exists():
        print(f"{path} not found: PerSenT is not shipped; pass --dir", file=sys.stderr)
        return 2
    report = evaluate_persent(path, args.stance_model, args.limit)
    counts = {label: sum(report.confusion[label].values()) for label in report.confusion}
    majority = max(counts, key=counts.get)
    print(format_report(report))
    print(f"  majority class ({majority}) accuracy {counts[majority] / report.count:.3f}, "
          f"macro-F1 {(2 * counts[majority] / (counts[majority] + report.count)) / len([c for c in counts.values() if c]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
