"""How a text receives the topic: the ``seedtrack_reception`` spaCy component (stance, frames, actors).

Which sentences count: those naming the topic (``TargetFinder``), one opening with "It"/"The model" right
after such a sentence, and those where a person or organisation takes a position ("said", "sued", a quote),
unless that sentence names only a rival. A text with none of these (a post that says "this model is
amazing") is judged on its first sentences, unless it names a rival. The selected sentences of a whole
batch go to the stance classifier in one call. The text is read as a reader weighs it (``_document``):
each line is its own sentence (a headline and subhead never merge with the body); a page (a headline
over a body, paragraphs) takes a side only when its lean, the mean P(favor) - P(against) with the
headline counting double and attributed opinions ("critics said") three quarters, clearly passes a
threshold, so a page that reports conflict in a few sentences stays neutral; a one-line text (a post)
is read by its sentences' labels, the outlet's own voice before attributed opinions, opinions on both
sides making a neutral report of a debate, a side outnumbering the other by ``MARGIN`` (``_stance``);
list items count under a heading that names the topic, spec lines ("Resolution: 1080p") and list items
under other headings are not read; the topic losing a comparison ("Kling is much better than
Seedance") is against it, winning one is for it (``comparison``).

A frame is the text's when a counted sentence takes it: by the topic's trained frame classifier where it
has one (``crawler.nlp.frame_model``: the classifier sure, or a cue and the classifier agreeing), else by
one of its cues (not inside a name or address); its stance is that of the counted sentences that take it.
An actor is the person or organisation closest to a reporting word, with that sentence's stance and its
quote as evidence.
Results land in ``doc._.reception`` (see ``reception_of``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List

from spacy.language import Language
from spacy.tokens import Doc

from crawler.nlp.frame_model import FrameModel
from crawler.nlp.labels import LABELS, label_of
from crawler.nlp.stance_models import load_stance_model
from crawler.nlp.targets import TargetFinder

if not Doc.has_extension("reception"):
    Doc.set_extension("reception", default=None)

MAX_SENTENCES = 12  # per text: the classifier is the costly part; the first ones carry the story
EVIDENCE = 3
MARGIN = 0.2  # share of the counted sentences by which one side must outnumber the other (see _stance)
# How a page is weighed (``_document``), chosen on PerSenT's dev split and documents_dev (see the README):
HEADLINE_WEIGHT = 2.0  # the headline counts as two sentences
ATTRIBUTED_WEIGHT = 0.75  # an attributed opinion ("critics said") against the outlet's own voice
# The lean at or beyond which a page is favor / -against, per stance model (their probabilities differ: textcat's
# are softer, blend's between them); the Chinese textcat takes the English one's, minilm (not measured) the onnx
# model's.
PAGE_THRESHOLDS = {"blend": (0.05, 0.50), "onnx": (0.05, 0.65), "textcat": (0.05, 0.35)}
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
    attributed: bool = False  # an opinion the text reports ("critics said"), not the outlet's own voice
    comparison: str | None = None  # "against"/"favor": the topic loses/wins a comparison ("X is better than it")
    line: int = 0  # the index of the text's (non-empty) line it sits in: 0 is a headline when the text has more
    others: list[tuple[int, int]] = field(default_factory=list)  # spans naming a rival, marked apart from the target


NEUTRAL = {"stance": "neutral", "score": 0.0, "confidence": 0.0}
COMPARED = {"against": (0.9, 0.08, 0.02), "favor": (0.02, 0.08, 0.9)}
BULLET = re.compile(r"^\s*(?:[-•*·▪–]|\d{1,2}[.)])\s+")
SPEC_LINE = re.compile(r"^[\w /()-]{2,30}:\s*\S.{0,60}$")  # "Resolution: up to 1080p", "Price: 69 yuan a month"
ATTRIBUTION = re.compile(r"\b(?:critics|supporters|fans|opponents|skeptics|sceptics|detractors|some users|many users|"
                         r"others)\b|according to|批评者|网友|有人认为|支持者", re.IGNORECASE)
_BETTER = re.compile(r"\b(?:(?:much|way|far|a lot|miles) )?(?:better|superior|nicer|stronger|more realistic)\s+(?:than|to)\s+$"
                     r"|\b(?:beats|outperforms|outperformed|crushes|destroys|blows away|surpasses)\s+$"
                     r"|(?:比|胜过|碾压|吊打)\s*$", re.IGNORECASE)
_WORSE = re.compile(r"\b(?:(?:much|way|far|a lot) )?(?:worse|inferior|weaker)\s+(?:than|to)\s+$"
                    r"|\b(?:loses to|trails|lags behind)\s+$", re.IGNORECASE)
SPEC_HEADING = re.compile(r"\b(?:spec|specs|specifications?|features|at a glance|key facts|fact sheet|details|"
                          r"pricing|price list)\b|参数|规格|配置", re.IGNORECASE)
_LINE = re.compile(r"[^\n]+")


def comparison(text: str, spans: list[tuple[int, int]]) -> str | None:
    """The topic as the loser of a comparison ("Kling is much better than [Seedance]": against) or its
    winner over a rival ("... worse than [Seedance]": favor), read from the words right before a mention."""
    for start, _end in spans:
        before = text[max(0, start - 40) : start]
        if _BETTER.search(before):
            return "against"
        if _WORSE.search(before):
            return "favor"
    return None


def pieces(doc: Doc):
    """(sentence, start character, text) of each line of each sentence: a headline, a subhead and the body
    are never one sentence, even when the sentence recogniser runs them together."""
    for sent in doc.sents:
        for line in _LINE.finditer(sent.text):
            text = line.group().strip()
            if text:
                yield sent, sent.start_char + line.start() + line.group().index(text[0]), text


def _stance(rows: list[tuple[float, float, float]]) -> dict:
    """Sentence probabilities -> a stance, as a reader weighs a text: it takes a side when that side's
    sentences outnumber the other side's by at least ``MARGIN`` of its counted sentences (and by one), so
    a mixed text stays neutral unless one side clearly dominates and one barb in a long neutral report
    moves the score without turning the label; the score is the mean P(favor) - P(against)."""
    if not rows:
        return dict(NEUTRAL)
    labels = [label_of(row) for row in rows]
    favor, against = labels.count("favor"), labels.count("against")
    score = sum(row[2] - row[0] for row in rows) / len(rows)
    lead = abs(favor - against)
    if lead and lead >= MARGIN * len(rows):
        label = "favor" if favor > against else "against"
        agreeing = [row[LABELS.index(label)] for row, l in zip(rows, labels) if l == label]
        confidence = sum(agreeing) / len(agreeing) * min(1.0, lead / len(rows) / MARGIN)
    else:
        label = "neutral"
        confidence = sum(row[1] for row in rows) / len(rows)
    return {"stance": label, "score": round(score, 4), "confidence": round(confidence, 4)}


def _document(sentences: list["Sentence"], thresholds: tuple[float, float] = PAGE_THRESHOLDS["onnx"]) -> dict:
    """The text's stance. Its score is the lean, the weighted mean P(favor) - P(against) of the counted
    sentences (``_weights``). A page (counted sentences on more than one line: a headline over a body,
    paragraphs) takes a side by its lean: favor from ``thresholds[0]``, against from ``-thresholds[1]``
    (``PAGE_THRESHOLDS``), so a report of conflict with a few sided sentences stays neutral; its
    confidence is the weighted mean probability of its label. A one-line text (a post, a sentence) is
    read by its sentences' labels (``_voices``)."""
    if not sentences:
        return dict(NEUTRAL)
    weights = _weights(sentences)
    total = sum(weights)
    lean = sum(w * (s.probs[2] - s.probs[0]) for w, s in zip(weights, sentences)) / total
    if not any(s.line for s in sentences):
        return {**_voices(sentences), "score": round(lean, 4)}
    favor, against = thresholds
    label = "favor" if lean >= favor else "against" if lean <= -against else "neutral"
    index = LABELS.index(label)
    confidence = sum(w * s.probs[index] for w, s in zip(weights, sentences)) / total
    return {"stance": label, "score": round(lean, 4), "confidence": round(confidence, 4)}


