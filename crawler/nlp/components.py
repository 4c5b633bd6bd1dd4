"""The project's spaCy components, registered by factory so a pipeline can be built from config.

``seedtrack_entity_norm`` gives every entity ``ent._.norm``: the topic's canonical name when the entity
text is one of its aliases ("MPA", "the Motion Picture Association" -> "Motion Picture Association"),
otherwise the entity text with its whitespace folded.
"""

from __future__ import annotations

import re
from typing import Dict

from spacy.language import Language
from spacy.tokens import Doc, Span

if not Span.has_extension("norm"):
    Span.set_extension("norm", default=None)

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """The key aliases are looked up by: whitespace folded, case folded, a leading "the " dropped."""
    key = _SPACE.sub(" ", text).strip().casefold()
    return key[4:] if key.startswith("the ") else key


class EntityNormalizer:
    def __init__(self, aliases: Dict[str, str]):
        self.aliases = {fold(alias): name for alias, name in aliases.items()}

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            ent._.norm = self.aliases.get(fold(ent.text)) or _SPACE.sub(" ", ent.text).strip()
        return doc


@Language.factory(
    "seedtrack_entity_norm",
    default_config={"aliases": {}},
    assigns=["span._.norm"],
    requires=["doc.ents"],
)
def make_entity_normalizer(nlp: Language, name: str, aliases: Dict[str, str]) -> EntityNormalizer:
    return EntityNormalizer(aliases)
