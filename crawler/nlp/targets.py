"""Finds where a text names the topic (its stance target), a rival, or a frame's cue words.

Target names are the topic's terms plus the names and aliases of its ``role = "topic"`` entities (the
product, its maker, its apps); rivals are the ``role = "rival"`` entities. All match like topic terms
(``crawler.text.terms.terms_pattern``: short all-capital names such as "IP", "US", "MPA" case-sensitively,
so the pronoun "us" is not the United States). An English sentence that opens with "It",
"The model" or similar right after a sentence naming the topic is taken to be about the topic too.
"""

from __future__ import annotations

import re
from typing import Iterable

from crawler.text.terms import terms_pattern
from crawler.topic import Topic

# URLs, bare host names ("ark.cn-beijing.volces.com") and handles: no cue matches inside them.
ADDRESS = re.compile(
    r"(?:https?://|www\.)\S+|@[\w.]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|cn|io|ai|co|dev|app|tv|me|info|uk|jp|hk|tw)"
    r"\b(?:/\S*)?",
    re.IGNORECASE,
)
_VOWEL = "aeiou"


def inflections(cue: str) -> set[str]:
    """A cue and its English inflections (the last word's plural, past and -ing forms: "outperforms" gives
    "outperformed", "top" gives "topped"), so cues match as lemmas would. Acronyms, CJK and words of
    fewer than three letters are taken as written."""
    head, _, word = cue.rpartition(" ")
    if not word.isascii() or not word.isalpha() or not word.islower() or len(word) < 3:
        return {cue}
    stem = word[:-1] if word.endswith("s") and not word.endswith(("ss", "us", "is")) else word
    forms = {word, stem, stem + "s"}
    if stem.endswith("e"):
        forms |= {stem + "d", stem[:-1] + "ing"}
    else:
        forms |= {stem + "ed", stem + "ing"}
    if stem.endswith("y") and stem[-2] not in _VOWEL:
        forms |= {stem[:-1] + "ies", stem[:-1] + "ied"}
    elif stem.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(stem + "es")
    if 3 <= len(stem) <= 4 and stem[-1] not in _VOWEL + "wxy" and stem[-2] in _VOWEL and stem[-3] not in _VOWEL:
        forms |= {stem + stem[-1] + "ed", stem + stem[-1] + "ing"}  # top -> topped, ban -> banned
    return {f"{head} {form}" if head else form for form in forms}


def expand(cues: Iterable[str]) -> list[str]:
    return sorted({form for cue in cues for form in inflections(cue)})


def blocked(match: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    """A cue match inside a name or address and not the whole of it ("Motion" in "Motion Picture
    Association"), or crossing one's edge."""
    start, end = match
    for s, e in spans:
        if start < e and s < end and (start, end) != (s, e) and not (start <= s and e <= end):
            return True
    return False


ANAPHORA = re.compile(
    r"^\W*(it|its|the (?:new |latest |video |ai |ai video )?(?:model|tool|app|system|generator|version|release))\b",
    re.IGNORECASE,
)


def finder_config(topic: Topic) -> dict:
    """The topic's target names, rival names and frame cues, as plain lists (a spaCy component's config)."""
    targets, rivals = [topic.name, *topic.terms], []
    for entity in topic.entities:
        if entity.role == "topic":
            targets += [entity.name, *entity.aliases]
        elif entity.role == "rival":
            rivals += [entity.name, *entity.aliases]
    frames = {frame.name: list(frame.cues) for frame in topic.frames}
    names = sorted({n for entity in topic.entities for n in (entity.name, *entity.aliases)})
    return {"targets": sorted(set(targets)), "rivals": sorted(set(rivals)), "frames": frames, "names": names}


class TargetFinder:
    def __init__(self, targets: Iterable[str], rivals: Iterable[str] = (), frames: dict[str, list[str]] | None = None,
                 names: Iterable[str] = ()):
        targets, names = list(targets), list(names)
        self.targets = terms_pattern(targets)
        self.rivals = terms_pattern(rivals)
        self.names = terms_pattern(names)
        self.name_set = {n.strip().lower() for n in targets}  # a cue that is itself the topic's name counts
        self.frames = {name: terms_pattern(expand(cues)) for name, cues in (frames or {}).items()}

    @classmethod
    def from_topic(cls, topic: Topic) -> TargetFinder:
        return cls(**finder_config(topic))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans naming the topic."""
        return [m.span() for m in self.targets.finditer(text)] if self.targets else []

    def anaphora(self, text: str) -> tuple[int, int] | None:
        """The span of an opening "It"/"The model" that may refer back to the topic."""
        match = ANAPHORA.match(text)
        return match.span(1) if match else None

    def rival_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans naming one of the topic's rivals."""
        return [m.span() for m in self.rivals.finditer(text)] if self.rivals else []

    def protected(self, text: str, entities: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
        """Spans no cue may match inside: the given entity spans, the topic's entity names, URLs and hosts."""
        spans = list(entities) + [m.span() for m in ADDRESS.finditer(text)]
        if self.names:
            spans += [m.span() for m in self.names.finditer(text)]
        return spans

    def frame_hits(self, text: str, entities: Iterable[tuple[int, int]] = ()) -> dict[str, int]:
        """Frame name -> number of cue matches in the text, none inside a name or address (``protected``)
        unless the cue is itself one of the topic's target names ("Seedance" in "Seedance 2.0")."""
        hits, protected = {}, self.protected(text, entities)
        for name, pattern in self.frames.items():
            if pattern and (count := sum(1 for m in pattern.finditer(text)
                                         if m.group().lower() in self.name_set or not blocked(m.span(), protected))):
                hits[name] = count
        return hits
