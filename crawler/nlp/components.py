"""The project's spaCy components, registered by factory so a pipeline can be built from config.

``seedtrack_entity_norm`` gives every entity ``ent._.norm``: the topic's canonical name when the entity
text is one of its aliases ("MPA", "the Motion Picture Association" -> "Motion Picture Association"),
otherwise the entity text with its whitespace folded. Its ``aliases`` config is ``crawler.topic.alias_map``.
"""

from __future__ import annotations

import re
from typing import Dict

from spacy.language import Language
from spacy.tokens import Doc, Span

if not Span.has_extension("norm"):
    Span.set_extension("norm", default=None)

_SPACE = re.compile(r"\s+")


class EntityNormalizer:
    def __init__(self, aliases: Dict[str, str]):
        self.aliases = aliases  # casefolded alias -> canonical name

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            text = _SPACE.sub(" ", ent.text).strip()
            ent._.norm = self.aliases.get(text.casefold()) or text
        return doc


@Language.factory(
    "seedtrack_entity_norm",
    default_config={"aliases": {}},
    assigns=["span._.norm"],
    requires=["doc.ents"],
)
def make_entity_normalizer(nlp: Language, name: str, aliases: Dict[str, str]) -> EntityNormalizer:
    return EntityNormalizer(aliases)
