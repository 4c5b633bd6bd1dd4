"""Stance accuracy and speed of each stance model on every labelled set: ``seedtrack eval`` in full.

    python benchmarks/stance_benchmark.py [--model onnx --model textcat --model minilm] [--newsmtsc DIR]

For each model (default: onnx when onnxruntime is installed, textcat, and minilm when its extra is installed) the whole tagger is loaded once,
then scored on the project's reception set (300 English sentences, held out), its Chinese set (90), and
NewsMTSC's two test splits (devtest_rw 1,146 and devtest_mt 1,476 targets; the classifier alone, since
their targets are people given by offsets). Prints accuracy, macro-F1, F1 per label and texts per second,
then a table beside NewsMTSC's published results. No figure here comes from data the models trained on.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

# Macro-F1 on devtest_rw / devtest_mt: the paper's best (Hamborg & Donnay, EACL 2021), and the figures the
# issue measured on these machines for simpler approaches.
REFERENCES = [
    ("published best (GRU-TSC, RoBERTa)", 0.831, 0.825),
    ("MiniLM fine-tuned, 1 epoch (issue's measurement)", 0.77, 0.73),
    ("frozen MiniLM + logistic regression (issue's)", 0.70, 0.66),
    ("spaCy bag-of-words textcat, target marked (issue's)", 0.60, 0.58),
    ("VADER on the sentence (issue's)", 0.53, 0.51),
]


def main(argv: list[str] | None = None) -> int:
    from crawler.training.datasets import EVAL_SETS, DatasetMissing
    from crawler.training.evaluation import format_report
    from crawler.nlp.stance_models import STANCE_MODELS, minilm_available, onnx_available
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.training.evaluation import evaluate
    from crawler.nlp.targets import TargetFinder
    from crawler.topic import load_topic

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", choices=[m for m in STANCE_MODELS if m != "auto"])
    parser.add_argument("--newsmtsc", type=Path, help="folder of NewsMTSC's jsonl files (default: ../shared/realdata)")
    args = parser.parse_args(argv)
    models = args.model or [*(["onnx", "blend"] if onnx_available() else []), "textcat", *(["minilm"] if minilm_available() else [])]
    print(f"stance benchmark: models {', '.join(models)}; machine: {os.cpu_count()} CPUs, {platform.platform()}, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
    topic = load_topic()
    finder = TargetFinder.from_topic(topic)
    table = []
    for model in models:
        started = time.perf_counter()
        tagger = Tagger(TaggerSpec.from_topic(topic, stance_model=model))
        tagger.pipeline("zh")
        print(f"\n== {model} (loaded in {time.perf_counter() - started:.1f} s) " + "=" * 50, flush=True)
        for name in EVAL_SETS:
            try:
                report = evaluate(tagger, finder, name, newsmtsc=args.newsmtsc)
            except DatasetMissing as exc:
                print(f"skipped: {exc}")
                continue
            print(format_report(report), flush=True)
            table.append((model, name, report.accuracy, report.macro_f1, report.docs_per_second))
    print("\n== summary " + "=" * 66)
    print(f"{'model':<10}{'set':<15}{'accuracy':>10}{'macro-F1':>10}{'texts/s':>10}")
    for model, name, accuracy, macro, speed in table:
        print(f"{model:<10}{name:<15}{accuracy:>10.3f}{macro:>10.3f}{speed:>10.1f}")
    print("\nNewsMTSC macro-F1 for comparison (devtest_rw / devtest_mt):")
    for label, rw, mt in REFERENCES:
        print(f"  {label:<52}{rw:.3f} / {mt:.3f}")
    ours = {(m, n): f for m, n, _a, f, _s in table}
    for model in models:
        if (model, "newsmtsc-rw") in ours and (model, "newsmtsc-mt") in ours:
            rw, mt = ours[(model, "newsmtsc-rw")], ours[(model, "newsmtsc-mt")]
            print(f"  seedtrack {model:<42}{rw:.3f} / {mt:.3f}  ({rw / 0.831:.0%} / {mt / 0.825:.0%} of the published best)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
