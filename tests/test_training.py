"""Training a stance textcat for real, on a small slice of the project's train sets: it writes a model that loads
and classifies; the held-out sets are never read by training."""

from __future__ import annotations

import pytest
import spacy

from crawler.training import datasets, train
from crawler.nlp.stance_models import mark_target


@pytest.mark.parametrize("language", ["en", "zh"])
def test_train_textcat_writes_a_loadable_model(tmp_path, monkeypatch, language):
    reads = []
    real_load = datasets.load
    monkeypatch.setattr(datasets, "load", lambda name, *a, **k: reads.append(name) or real_load(name, *a, **k))
    if language == "zh" and not (datasets.DATA_DIR / datasets.RECEPTION["reception-train-zh"]).exists():
        pytest.skip("no Chinese train set")
    try:
        examples, held = train.training_data(None, 1, language=language, newsmtsc_sample=60)
    except datasets.DatasetMissing:
        pytest.skip("NewsMTSC not available")
    assert not {"reception", "reception-zh", "newsmtsc-rw", "newsmtsc-mt"} & set(reads)  # held-out sets unread
    score = train.train_textcat(examples[:120], held[:30], 1, tmp_path / "model", language)
    assert 0 <= score <= 1
    nlp = spacy.load(tmp_path / "model")
    doc = nlp(mark_target(examples[0].text, examples[0].spans, language))
    assert set(doc.cats) == set(datasets.LABELS) and sum(doc.cats.values()) == pytest.approx(1, abs=1e-4)
