"""Tagging outside a crawl: ``seedtrack tag`` (text or JSON lines in, JSON out) and ``seedtrack eval``.

``tag`` detects each text's language, analyses English and Chinese with the crawl's own tagger (one
``nlp.pipe`` call per batch and language) and marks other languages as not analysed. ``eval`` scores the
full tagger on the project's reception sets (the target found from the topic, as in a crawl, plus
per-frame precision and recall) and the stance classifier alone on NewsMTSC (whose targets are given).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from crawler.errors import UserError
from crawler.text.language import detect_language
from crawler.nlp.tagger import LANGUAGES, Tagger

BATCH = 64


class InputError(UserError, ValueError):
    pass


def read_jsonl(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Every line a JSON object with a string ``text``; InputError naming the first bad line."""
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InputError(f"line {number}: not JSON ({exc})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(f'line {number}: expected an object with a "text" string, e.g. {{"text": "..."}}')
        records.append(record)
    return records


def result_json(analysis: dict[str, Any] | None, lang: str | None) -> dict[str, Any]:
    if analysis is None:
        return {"lang": lang, "analysed": False, "stance": None, "stance_score": None, "stance_confidence": None,
                "frames": [], "frame_stances": {}, "entities": [], "actors": [], "evidence": []}
    return {
        "lang": lang, "analysed": True,
        "stance": analysis["stance"], "stance_score": analysis["score"], "stance_confidence": analysis["confidence"],
        "frames": analysis["frames"], "frame_stances": analysis["frame_stances"],
        "entities": [{"text": e["text"], "label": e["label"], "norm": e["norm"]} for e in analysis["entities"]],
        "actors": analysis["actors"], "evidence": analysis["evidence"],
    }


def tag_records(tagger: Tagger, records: list[dict[str, Any]],
                priors: tuple[str, ...] = LANGUAGES) -> Iterator[dict[str, Any]]:
    """Each record with the analysis of its ``text`` added, in order; fields other than ``text`` pass through.
    A record's own ``lang`` field is its language (as a platform's is); else it is detected, ``priors``
    (the topic's languages) deciding short and informal texts."""
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        langs = [detect_language(r["text"], hint=r.get("lang"), priors=priors) for r in batch]
        analyses = tagger.analyse([r["text"] for r in batch], [lang if lang in LANGUAGES else "-" for lang in langs])
        for record, lang, analysis in zip(batch, langs, analyses):
            yield {**{k: v for k, v in record.items() if k != "text"}, **result_json(analysis, lang)}
