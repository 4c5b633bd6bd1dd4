"""Analysts' corrections: a document's stance and frames as a person read them, winning over the model's.

``record`` stores one correction per document (a later one replaces the earlier, a stance or frames left
out keeps the earlier correction's) and ``apply`` writes the corrections into the rows every table, view
and export reads: ``documents.stance`` (score +1/0/-1, confidence 1), and the document's ``frames`` rows
(a corrected frame list replaces the model's; each frame takes the document's stance), then refreshes the
daily aggregates of the corrected documents' days (``daily.refresh``). ``apply`` runs after
every re-analysis (``batches.replace_analysis``), so a correction survives ``seedtrack retag``.
``training_rows`` gives the corrected documents' texts and labels to training (``--with-corrections``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from crawler.errors import UserError
from crawler.storage import daily

SCORES = {"against": -1.0, "neutral": 0.0, "favor": 1.0}


class CorrectionError(UserError, ValueError):
    pass


def record(con, doc_id: str, stance: str | None, frames: Sequence[str] | None, note: str | None = None) -> dict:
    """Stores the correction of ``doc_id`` and applies it; CorrectionError for an unknown document or label."""
    if stance is None and frames is None:
        raise CorrectionError("nothing to correct: give --stance and/or --frame")
    if stance is not None and stance not in SCORES:
        raise CorrectionError(f"stance {stance!r} is not one of {', '.join(SCORES)}")
    if not con.execute("SELECT 1 FROM documents WHERE id = ?", [doc_id]).fetchone():
        raise CorrectionError(f"no document {doc_id!r} in the database (see: seedtrack sql \"SELECT id, title FROM documents\")")
    old = con.execute("SELECT stance, frames, note FROM corrections WHERE doc_id = ?", [doc_id]).fetchone()
    if old:
        stance = stance if stance is not None else old[0]
        frames = frames if frames is not None else old[1]
        note = note if note is not None else old[2]
    frames = sorted(set(frames)) if frames is not None else None
    con.execute("INSERT OR REPLACE INTO corrections (doc_id, stance, frames, note, corrected_at) VALUES (?, ?, ?, ?, ?)",
                [doc_id, stance, frames, note, datetime.now(timezone.utc).replace(tzinfo=None)])
    apply(con, [doc_id])
    return {"doc_id": doc_id, "stance": stance, "frames": frames, "note": note}


def apply(con, ids: Sequence[str] | None = None) -> int:
    """Writes the corrections (of the documents ``ids``, or all) into documents and frames; returns how many."""
    where, params = ("", []) if ids is None else ("AND c.doc_id IN (SELECT unnest(?))", [list(ids)])
    corrected = con.execute(f"SELECT c.doc_id FROM corrections c WHERE true {where}", params).fetchall()
    if not corrected:
        return 0
    con.execute(f"""UPDATE documents SET stance = c.stance,
                        stance_score = CASE c.stance WHEN 'favor' THEN 1.0 WHEN 'against' THEN -1.0 ELSE 0.0 END,
                        stance_confidence = 1.0
                    FROM corrections c WHERE documents.id = c.doc_id AND c.stance IS NOT NULL {where}""", params)
    con.execute(f"""DELETE FROM frames WHERE doc_id IN
                    (SELECT c.doc_id FROM corrections c WHERE c.frames IS NOT NULL {where})""", params)
    con.execute(f"""INSERT INTO frames (doc_id, frame, stance, score, confidence)
                    SELECT c.doc_id, f.frame, coalesce(d.stance, 'neutral'), coalesce(d.stance_score, 0.0), 1.0
                    FROM corrections c JOIN documents d ON d.id = c.doc_id,
                         unnest(c.frames) AS f(frame)
                    WHERE c.frames IS NOT NULL {where}""", params)
    # A corrected stance (frames not corrected): the model's frames take the corrected stance too.
    con.execute(f"""UPDATE frames SET stance = c.stance,
                        score = CASE c.stance WHEN 'favor' THEN 1.0 WHEN 'against' THEN -1.0 ELSE 0.0 END
                    FROM corrections c WHERE frames.doc_id = c.doc_id AND c.stance IS NOT NULL {where}""", params)
    daily.refresh(con, daily.days_of(con, "id", [row[0] for row in corrected]))
    return len(corrected)


def training_rows(con) -> list[dict[str, Any]]:
    """The corrected documents as labelled rows {text, stance, frames, lang} (stance-corrected ones only)."""
    rows = con.execute("""SELECT coalesce(d.text, d.title), c.stance, c.frames, d.lang
                          FROM corrections c JOIN documents d ON d.id = c.doc_id
                          WHERE c.stance IS NOT NULL AND coalesce(d.text, d.title) IS NOT NULL
                          ORDER BY c.doc_id""").fetchall()
    return [{"text": text, "stance": stance, "frames": list(frames or ()), "lang": lang}
            for text, stance, frames, lang in rows]