def _weights(sentences: list["Sentence"]) -> list[float]:
    """A reader's weight of each counted sentence: the headline of a text of several lines counts
    ``HEADLINE_WEIGHT`` times, an attributed opinion ``ATTRIBUTED_WEIGHT`` of the outlet's own voice."""
    page = any(s.line for s in sentences)
    return [(HEADLINE_WEIGHT if page and s.line == 0 else 1.0) * (ATTRIBUTED_WEIGHT if s.attributed else 1.0)
            for s in sentences]


def _voices(sentences: list["Sentence"]) -> dict:
    """A one-line text's stance by its sentences' labels: the outlet's own voice first; attributed opinions
    ("critics said") decide only when the own voice takes no side, and two of them in opposite directions
    make the text neutral."""
    own = [s.probs for s in sentences if not s.attributed]
    reported = [s.probs for s in sentences if s.attributed]
    result = _stance(own)
    if result["stance"] != "neutral" or not reported:
        return result if own else _reported(reported)
    mixed = _reported(reported)
    if mixed["stance"] == "neutral":
        return result
    overall = _stance(own + reported)
    return overall if overall["stance"] == mixed["stance"] else result


def _reported(rows: list[tuple[float, float, float]]) -> dict:
    labels = {label_of(row) for row in rows}
    result = _stance(rows)
    if {"favor", "against"} <= labels:  # opinions reported on both sides: the text reports a debate
        return {**result, "stance": "neutral", "confidence": round(sum(r[1] for r in rows) / len(rows), 4)}
    return result


