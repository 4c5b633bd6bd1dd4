"""``seedtrack retag``: analyse stored documents again after a model or topic change, without crawling.

The documents to do are those whose ``nlp_version`` differs from the current tagger's (all of them with
``everything``), in English or Chinese, with text. They are read, analysed and written back in batches;
each batch is one write transaction (stance columns updated, entities, frames and actors replaced), so an
interrupted retag leaves every document either fully old or fully new, and the next retag picks up the
documents still carrying an old version. An analyst's correction (``seedtrack correct``) is applied again
in the same transaction as the new analysis (``storage.batches.replace_analysis``), so it survives a retag.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from crawler.storage import Database, queries
from crawler.nlp.results import derived_rows, reception_columns
from crawler.nlp.tagger import LANGUAGES, Tagger, TaggerSpec

@dataclass
class RetagResult:
    todo: int
    done: int
    seconds: float


def retag(database: Database, spec: TaggerSpec, batch_size: int = 64, everything: bool = False,
          progress: Callable[[int, int, float], None] | None = None, tagger: Tagger | None = None) -> RetagResult:
    version = spec.version()
    ids = queries.stale_ids(database, version, LANGUAGES, everything)
    started = time.perf_counter()
    if not ids:
        return RetagResult(0, 0, 0.0)
    tagger = tagger or Tagger(spec)
    done = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        rows = queries.texts(database, batch)
        analyses = tagger.analyse([text for _, text, _ in rows], [lang for _, _, lang in rows])
        documents, entities, frames, actors = [], [], [], []
        for (doc_id, _text, _lang), analysis in zip(rows, analyses):
            reception = {**analysis, "nlp_version": version}
            documents.append({"id": doc_id, "analysed": True, **reception_columns(reception)})
            entities += [{"doc_id": doc_id, **entity} for entity in analysis["entities"]]
            doc_frames, doc_actors = derived_rows(doc_id, reception)
            frames += doc_frames
            actors += doc_actors
        done += database.replace_analysis(documents, entities, frames, actors)
        if progress:
            progress(done, len(ids), time.perf_counter() - started)
    return RetagResult(len(ids), done, time.perf_counter() - started)
