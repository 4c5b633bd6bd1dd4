"""The batch tagger: per language one spaCy pipeline, loaded once, that analyses many texts per ``nlp.pipe``.

English: ``en_core_web_sm`` with its sentence recogniser and NER, the topic's entities added as an entity
ruler ahead of the statistical NER (so "Seedance 2.0" is found with the topic's label), a normaliser that
maps every entity to its canonical name, and ``seedtrack_reception`` (stance, frames, actors).
Chinese: a blank ``zh`` pipeline segmented by jieba (the topic's Chinese names added to its dictionary),
a sentencizer, the topic's entities found by name (there is no Chinese NER model in the project), the
normaliser, and ``seedtrack_reception`` with the Chinese lexicon. Other languages are not analysed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from spacy.language import Language

from crawler.nlp import components  # noqa: F401  (registers the factories)
from crawler.nlp import reception as _reception  # noqa: F401  (registers seedtrack_reception)
from crawler.text.terms import case_sensitive
from crawler.nlp.frame_model import frame_model_for
from crawler.nlp.model import installed_model, load_english
from crawler.nlp.reception import reception_of
from crawler.nlp.stance_models import model_files, resolved_name
from crawler.nlp.targets import finder_config
from crawler.topic import Entity, Topic, alias_map

# Entities and sentences need neither the tagger nor the parser.
DISABLED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
MAX_CHARS = 100_000
LANGUAGES = ("en", "zh")


def ruler_pattern(nlp: Language, alias: str) -> str | list[dict[str, str]]:
    """Aliases match as ``crawler.text.terms`` matches terms: case-insensitively, except acronyms ("US", "MPA").

    An acronym's token pattern is split by the pipeline's own tokenizer, as the text will be: "C++" and
    "[x]" are several tokens, which a pattern split on spaces would never match."""
    if case_sensitive(alias):
        return [{"ORTH": token.text} for token in nlp.make_doc(alias)]
    return alias


def alias_pairs(entities: Sequence[Entity]) -> list[list[str]]:
    """``alias_map`` as the normaliser's config: ``[alias, name]`` pairs (see ``crawler.nlp.components``)."""
    return [[alias, name] for alias, name in alias_map(tuple(entities)).items()]


@dataclass(frozen=True)
class TaggerSpec:
    """Everything a tagger is built from; hashable, so one tagger serves each spec per process."""

    entities: tuple[Entity, ...] = ()
    targets: tuple[str, ...] = ()
    rivals: tuple[str, ...] = ()
    frames: tuple[tuple[str, tuple[str, ...]], ...] = ()
    model: str | None = None  # spaCy package name (None: the first of MODEL_NAMES installed)
    stance_model: str = "auto"
    batch_size: int = 32
    frame_model: str = ""  # the topic's trained frame classifier (crawler.nlp.frame_model), "" for cues alone

    @classmethod
    def from_topic(cls, topic: Topic, model: str | None = None, stance_model: str = "auto",
                   batch_size: int = 32) -> TaggerSpec:
        config = finder_config(topic)
        return cls(topic.entities, tuple(config["targets"]), tuple(config["rivals"]),
                   tuple((name, tuple(cues)) for name, cues in config["frames"].items()),
                   model, stance_model, batch_size, frame_model_for(topic.slug, config["frames"]))

    def version(self) -> str:
        """A fingerprint of what the analysis depends on: the topic's entities, targets and frames, the spaCy
        model, the stance model's files and the frame model's. Stored per document, so `seedtrack retag` finds
        stale ones."""
        return nlp_version(self)

    def reception_config(self, language: str) -> dict[str, Any]:
        return {"targets": list(self.targets), "rivals": list(self.rivals),
                "frames": {name: list(cues) for name, cues in self.frames},
                "names": sorted({n for e in self.entities for n in (e.name, *e.aliases)}),
                "model": self.stance_model, "language": language, "frame_model": self.frame_model}


@functools.lru_cache(maxsize=None)
def nlp_version(spec: TaggerSpec) -> str:
    digest = hashlib.sha256()
    stance = resolved_name(spec.stance_model)
    package = installed_model(spec.model)
    digest.update(repr((spec.entities, spec.targets, spec.rivals, spec.frames, stance, package,
                        importlib.metadata.version(package.replace("_", "-")))).encode())
    for path in sorted(model_files(stance)):
        digest.update(path.read_bytes())
    if spec.frame_model:
        digest.update(Path(spec.frame_model).read_bytes())
    return digest.hexdigest()[:12]


def _english(spec: TaggerSpec) -> Language:
    nlp = load_english(spec.model, disable=DISABLED)
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    patterns = [
        {"label": entity.label, "pattern": ruler_pattern(nlp, alias), "id": entity.name}
        for entity in spec.entities
        for alias in (entity.name, *entity.aliases)
    ]
    if patterns:
        ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": False})
        ruler.add_patterns(patterns)
    nlp.add_pipe("seedtrack_entity_norm", last=True, config={"aliases": alias_pairs(spec.entities)})
    nlp.add_pipe("seedtrack_reception", last=True, config=spec.reception_config("en"))
    return nlp


def _chinese(spec: TaggerSpec) -> Language:
    import jieba
    import spacy

    jieba.setLogLevel(logging.WARNING)
    for entity in spec.entities:
        for alias in (entity.name, *entity.aliases):
            jieba.add_word(alias)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("seedtrack_name_entities", config={"entities": [[e.name, e.label, list(e.aliases)] for e in spec.entities]})
    nlp.add_pipe("seedtrack_entity_norm", config={"aliases": alias_pairs(spec.entities)})
    nlp.add_pipe("seedtrack_reception", config=spec.reception_config("zh"))
    return nlp


class Tagger:
    def __init__(self, spec: TaggerSpec):
        self.spec = spec
        self.pipelines: dict[str, Language] = {"en": _english(spec)}

    def pipeline(self, lang: str) -> Language:
        if lang not in self.pipelines:
            self.pipelines[lang] = _chinese(self.spec)
        return self.pipelines[lang]

    def analyse(self, texts: Sequence[str], langs: Sequence[str] | None = None) -> list[dict[str, Any] | None]:
        """Per text: entities, stance, score, confidence, evidence, frames, frame_stances and actors;
        None for a text whose language is not analysed. One ``nlp.pipe`` call per language present."""
        langs = list(langs) if langs is not None else ["en"] * len(texts)
        results: list[dict[str, Any] | None] = [None] * len(texts)
        for lang in LANGUAGES:
            indexes = [i for i, l in enumerate(langs) if l == lang]
            if not indexes:
                continue
            docs = self.pipeline(lang).pipe((texts[i][:MAX_CHARS] for i in indexes), batch_size=self.spec.batch_size)
            for index, doc in zip(indexes, docs):
                results[index] = {"entities": entities_of(doc), **reception_of(doc)}
        return results


def entities_of(doc) -> list[dict[str, Any]]:
    return [
        {"text": ent.text, "label": ent.label_, "norm": ent._.norm, "start_char": ent.start_char, "end_char": ent.end_char}
        for ent in doc.ents
    ]