class Reception:
    def __init__(self, finder: TargetFinder, model, language: str, frame_model: FrameModel | None = None):
        self.finder, self.model, self.language = finder, model, language
        self.frame_model = frame_model
        self.reporting = REPORTING[language]
        self.page_thresholds = PAGE_THRESHOLDS.get(getattr(model, "name", ""), PAGE_THRESHOLDS["onnx"])

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
        heading_target = False  # the last heading (a line that is not a list item) names the topic
        line_starts = [m.start() for m in _LINE.finditer(doc.text) if m.group().strip()]
        for sent, start, text in pieces(doc):
            spans = self.finder.spans(text)
            bullet = BULLET.match(text)
            if bullet:
                if not spans and not heading_target:
                    continue  # a list item under a heading not about the topic (a spec sheet) is not read
            elif SPEC_LINE.match(text) and not spans:
                continue  # "Resolution: 1080p": a spec line, not an opinion
            else:
                heading_target = bool(spans) and not SPEC_HEADING.search(text)
            kind_hint = "target" if spans or bullet else None  # an item under a heading naming the topic
            others = self.finder.rival_spans(text)
            rival = bool(others)
            names_rival |= rival
            kind = kind_hint
            if not spans and previous_target and self.language == "en" and (anaphor := self.finder.anaphora(text)):
                spans, kind = [anaphor], "target"
            end = start + len(text)
            speakers = [e for e in self.speakers(sent) if start <= e.start_char < end]
            if kind is None and speakers and not rival:
                kind = "actor"
            previous_target = kind == "target"
            names = [(e.start_char - start, e.end_char - start) for e in sent.ents if start <= e.start_char < end]
            sentence = Sentence(text, spans, kind or "fallback", self.finder.frame_hits(text, names), speakers,
                                attributed=bool(speakers or self.reporting.search(text) or ATTRIBUTION.search(text)),
                                comparison=comparison(text, spans), line=bisect.bisect_right(line_starts, start) - 1,
                                others=others)
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
        result = _document(sentences, self.page_thresholds)
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
        items = [(s.text, s.spans, s.others) for s in flat]
        vectorise = getattr(self.model, "predict_vectors", None)  # the ONNX model's sentence vectors, same pass
        probabilities, vectors = vectorise(items) if vectorise else (self.model.predict(items), None)
        if self.frame_model is not None:  # the counted sentences' frames: the classifier over their cue hits
            decided = self.frame_model.decide([(s.text, s.frames) for s in flat], vectors, [s.spans for s in flat])
            for sentence, frames in zip(flat, decided):
                sentence.frames = {name: n for name, n in frames.items() if name in self.finder.frames}
        for sentence, probs in zip(flat, probabilities):
            sentence.probs = COMPARED.get(sentence.comparison, probs)
        for doc, (sentences, totals) in zip(docs, selected):
            doc._.reception = self.summarise(sentences, totals)
        return docs


@Language.factory(
    "seedtrack_reception",
    default_config={"targets": [], "rivals": [], "frames": {}, "names": [], "model": "auto", "language": "en",
                    "frame_model": ""},
    assigns=["doc._.reception"],
    requires=["doc.sents", "doc.ents"],
)
def make_reception(nlp: Language, name: str, targets: List[str], rivals: List[str], frames: Dict[str, List[str]],
                   names: List[str], model: str, language: str, frame_model: str) -> Reception:
    """``frame_model``: the path of the topic's trained frame classifier, or "" to frame by cues alone."""
    classifier = load_stance_model(model, language)
    framer = FrameModel.load(frame_model) if frame_model else None
    return Reception(TargetFinder(targets, rivals, frames, names), classifier, language, framer)


def reception_of(doc: Doc) -> dict:
    """The component's result: stance, score, confidence, evidence, frames, frame_stances, actors."""
    return doc._.reception or {**NEUTRAL, "evidence": [], "frames": [], "frame_stances": {}, "actors": []}
