"""Corrections: `seedtrack correct` records an analyst's stance and frames, which win over the model's in the
documents and frames tables and survive `seedtrack retag` (a real DuckDB file)."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.app.retag import retag
from crawler.storage import Database
from crawler.storage.corrections import CorrectionError, record, training_rows
from crawler.nlp.tagger import TaggerSpec
from crawler.topic import load_topic
from helpers import rows, run_cli

TEXT = "Seedance 2.0 is a stunning leap for AI video, and creators love its cinematic shots."


def stored_db(tmp_path):
    db = tmp_path / "c.duckdb"
    Database(db).store(documents=[{
        "id": "doc1", "url": "https://example.com/a", "source": "test", "source_kind": "feed", "kind": "article",
        "fetched_at": datetime(2026, 2, 14), "title": "Seedance 2.0", "text": TEXT, "lang": "en", "analysed": False,
    }])
    return db


def test_corrections_survive_retag(tmp_path, tagger):
    db = stored_db(tmp_path)
    spec = TaggerSpec.from_topic(load_topic(), stance_model="textcat")
    retag(Database(db), spec, everything=True, tagger=tagger)
    assert rows(db, "SELECT stance FROM documents")[0]["stance"] == "favor"
    with Database(db).writing() as con:
        record(con, "doc1", "against", ["copyright"], "sarcasm")
    doc = rows(db, "SELECT stance, stance_score, stance_confidence FROM documents")[0]
    assert doc == {"stance": "against", "stance_score": -1.0, "stance_confidence": 1.0}
    assert rows(db, "SELECT frame, stance FROM frames") == [{"frame": "copyright", "stance": "against"}]
    retag(Database(db), spec, everything=True, tagger=tagger)  # the model says favor again; the correction wins
    assert rows(db, "SELECT stance FROM documents")[0]["stance"] == "against"
    assert rows(db, "SELECT frame, stance FROM frames") == [{"frame": "copyright", "stance": "against"}]
    with Database(db).reading() as con:
        assert training_rows(con) == [{"text": TEXT, "stance": "against", "frames": ["copyright"], "lang": "en"}]


def test_corrections_reject_unknown_document_and_label(tmp_path):
    db = stored_db(tmp_path)
    with Database(db).writing() as con:
        with pytest.raises(CorrectionError, match="no document 'nope'"):
            record(con, "nope", "against", None)
        with pytest.raises(CorrectionError, match="not one of"):
            record(con, "doc1", "angry", None)


def test_corrections_cli_errors_are_one_line(tmp_path):
    db = stored_db(tmp_path)
    result = run_cli("correct", "nope", "--stance", "against", "--db", db)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0
    assert "seedtrack: error: no document 'nope'" in result.stderr
    bad = run_cli("correct", "doc1", "--stance", "angry", "--db", db)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    ok = run_cli("correct", "doc1", "--stance", "neutral", "--frame", "quality", "--note", "ad copy", "--db", db)
    assert ok.returncode == 0, ok.stderr
    assert rows(db, "SELECT stance FROM documents")[0]["stance"] == "neutral"
    assert rows(db, "SELECT doc_id, stance, frames, note FROM corrections") == [
        {"doc_id": "doc1", "stance": "neutral", "frames": ["quality"], "note": "ad copy"}]
