"""Readers for every labelled stance set, as ``Example(text, spans, label)`` rows (labels: against, neutral, favor).

Label mappings are those of ../shared/realdata/INDEX.md:
- NewsMTSC polarity 2/4/6 -> against/neutral/favor (one example per target, further_mentions marked too);
- MAMS-ATSA, TSA-MD, FinEntity, PerSenT, airline tweets: negative/neutral/positive -> against/neutral/favor
  (TSA-MD has no neutral);
- MT-CSD against/none/favor -> against/neutral/favor (the labelled comment is the last id of ``index``);
- GWSD argmax of (disagree, agree, neutral) -> against/favor/neutral toward "climate change is a serious concern";
- C-STANCE 反对/中立/支持 -> against/neutral/favor;
- the project's reception sets already use the labels; their target spans come from ``TopicFinder`` (the topic
  name, [terms] include and the names/aliases of ``role = "topic"`` entities of seedance.toml), their other
  spans from its ``role = "rival"`` entities, as the run time finds them (``crawler.nlp.targets``).

Each example also carries ``others``: the spans of the other entities its sentence names beside the target (the
other labelled targets of the same sentence in NewsMTSC, MAMS, TSA-MD and FinEntity; the topic's rivals in the
project's sets), which a model trained with ``onnx_train --mark-others`` sees in {braces}.

Licensed for the shipped model (``LICENSED``): newsmtsc, mams, tsa-md, finentity, reception (+ reception-zh
train). Everything else is evaluation / research only. Splits that have no official one (FinEntity, airline
tweets) are cut here with fixed seeds so training and evaluation agree.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from crawler.text.terms import terms_pattern
from crawler.training import datasets
from crawler.training.datasets import others_of

LABELS = ("against", "neutral", "favor")
REAL = Path(os.environ.get("SEEDTRACK_REALDATA", Path(__file__).resolve().parents[3] / "shared" / "realdata"))
# The project's reception sets (package data) and its shipped topic file.
PROJECT_DATA = Path(__file__).with_name("data")
TOPIC_FILE = Path(__file__).resolve().parents[1] / "topic" / "seedance.toml"
LICENSED = ("newsmtsc", "mams", "tsa-md", "finentity", "reception")
RESEARCH = ("persent", "mt-csd", "gwsd", "airline", "c-stance")

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Example:
    text: str
    spans: tuple[tuple[int, int], ...]
    label: str
    source: str = ""
    others: tuple[tuple[int, int], ...] = ()


def terms_regex(terms) -> re.Pattern | None:
    """The project's one matching rule (crawler/text/terms.py) for many names."""
    return terms_pattern(terms)


def find_spans(pattern: re.Pattern | None, text: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in pattern.finditer(text)) if pattern else ()


class TopicFinder:
    """Spans naming the tracked topic and spans naming its rivals, from the shipped topic file, matched as the
    run time matches them (``crawler.nlp.targets.finder_config``)."""

    def __init__(self, topic_file: Path = TOPIC_FILE):
        from crawler.nlp.targets import finder_config
        from crawler.topic import load_topic

        config = finder_config(load_topic(topic_file))
        self.names = config["targets"]
        self.pattern = terms_regex(self.names)
        self.rivals = terms_regex(config["rivals"])

    def spans(self, text: str) -> tuple[tuple[int, int], ...]:
        return find_spans(self.pattern, text)

    def rival_spans(self, text: str) -> tuple[tuple[int, int], ...]:
        return find_spans(self.rivals, text)

    def example(self, text: str, label: str, source: str) -> Example:
        return Example(text, self.spans(text), label, source, self.rival_spans(text))


# --------------------------------------------------------------------------------------------- readers
SENTIMENT = {"negative": "against", "neutral": "neutral", "positive": "favor"}


def read_newsmtsc(path: Path, source="newsmtsc") -> list[Example]:
    return [Example(e.text, e.spans, e.label, source, e.others) for e in datasets.read_newsmtsc(path)]


def newsmtsc(split: str) -> list[Example]:
    """split: train | devtest_rw | devtest_mt (original/) | rw-dev | mt-dev | rw-test | mt-test (experiments/)."""
    base = REAL / "newsmtsc"
    if split in ("train", "devtest_rw", "devtest_mt"):
        return read_newsmtsc(base / "original" / f"{split}.jsonl")
    kind, part = split.split("-")
    return read_newsmtsc(base / "experiments" / f"newsmtsc-{kind}" / f"{part}.jsonl")


