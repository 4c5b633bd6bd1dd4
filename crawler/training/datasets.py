"""Labelled stance sets: NewsMTSC (news, target-dependent sentiment) and the project's reception sets.

Every set is read into ``Example`` rows: a sentence, the character spans of its target, and a label of
``LABELS``. NewsMTSC is not shipped (users do not need it; CI and developers read it from
``../shared/realdata/newsmtsc`` or ``$SEEDTRACK_NEWSMTSC``); the reception sets are package data.
NewsMTSC's polarity 2/4/6 maps to against/neutral/favor: a negative view of the target is a stance against it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from crawler.errors import UserError
from crawler.nlp.labels import LABELS

NEWSMTSC_POLARITY = {2.0: "against", 4.0: "neutral", 6.0: "favor"}
DATA_DIR = Path(__file__).with_name("data")
RECEPTION = {"reception-train": "reception_train.jsonl", "reception": "reception_dev.jsonl",
             "reception-train-zh": "reception_train_zh.jsonl", "reception-zh": "reception_zh.jsonl"}
NEWSMTSC = {"newsmtsc-train": "train.jsonl", "newsmtsc-rw": "devtest_rw.jsonl", "newsmtsc-mt": "devtest_mt.jsonl"}
# The sets `seedtrack eval` scores by default: training sets are left out.
EVAL_SETS = ("reception", "reception-zh", "newsmtsc-rw", "newsmtsc-mt")


class DatasetMissing(UserError, FileNotFoundError):
    pass


@dataclass(frozen=True)
class Example:
    text: str
    spans: tuple[tuple[int, int], ...]  # target mentions, [start, end) character offsets
    label: str
    frames: tuple[str, ...] = ()
    actors: tuple[tuple[str, str], ...] = field(default=())  # (name, stance)
    lang: str | None = None  # the row's own language field, if it has one
    others: tuple[tuple[int, int], ...] = ()  # the other targets' mentions in the same sentence


def newsmtsc_dir() -> Path:
    """Where NewsMTSC's original splits are: $SEEDTRACK_NEWSMTSC, else the project's shared real data."""
    env = os.environ.get("SEEDTRACK_NEWSMTSC")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "realdata" / "newsmtsc" / "original"


def _rows(path: Path, kind: str) -> Iterator[tuple[int, dict]]:
    """(line number, parsed object) of a JSONL file; ValueError naming the file and line of a bad one."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: not a {kind} row: {exc!r}") from exc


def others_of(spans: list[tuple[tuple[int, int], ...]], i: int) -> tuple[tuple[int, int], ...]:
    """Every mention of the other targets than the i-th, of one sentence's targets."""
    return tuple(sorted({span for j, target in enumerate(spans) if j != i for span in target}))


def read_newsmtsc(path: Path) -> Iterator[Example]:
    """One example per target: a sentence with two targets gives two examples, each with the other's
    mentions as ``others``."""
    for number, row in _rows(path, "NewsMTSC"):
        try:
            text = row["sentence_normalized"]
            spans = [tuple(sorted([(t["from"], t["to"])] + [(m["from"], m["to"]) for m in t.get("further_mentions", ())]))
                     for t in row["targets"]]
            labels = [NEWSMTSC_POLARITY[float(target["polarity"])] for target in row["targets"]]
            for i, label in enumerate(labels):
                yield Example(text, spans[i], label, others=others_of(spans, i))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a NewsMTSC row: {exc!r}") from exc


def read_reception(path: Path, find_spans) -> Iterator[Example]:
    """The project's sets: {text, stance, frames, actors}; target spans come from ``find_spans(text)``."""
    for number, row in _rows(path, "reception"):
        try:
            if row["stance"] not in LABELS:
                raise ValueError(f"stance {row['stance']!r} is not one of {', '.join(LABELS)}")
            actors = tuple((a["name"], a["stance"]) for a in row.get("actors", ()))
            yield Example(row["text"], tuple(find_spans(row["text"])), row["stance"], tuple(row.get("frames", ())), actors)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a reception row: {exc!r}") from exc


def document_text(row: dict) -> str:
    """A row's text: ``text``, or a document's ``headline``, ``subhead`` and ``body`` as paragraphs."""
    if isinstance(row.get("text"), str):
        return row["text"]
    parts = [row.get(key) for key in ("headline", "subhead", "body")]
    if not any(isinstance(p, str) and p.strip() for p in parts):
        raise ValueError('no "text" (or "headline"/"subhead"/"body") string')
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def read_user(path: Path, find_spans) -> Iterator[Example]:
    """A user's labelled JSONL: {text, stance, frames?, lang?} a line (or a document's headline, subhead and
    body); errors name the file and line."""
    for number, row in _rows(path, "labelled"):
        try:
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            if row.get("stance") not in LABELS:
                raise ValueError(f"stance {row.get('stance')!r} is not one of {', '.join(LABELS)}")
            frames = row.get("frames") or ()
            if not isinstance(frames, (list, tuple)) or not all(isinstance(f, str) for f in frames):
                raise ValueError("frames must be a list of frame names")
            text = document_text(row)
            yield Example(text, tuple(find_spans(text)), row["stance"], tuple(frames), (), row.get("lang"))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}:{number}: {exc}") from exc


def is_file_name(name: str) -> bool:
    return name.endswith((".jsonl", ".json")) or "/" in name or os.sep in name


def load(name: str, find_spans=None, newsmtsc: Path | None = None) -> list[Example]:
    """A set by name (see RECEPTION and NEWSMTSC) or a JSONL file's path (``read_user``); ``find_spans`` is
    required for the reception sets and files."""
    if is_file_name(name):
        path = Path(name)
        if not path.is_file():
            raise DatasetMissing(f"{name}: no such file")
        return list(read_user(path, find_spans or (lambda text: ())))
    if name in RECEPTION:
        if find_spans is None:
            raise ValueError(f"{name} needs the topic's target finder")
        return list(read_reception(DATA_DIR / RECEPTION[name], find_spans))
    if name in NEWSMTSC:
        path = (newsmtsc or newsmtsc_dir()) / NEWSMTSC[name]
        if not path.exists():
            raise DatasetMissing(
                f"{name}: {path} not found: NewsMTSC is not shipped; point $SEEDTRACK_NEWSMTSC (or --newsmtsc) "
                "at the folder holding its train.jsonl, devtest_rw.jsonl and devtest_mt.jsonl"
            )
        return list(read_newsmtsc(path))
    raise UserError(f"unknown dataset {name!r}: choose from {', '.join([*RECEPTION, *NEWSMTSC])}")
