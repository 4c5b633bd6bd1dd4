"""How one analysis (``Tagger.analyse`` plus ``nlp_version``) becomes database rows: the stance columns of
``documents`` and the rows of ``frames`` and ``actors``. Used by the store stage and by ``seedtrack retag``."""

from __future__ import annotations


def reception_columns(reception: dict | None) -> dict:
    """The documents columns of an NLP result (all None for a document that was not analysed)."""
    if not reception:
        return {"stance": None, "stance_score": None, "stance_confidence": None, "stance_evidence": None,
                "nlp_version": None}
    return {"stance": reception["stance"], "stance_score": reception["score"],
            "stance_confidence": reception["confidence"], "stance_evidence": reception["evidence"],
            "nlp_version": reception.get("nlp_version")}


def derived_rows(doc_id: str, reception: dict | None) -> tuple[list[dict], list[dict]]:
    """``frames`` and ``actors`` rows of an NLP result."""
    if not reception:
        return [], []
    frames = [{"doc_id": doc_id, "frame": name, "stance": v["stance"], "score": v["score"], "confidence": v["confidence"]}
              for name, v in reception["frame_stances"].items()]
    actors = [{"doc_id": doc_id, "actor": a["actor"], "label": a["label"], "stance": a["stance"], "score": a["score"],
               "evidence": a["evidence"]} for a in reception["actors"]]
    return frames, actors

