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
    return {"targets": sorted(set(targets)), "rivals": sorted(set(rivals)), "frames": frames}


class TargetFinder:
    def __init__(self, targets: Iterable[str], rivals: Iterable[str] = (), frames: dict[str, list[str]] | None = None):
        self.targets = terms_pattern(targets)
        self.rivals = terms_pattern(rivals)
        self.frames = {name: terms_pattern(cues) for name, cues in (frames or {}).items()}

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

    def names_rival(self, text: str) -> bool:
        return bool(self.rivals and self.rivals.search(text))

    def frame_hits(self, text: str) -> dict[str, int]:
        """Frame name -> number of cue matches in the text."""
        hits = {}
        for name, pattern in self.frames.items():
            if pattern and (count := sum(1 for _ in pattern.finditer(text))):
                hits[name] = count
        return hits
