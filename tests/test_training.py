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


def test_onnx_training_sets_take_a_cap_per_dataset():
    import argparse

    from crawler.training import onnx_train, stance_sets

    if not (stance_sets.REAL / "newsmtsc").exists():
        pytest.skip("the shared real data is not here")
    assert onnx_train.dataset_cap("newsmtsc=9000") == ("newsmtsc", 9000)
    for bad in ("newsmtsc", "nosuchset=5", "mams=many"):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=N"):
            onnx_train.dataset_cap(bad)
    train, dev = onnx_train.build_sets([], [], 300, 1, 0, {"newsmtsc": 500}, project_extra=True)
    sources = [e.source for e in train]
    assert sources.count("newsmtsc") == 500 and sources.count("mams") == 300
    assert {"frames_train", "posts_train"} <= set(sources) and {"frames_train-10%", "posts_train-10%"} <= set(dev)
    assert not {"reception_dev", "reception_zh", "frames_dev", "posts_dev"} & set(sources)  # held-out sets never train
    # leaving the reception sets out keeps the other writer's frame and post sets (leave one writer out)
    train, dev = onnx_train.build_sets(["reception"], [], 300, 1, 0, project_extra=True)
    sources = {e.source for e in train}
    assert {"frames_train", "posts_train"} <= sources and not {"reception_train", "reception_train_zh"} & sources
    assert "reception-train-10%" not in dev and "frames_train-10%" in dev


def test_leave_one_dataset_out_scores_only_the_left_out_sets_test_splits():
    from crawler.training import onnx_train, stance_sets

    if not (stance_sets.REAL / "mams").exists():
        pytest.skip("the shared real data is not here")
    train, dev = onnx_train.build_sets(["mams"], [], 200, 1, 0)
    assert "mams" not in {e.source for e in train} and "mams-val" not in dev
    tests = onnx_train.left_out_tests(["mams", "reception"])
    assert set(tests) == {"mams-test", "reception_dev"}
    rows = tests["reception_dev"]  # about a fifth name the topic only as "the model" or "it": no span
    assert len(rows) == 300 and 0.7 < sum(bool(e.spans) for e in rows) / len(rows) < 0.95