def mams(split: str) -> list[Example]:
    """MAMS-ATSA train | val | test: one example per aspect term."""
    out = []
    for sentence in ET.parse(REAL / "mams" / "MAMS-ATSA" / "raw" / f"{split}.xml").getroot().iter("sentence"):
        text = sentence.findtext("text")
        aspects = list(sentence.iter("aspectTerm"))
        spans = [((int(a.get("from")), int(a.get("to"))),) for a in aspects]
        for i, a in enumerate(aspects):
            out.append(Example(text, spans[i], SENTIMENT[a.get("polarity")], "mams", others_of(spans, i)))
    return out


def tsa_md(split: str) -> list[Example]:
    """TSA-MD train | dev: positive/negative targets (sentences without a target give nothing)."""
    out = []
    for row in json.load(open(REAL / "tsa-md" / f"TSA-MD.{split}.json", encoding="utf-8")):
        targets = row.get("targets") or ()
        spans = [((t["location"]["begin"], t["location"]["end"]),) for t in targets]
        for i, t in enumerate(targets):
            if t["sentiment"] in SENTIMENT:
                out.append(Example(row["text"], spans[i], SENTIMENT[t["sentiment"]], "tsa-md", others_of(spans, i)))
    return out


def _locate(content: str, value: str, hint: int) -> tuple[int, int]:
    starts = [m.start() for m in re.finditer(re.escape(value), content)]
    if not starts:
        return hint, hint + len(value)
    best = min(starts, key=lambda s: abs(s - hint))
    return best, best + len(value)


def finentity(split: str) -> list[Example]:
    """FinEntity train | dev | test: paragraphs shuffled (seed 13), 20% test, then 10% of the rest dev.
    The mention is located by its ``value`` near the given offset (70 offsets are shifted)."""
    rows = json.load(open(REAL / "finentity" / "FinEntity.json", encoding="utf-8"))
    index = list(range(len(rows)))
    random.Random(13).shuffle(index)
    n_test = len(rows) // 5
    rest = index[n_test:]
    n_dev = len(rest) // 10
    chosen = {"test": index[:n_test], "dev": rest[:n_dev], "train": rest[n_dev:]}[split]
    out = []
    for i in chosen:
        content = rows[i]["content"]
        annotations = rows[i]["annotations"]
        spans = [(_locate(content, a["value"], a["start"]),) for a in annotations]
        for j, a in enumerate(annotations):
            out.append(Example(content, spans[j], SENTIMENT[a["label"].lower()], "finentity", others_of(spans, j)))
    return out


