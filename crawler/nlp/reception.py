"""How a text receives the topic: the ``seedtrack_reception`` spaCy component (stance, frames, actors).

Which sentences count: those naming the topic (``TargetFinder``), one opening with "It"/"The model" right
after such a sentence, and those where a person or organisation takes a position ("said", "sued", a quote),
unless that sentence names only a rival. A text with none of these (a post that says "this model is
amazing") is judged on its first sentences, unless it names a rival. The selected sentences of a whole
batch go to the stance classifier in one call; the text takes a side when a fifth of them do (see
``_stance``), so one sentence of criticism in a neutral report moves the score without turning the label.

A frame is the text's when one of its cues is in a counted sentence or twice anywhere; its stance is the
mean over the counted sentences that carry a cue (the text's stance when none does). An actor is the
person or organisation closest to a reporting word, with that sentence's stance and its quote as evidence.
Results land in ``doc._.reception`` (see ``reception_of``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List

from spacy.language import Language
from spacy.tokens import Doc

from crawler.nlp.labels import LABELS, label_of
from crawler.nlp.stance_models import load_stance_model
from crawler.nlp.targets import TargetFinder

if not Doc.has_extension("reception"):
    Doc.set_extension("reception", default=None)

MAX_SENTENCES = 12  # per text: the classifier is the costly part; the first ones carry the story
EVIDENCE = 3
SIDE_SHARE = 0.2  # share of counted sentences that must take a side for the text to take one
ACTOR_LABELS = ("PERSON", "ORG")
REPORTING = {
    "en": re.compile(
        r"\b(?:said|says|say|told|tells|warned|warns|argued|argues|called|calls|praised|praises|criticized|"
        r"criticised|criticizes|accused|accuses|slammed|condemned|condemns|urged|urges|wrote|writes|writing|"
        r"posted|tweeted|reposted|according to|added|noted|claimed|claims|demanded|demands|sued|sues|sent|"
        r"described|hailed|hails|lauded|blasted|welcomed|denounced|objected|complained|stated|announced|"
        r"responded|replied|insisted|asked|filed|threatened|vowed|pledged|defended)\b",
        re.IGNORECASE,
    ),
    "zh": re.compile(r"表示|称|说|指出|认为|批评|呼吁|起诉|发出|回应|声明|发文|质疑|谴责|赞|称赞|抗议|警告"),
}
QUOTE = re.compile(r"[\"“「『]([^\"”」』]{8,})[\"”」』]")


@dataclass
class Sentence:
    text: str
    spans: list[tuple[int, int]]
    kind: str  # "target", "actor" or "fallback"
    frames: dict[str, int]
    speakers: list = field(default_factory=list)  # spaCy entity spans
    probs: tuple[float, float, float] = (0.0, 1.0, 0.0)


NEUTRAL = {"stance": "neutral", "score": 0.0, "confidence": 0.0}


def _stance(rows: list[tuple[float, float, float]]) -> dict:
    """Sentence probabilities -> a stance, as a reader weighs a text: it takes a side when at least
    ``SIDE_SHARE`` of its counted sentences do, in the direction of those sentences; the score is the mean
    P(favor) - P(against) over all counted sentences, so a long neutral report with one barb stays mild."""
    if not rows:
        return dict(NEUTRAL)
    sided = [row for row in rows if label_of(row) != "neutral"]
    score = sum(row[2] - row[0] for row in rows) / len(rows)
    lean = sum(row[2] - row[0] for row in sided)
    if sided and len(sided) / len(rows) >= SIDE_SHARE and lean:
        label = "favor" if lean > 0 else "against"
        agreeing = [row[LABELS.index(label)] for row in sided if label_of(row) == label] or [0.0]
        confidence = sum(agreeing) / len(agreeing) * min(1.0, len(sided) / len(rows) / SIDE_SHARE)
    else:
        label = "neutral"
        confidence = sum(row[1] for row in rows) / len(rows)
    return {"stance": label, "score": round(score, 4), "confidence": round(confidence, 4)}


class Reception:
    def __init__(self, finder: TargetFinder, model, language: str):
        self.finder, self.model, self.language = finder, model, language
        self.reporting = REPORTING[language]

    def speakers(self, sent) -> list:
        ents = [e for e in sent.ents if e.label_ in ACTOR_LABELS]
        found = []
        for cue in self.reporting.finditer(sent.text):
            start, end = sent.start_char + cue.start(), sent.start_char + cue.end()
            before = [e for e in ents if e.end_char <= start and start - e.end_char <= 60]
            after = [e for e in ents if e.start_char >= end and e.start_char - end <= 40]
            if before:
                found.append(max(before, key=lambda e: e.end_char))
            elif after:
                found.append(min(after, key=lambda e: e.start_char))
        return list({e.start: e for e in found}.values())

    def select(self, doc: Doc) -> tuple[list[Sentence], dict[str, int]]:
        """The sentences that count, and the frame cue counts of the whole text."""
        chosen, fallback, names_rival, previous_target = [], [], False, False
        totals: dict[str, int] = {}
        for sent in doc.sents:
            text = sent.text.strip()
            if not text:
                continue
            offset = sent.text.index(text[0])
            spans = [(s - offset, e - offset) for s, e in self.finder.spans(sent.text)]
            rival = self.finder.names_rival(text)
            names_rival |= rival
            kind = "target" if spans else None
            if not spans and previous_target and self.language == "en" and (anaphor := self.finder.anaphora(text)):
                spans, kind = [anaphor], "target"
            speakers = self.speakers(sent)
            if kind is None and speakers and not rival:
                kind = "actor"
            previous_target = kind == "target"
            names = [(e.start_char - sent.start_char - offset, e.end_char - sent.start_char - offset) for e in sent.ents]
            sentence = Sentence(text, spans, kind or "fallback", self.finder.frame_hits(text, names), speakers)
            for name, count in sentence.frames.items():
                totals[name] = totals.get(name, 0) + count
            if kind:
                chosen.append(sentence)
            elif len(fallback) < 3:
                fallback.append(sentence)
        if not chosen and not names_rival:
            chosen = fallback
        targets = [s for s in chosen if s.kind == "target"]
        return (targets + [s for s in chosen if s.kind != "target"])[:MAX_SENTENCES], totals

    def summarise(self, sentences: list[Sentence], totals: dict[str, int]) -> dict:
        result = _stance([s.probs for s in sentences])
        label = result["stance"]
        ranked = sorted(sentences, key=lambda s: s.probs[LABELS.index(label)], reverse=True)
        result["evidence"] = [s.text for s in ranked[:EVIDENCE]]
        frames = {}
        for name in self.finder.frames:
            carrying = [s.probs for s in sentences if name in s.frames]
            if carrying:  # a frame needs a counted sentence: cues elsewhere in the text do not make one
                frames[name] = _stance(carrying)
        actors: dict[str, dict] = {}
        for s in sentences:
            quote = QUOTE.search(s.text)
            for ent in s.speakers:
                name = ent._.norm or ent.text
                entry = actors.setdefault(name, {"actor": name, "label": ent.label_, "probs": [],
                                                 "evidence": quote.group(1) if quote else s.text})
                entry["probs"].append(s.probs)
        result["frames"] = list(frames)
        result["frame_stances"] = frames
        result["actors"] = [
            {"actor": a["actor"], "label": a["label"], **_stance(a.pop("probs")), "evidence": a["evidence"]}
            for a in actors.values()
        ]
        return result

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._process(batch)
                batch = []
        yield from self._process(batch)

    def _process(self, docs: list[Doc]) -> list[Doc]:
        selected = [self.select(doc) for doc in docs]
        flat = [s for sentences, _totals in selected for s in sentences]
        for sentence, probs in zip(flat, self.model.predict([(s.text, s.spans) for s in flat])):
            sentence.probs = probs
        for doc, (sentences, totals) in zip(docs, selected):
            doc._.reception = self.summarise(sentences, totals)
        return docs


@Language.factory(
    "seedtrack_reception",
    default_config={"targets": [], "rivals": [], "frames": {}, "names": [], "model": "auto", "language": "en"},
    assigns=["doc._.reception"],
    requires=["doc.sents", "doc.ents"],
)
def make_reception(nlp: Language, name: str, targets: List[str], rivals: List[str],
                   frames: Dict[str, List[str]], names: List[str], model: str, language: str) -> Reception:
    classifier = load_stance_model(model, language)
    return Reception(TargetFinder(targets, rivals, frames, names), classifier, language)


def reception_of(doc: Doc) -> dict:
    """The component's result: stance, score, confidence, evidence, frames, frame_stances, actors."""
    return doc._.reception or {**NEUTRAL, "evidence": [], "frames": [], "frame_stances": {}, "actors": []}
