"""The project's spaCy components, registered by factory so a pipeline can be built from config.

``seedtrack_name_entities`` finds the topic's entities by name (for Chinese, which has no NER model here);
``seedtrack_entity_norm`` gives every entity ``ent._.norm``: the topic's canonical name when the entity
text is one of its aliases ("MPA", "the Motion Picture Association" -> "Motion Picture Association"),
otherwise the entity text with its whitespace folded; a sentence boundary the sentence recogniser put inside
one of the topic's names is removed. Its ``aliases`` config is ``crawler.topic.alias_map``
as a list of ``[alias, name]`` pairs, not a dict: spaCy's config reads a key beginning with "@" as a
registry reference, and an alias such as "@seedance_ai" is a social handle, not a function.
"""

from __future__ import annotations

import re
from typing import List

from spacy.language import Language
from spacy.tokens import Doc, Span

if not Span.has_extension("norm"):
    Span.set_extension("norm", default=None)

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """An entity text or alias as the normaliser compares it: whitespace folded, casefolded."""
    return _SPACE.sub(" ", text).strip().casefold()


class EntityNormalizer:
    def __init__(self, aliases: List[List[str]]):
        self.aliases: dict[str, str] = {}  # folded alias -> canonical name
        for alias, name in aliases:
            self.aliases.setdefault(fold(alias), name)

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            known = self.aliases.get(fold(ent.text))
            ent._.norm = known or _SPACE.sub(" ", ent.text).strip()
            if known:  # no sentence ends inside a topic name ("Dr. Seedance", "[x]")
                for token in ent[1:]:
                    token.is_sent_start = False
        return doc


@Language.factory(
    "seedtrack_entity_norm",
    default_config={"aliases": []},
    assigns=["span._.norm"],
    requires=["doc.ents"],
)
def make_entity_normalizer(nlp: Language, name: str, aliases: List[List[str]]) -> EntityNormalizer:
    return EntityNormalizer(aliases)


class NameEntities:
    """Entities found by the topic's names and aliases alone: for languages without an NER model (Chinese)."""

    def __init__(self, entities: List[list]):
        from crawler.text.terms import terms_pattern

        self.labels: dict[str, str] = {}
        names = []
        for name, label, aliases in entities:
            for alias in (name, *aliases):
                self.labels.setdefault(alias.casefold(), label)
                names.append(alias)
        self.pattern = terms_pattern(names)

    def __call__(self, doc: Doc) -> Doc:
        if self.pattern is None:
            return doc
        spans, taken = [], set()
        for match in self.pattern.finditer(doc.text):
            span = doc.char_span(*match.span(), label=self.labels.get(match.group().casefold(), "ORG"),
                                 alignment_mode="expand")
            if span is not None and not taken.intersection(range(span.start, span.end)):
                spans.append(span)
                taken.update(range(span.start, span.end))
        doc.ents = spans
        return doc


@Language.factory("seedtrack_name_entities", default_config={"entities": []}, assigns=["doc.ents"])
def make_name_entities(nlp: Language, name: str, entities: List[list]) -> NameEntities:
    return NameEntities(entities)