def reception(name: str, finder: TopicFinder | None = None) -> list[Example]:
    """The project's sets: reception_train (EN), reception_train_zh, frames_train, posts_train (train);
    reception_dev, reception_zh (held out)."""
    finder = finder or TopicFinder()
    out = []
    for line in open(PROJECT_DATA / f"{name}.jsonl", encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            out.append(finder.example(row["text"], row["stance"], name))
    return out


def reception_split(name: str, part: str, finder: TopicFinder | None = None) -> list[Example]:
    """A fixed 10% of a reception train set held out for choosing (seed 7); part: train | dev."""
    rows = reception(name, finder)
    index = list(range(len(rows)))
    random.Random(7).shuffle(index)
    cut = len(rows) // 10
    return [rows[i] for i in (index[:cut] if part == "dev" else index[cut:])]


def _align_masked(paragraph: str, masked: str) -> tuple[tuple[int, int], ...] | None:
    """Spans of the [TGT] mentions: the masked paragraph's other pieces are found in order in the original."""
    pieces = masked.split("[TGT]")
    if len(pieces) < 2:
        return ()
    if not paragraph.startswith(pieces[0]):
        return None
    pos, spans = len(pieces[0]), []
    for piece in pieces[1:]:
        if piece == "" and piece is pieces[-1]:
            end = len(paragraph)
        else:
            probe = piece[:20] if piece else ""
            end = paragraph.find(probe, pos) if probe else pos
            if end < 0:
                return None
        if end > pos:
            spans.append((pos, end))
        pos = end + len(piece)
    return tuple(spans)


def persent(split: str, level: str = "paragraph") -> list[Example]:
    """PerSenT dev | random_test | fixed_test. level=paragraph: each labelled paragraph; level=document: the
    document's paragraphs are returned with source "doc<index>" and the document label (see eval_stance)."""
    out = []
    with open(REAL / "persent" / f"{split}.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            entity = row["TARGET_ENTITY"]
            pattern = terms_regex([entity, *[p for p in entity.split() if len(p) > 2 and p[0].isupper()]])
            paragraphs = row["DOCUMENT"].split("\n")
            masked = row["MASKED_DOCUMENT"].split("\n")
            for i, para in enumerate(paragraphs):
                spans = _align_masked(para, masked[i]) if len(masked) == len(paragraphs) else None
                if not spans:
                    spans = find_spans(pattern, para)
                if level == "paragraph":
                    label = row.get(f"Paragraph{i}", "")
                    if label:
                        out.append(Example(para, spans, SENTIMENT[label.lower()], "persent"))
                elif row["TRUE_SENTIMENT"] and para.strip():
                    out.append(Example(para, spans, SENTIMENT[row["TRUE_SENTIMENT"].lower()], f"doc{row['DOCUMENT_INDEX']}"))
    return out


def mt_csd(target: str, split: str) -> list[Example]:
    """MT-CSD Bitcoin | SpaceX, train | valid | test: the last comment's text, target mentions of the name."""
    base = REAL / "mt-csd" / "data" / target
    with open(base / "text.csv", encoding="utf-8", newline="") as f:
        texts = {r["id"]: r["text"] for r in csv.DictReader(f)}
    pattern = terms_regex([target, "BTC"] if target == "Bitcoin" else [target, "Space X"])
    mapping = {"favor": "favor", "against": "against", "none": "neutral"}
    out = []
    for item in json.load(open(base / f"{split}.json", encoding="utf-8")):
        text = texts.get(item["index"][-1])
        if text:
            out.append(Example(text, find_spans(pattern, text), mapping[item["stance"]], f"mt-csd-{target}"))
    return out


def gwsd(split: str) -> list[Example]:
    """GWSD test (in_held_out_test) | train (the other real items); "climate change"/"global warming" marked."""
    pattern = terms_regex(["climate change", "global warming"])
    out = []
    with open(REAL / "gwsd" / "GWSD.tsv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if not row["sent_id"].startswith("t") or not row["agree"]:
                continue
            if (row["in_held_out_test"] == "True") != (split == "test"):
                continue
            probs = {"against": float(row["disagree"]), "favor": float(row["agree"]), "neutral": float(row["neutral"])}
            out.append(Example(row["sentence"], find_spans(pattern, row["sentence"]), max(probs, key=probs.get), "gwsd"))
    return out


AIRLINE_HANDLES = {"United": ["@united"], "US Airways": ["@USAirways"], "American": ["@AmericanAir"],
                   "Southwest": ["@SouthwestAir"], "Delta": ["@JetBlue", "@Delta"], "Virgin America": ["@VirginAmerica"]}


def airline(split: str, sample: int = 2000) -> list[Example]:
    """Airline tweets: test = a fixed sample (seed 5) of ``sample`` tweets, train = the rest; target = the
    @handle of the ``airline`` column (Delta's tweets address @JetBlue in this export)."""
    with open(REAL / "twitter-airline-sentiment" / "Airline-Sentiment-2-w-AA.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    index = list(range(len(rows)))
    random.Random(5).shuffle(index)
    chosen = index[:sample] if split == "test" else index[sample:]
    out = []
    for i in chosen:
        r = rows[i]
        pattern = re.compile("|".join(re.escape(h) for h in AIRLINE_HANDLES[r["airline"]]), re.IGNORECASE)
        out.append(Example(r["text"], find_spans(pattern, r["text"]), SENTIMENT[r["airline_sentiment"]], "airline"))
    return out


def c_stance(limit: int | None = None, seed: int = 3, noun_phrases_only: bool = True) -> list[Example]:
    """C-STANCE (all 7 domain files): noun-phrase targets that occur verbatim (marked); claims have no span."""
    mapping = {"支持": "favor", "反对": "against", "中立": "neutral"}
    out = []
    for path in sorted((REAL / "c-stance" / "c_stance_dataset" / "subtaskB").glob("*/raw_test_all_onecol.csv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                if noun_phrases_only and r["Type"] != "noun_phrases":
                    continue
                text, target = r["Text"], r["Target 1"]
                at = text.find(target)
                if noun_phrases_only and at < 0:
                    continue
                out.append(Example(text, ((at, at + len(target)),) if at >= 0 else (), mapping[r["Stance 1"]], "c-stance"))
    if limit and len(out) > limit:
        out = random.Random(seed).sample(out, limit)
    return out


# Hand-written comparison / rival sentences (training augmentation only; written for this model, about 40).
# The target is the topic's name; its rivals are marked as others (``TopicFinder.example``).
AUGMENT = [
    ("Sora 2 is much better than Seedance 2.0 at keeping faces consistent.", "against"),
    ("Seedance 2.0 beats Sora 2 on motion quality in every clip we tried.", "favor"),
    ("Compared with Veo 3, Seedance 2.0 looks dated and blurry.", "against"),
    ("Veo 3 is good, but Seedance 2.0 is better.", "favor"),
    ("Kling AI outperforms Seedance on long shots, and it is cheaper.", "against"),
    ("Seedance 2.0 outperforms Kling and Veo on prompt adherence.", "favor"),
    ("I switched from Seedance to Sora because Seedance kept failing.", "against"),
    ("I switched from Sora to Seedance 2.0 and have not looked back.", "favor"),
    ("Unlike Seedance 2.0, Veo 3 actually gets hands right.", "against"),
    ("Unlike Sora, Seedance 2.0 handles multi-shot scenes with ease.", "favor"),
    ("Sora is overrated; Seedance 2.0 is the real deal.", "favor"),
    ("Seedance 2.0 is overrated; Sora 2 is the real deal.", "against"),
    ("Even the best Seedance clips fall short of what Veo 3 produces.", "against"),
    ("Next to Seedance 2.0, Kling's output looks amateurish.", "favor"),
    ("Seedance 2.0 trails Sora 2 and Veo 3 in independent benchmarks.", "against"),
    ("Seedance 2.0 tops the leaderboard, ahead of Veo 3 and Sora 2.", "favor"),
    ("Sora 2 leads the benchmark, with Seedance 2.0 far behind.", "against"),
    ("Critics prefer Seedance 2.0 over Runway for its cinematic camera work.", "favor"),
    ("Filmmakers prefer Runway over Seedance 2.0 for serious work.", "against"),
    ("Seedance 2.0 and Sora 2 both launched this month with similar features.", "neutral"),
    ("ByteDance released Seedance 2.0 a week after Google announced Veo 3.", "neutral"),
    ("Seedance 2.0 competes with Sora 2, Veo 3 and Kling in the AI video market.", "neutral"),
    ("Sora 2 is terrible, but that says nothing about Seedance 2.0.", "neutral"),
    ("OpenAI's Sora drew criticism for its watermark, while Seedance 2.0 was not tested.", "neutral"),
    ("Sora 2 is a disappointment, and Seedance 2.0 is no better.", "against"),
    ("Veo 3 is impressive, and Seedance 2.0 is every bit as good.", "favor"),
    ("Seedance 2.0 makes Sora look like a toy.", "favor"),
    ("Sora makes Seedance 2.0 look like a toy.", "against"),
    ("Why would anyone pay for Seedance when Kling does it better for free?", "against"),
    ("Why would anyone pay for Sora when Seedance 2.0 does it better?", "favor"),
    ("Seedance 2.0 is no match for Veo 3.", "against"),
    ("Veo 3 is no match for Seedance 2.0.", "favor"),
    ("In our test, Seedance 2.0 won four of five rounds against Sora 2.", "favor"),
    ("In our test, Seedance 2.0 lost four of five rounds against Sora 2.", "against"),
    ("Seedance 2.0 is cheaper than Sora 2 per second of video, the pricing pages show.", "neutral"),
    ("The studio said Seedance 2.0 copied its characters, a charge it has not made against Sora.", "against"),
    ("Hollywood studios sued over Sora, but praised Seedance 2.0's licensing deal.", "favor"),
    ("Kling's new release finally catches up with Seedance 2.0, which remains the one to beat.", "favor"),
    ("Where Seedance 2.0 stumbles on text rendering, Veo 3 shines.", "against"),
    ("Where Veo 3 stumbles on text rendering, Seedance 2.0 shines.", "favor"),
]


def augment(finder: TopicFinder | None = None) -> list[Example]:
    finder = finder or TopicFinder()
    return [finder.example(t, label, "augment") for t, label in AUGMENT]


if __name__ == "__main__":
    from collections import Counter

    f = TopicFinder()
    sets = {
        "newsmtsc-train": newsmtsc("train"), "newsmtsc-rw-dev": newsmtsc("rw-dev"), "devtest_rw": newsmtsc("devtest_rw"),
        "devtest_mt": newsmtsc("devtest_mt"), "mams-train": mams("train"), "mams-val": mams("val"), "mams-test": mams("test"),
        "tsa-train": tsa_md("train"), "tsa-dev": tsa_md("dev"), "fin-train": finentity("train"), "fin-dev": finentity("dev"),
        "fin-test": finentity("test"), "rec-train": reception_split("reception_train", "train", f),
        "rec-dev10": reception_split("reception_train", "dev", f), "reception_dev": reception("reception_dev", f),
        "rec-zh-train": reception_split("reception_train_zh", "train", f), "reception_zh": reception("reception_zh", f),
        "persent-rt": persent("random_test"), "btc-test": mt_csd("Bitcoin", "test"), "spacex-test": mt_csd("SpaceX", "test"),
        "gwsd-test": gwsd("test"), "airline-test": airline("test"), "augment": augment(f),
    }
    for name, rows in sets.items():
        marked = sum(bool(e.spans) for e in rows)
        print(f"{name:16s} {len(rows):6d} marked {marked:6d} {dict(Counter(e.label for e in rows))}")
