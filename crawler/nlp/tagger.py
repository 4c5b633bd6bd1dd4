"""The batch tagger: one spaCy pipeline, loaded once, that tags many texts per ``nlp.pipe`` call.

The topic's entities are added as an entity ruler ahead of the statistical NER (so "Seedance 2.0" or
"即梦" are found with the topic's label) and a normaliser maps every entity to its canonical name.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from crawler.nlp import components  # noqa: F401  (registers the factories)
from crawler.nlp.model import load_english
from crawler.topic import alias_map

# Entities need neither the tagger nor the parser; later analyses enable what they need.
DISABLED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
MAX_CHARS = 100_000


def ruler_pattern(alias: str) -> str | list[dict[str, str]]:
    """Aliases match case-insensitively, except acronyms ("US", "MPA"), which would match words ("us")."""
    if alias.isupper() or len(alias) <= 3:
        return [{"ORTH": part} for part in alias.split()]
    return alias


class Tagger:
    def __init__(self, entities: Iterable[Any] = (), model: str | None = None, batch_size: int = 32):
        self.nlp = load_english(model, disable=DISABLED)
        self.batch_size = batch_size
        entities = list(entities)
        patterns = [
            {"label": entity.label, "pattern": ruler_pattern(alias), "id": entity.name}
            for entity in entities
            for alias in (entity.name, *entity.aliases)
        ]
        if patterns:
            ruler = self.nlp.add_pipe(
                "entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": False}
            )
            ruler.add_patterns(patterns)
        self.nlp.add_pipe("seedtrack_entity_norm", last=True, config={"aliases": alias_map(tuple(entities))})

    def tag(self, texts: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Entities of each text, in order: dicts with text, label, norm, start_char, end_char."""
        results = []
        for doc in self.nlp.pipe((text[:MAX_CHARS] for text in texts), batch_size=self.batch_size):
            results.append(
                [
                    {
                        "text": ent.text,
                        "label": ent.label_,
                        "norm": ent._.norm,
                        "start_char": ent.start_char,
                        "end_char": ent.end_char,
                    }
                    for ent in doc.ents
                ]
            )
        return results
