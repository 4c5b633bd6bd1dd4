"""Frames that mean what they say: cues never inside names or addresses, inflected cues match, a frame needs
a counted sentence; the shipped topic's trained frame model overrules a cue in passing and finds a frame its
cues miss; a topic without a frame model is framed by its cues; the lexicon's ordinary words."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from crawler.nlp.cues import cues
from crawler.nlp.frame_model import FrameModel, features, frame_model_for, model_path
from crawler.nlp.tagger import Tagger, TaggerSpec, nlp_version
from crawler.nlp.targets import TargetFinder, inflections
from crawler.topic import load_topic, parse_topic
from crawler.training import datasets
from crawler.training.evaluation import evaluate
from crawler.training.frames import fit


@pytest.fixture(scope="module")
def finder():
    return TargetFinder.from_topic(load_topic())


@pytest.mark.parametrize("text, frame", [
    ("The Motion Picture Association released a statement.", "quality"),  # "Motion" inside the MPA's name
    ("The Human Artistry Campaign wrote to Congress.", "business"),      # "Campaign" inside a name
    ("Calls go to ark.cn-beijing.volces.com/api/v3 for every clip.", "geopolitics"),  # a host name
    ("See https://example.com/china-pricing for details.", "business"),  # a URL
])
def test_frames_cues_never_match_inside_names_or_urls(finder, text, frame):
    assert frame not in finder.frame_hits(text)


def test_frames_cues_inside_spacy_entities_are_ignored(finder):
    text = "Artists at Quality Street Studios met on Monday."
    assert "quality" not in finder.frame_hits(text, [(11, 33)])  # "Quality Street Studios" is one entity


def test_frames_whole_names_still_count(finder):
    assert finder.frame_hits("The MPA condemned the clips.") == {"copyright": 1}


@pytest.mark.parametrize("cue, form", [("outperform", "outperformed"), ("ban", "banned"), ("license", "licensed"),
                                       ("infringe", "infringing"), ("copyright", "copyrighted")])
def test_frames_cues_match_inflections(cue, form):
    assert form in inflections(cue)


def test_frames_inflected_cue_found_in_text(finder):
    assert "quality" in finder.frame_hits("In blind tests it outperformed every rival on realism.")


def test_frames_need_a_counted_sentence(tagger):
    text = ("Seedance 2.0 is out. " + "Weather was mild in the city. " * 3 +
            "The lighting crew packed up. The lighting crew went home.")
    result = tagger.analyse([text])[0]
    assert "quality" not in result["frames"] and "labor" not in result["frames"]


def test_frames_strong_reaction_is_not_praise():
    assert cues("en").tokens("The clips drew a strong reaction.") == []


@pytest.mark.parametrize("text, kind", [("Seedance 2.0 sucks.", "LEXNEG"), ("I hate it, total garbage", "LEXNEG"),
                                        ("terrible and bad", "LEXNEG"), ("我支持即梦", "LEXPOS"),
                                        ("真喜欢", "LEXPOS"), ("垃圾", "LEXNEG"), ("太悲哀了", "LEXNEG")])
def test_frames_lexicon_ordinary_words(text, kind):
    assert kind in cues("zh" if not text.isascii() else "en").tokens(text)


RAINFALL = """[topic]
name = "Rainfall"
[terms]
include = ["Rainfall"]
[[frame]]
name = "weather"
cues = ["rain", "storm"]
[[source]]
name = "feed"
kind = "feed"
url = "http://127.0.0.1:1/feed.xml"
"""


@pytest.fixture(scope="module")
def cue_tagger(tagger):
    """The session tagger's spec without its frame model: frames by the cue rule alone."""
    assert tagger.spec.frame_model
    return Tagger(dataclasses.replace(tagger.spec, frame_model=""))


def test_frames_shipped_topic_has_a_frame_model(tagger):
    assert tagger.spec.frame_model == str(model_path("seedance"))
    model = FrameModel.load(tagger.spec.frame_model)
    assert set(model.frames) == {frame.name for frame in load_topic().frames}


@pytest.mark.parametrize("text, frame", [
    ("The Motion Picture Association released a statement about Seedance 2.0.", "quality"),
    ("The Human Artistry Campaign wrote to Congress about Seedance 2.0.", "business"),
    ("Seedance 2.0 sends its requests to ark.cn-beijing.volces.com/api/v3 for every clip.", "geopolitics"),
])
def test_frames_model_cue_inside_a_name_or_url_does_not_fire(tagger, text, frame):
    assert frame not in tagger.analyse([text])[0]["frames"]


@pytest.mark.parametrize("text, cue_frames, model_frames", [
    # "China" and "US" in passing: the cue rule says geopolitics, the model does not
    ("Users in China and the US shared Seedance 2.0 clips all weekend.", ["geopolitics"], []),
    # no privacy cue in the sentence; the model reads deepfakes of people as privacy
    ("Seedance 2.0 deepfakes of politicians spread on X.", [], ["privacy"]),
])
def test_frames_model_decides_where_a_cue_alone_is_wrong(tagger, cue_tagger, text, cue_frames, model_frames):
    assert cue_tagger.analyse([text])[0]["frames"] == cue_frames
    assert tagger.analyse([text])[0]["frames"] == model_frames


def test_frames_topic_without_a_frame_model_uses_its_cues():
    topic = parse_topic(RAINFALL)
    spec = TaggerSpec.from_topic(topic, stance_model="textcat")
    assert spec.frame_model == ""
    result = Tagger(spec).analyse(["Rainfall fans hate the storm season."])[0]
    assert result["frames"] == ["weather"]


def test_frames_model_for_other_frame_names_is_not_used():
    assert frame_model_for("seedance", ["weather"]) == ""
    assert frame_model_for("no-such-topic", ["copyright"]) == ""
    assert frame_model_for("seedance", ["copyright"]) == str(model_path("seedance"))


def test_frames_model_file_is_in_nlp_version(tagger):
    assert nlp_version(tagger.spec) != nlp_version(dataclasses.replace(tagger.spec, frame_model=""))


@pytest.mark.parametrize("a, b", [("They infringed it.", "infringing it"), ("The regulators", "new regulatory")])
def test_frames_model_features_share_stems(a, b):
    shared = set(features(a, ())) & set(features(b, ()))
    assert {f for f in shared if f.startswith(("w:", "p:"))}


def test_frames_model_features_reduce_addresses_and_carry_cue_hits():
    found = features("Calls go to ark.cn-beijing.volces.com/api/v3", {"geopolitics": 1})
    assert "w:url" in found and "cue:geopolitics" in found and not any("beijing" in f for f in found)


def test_frames_model_fit_learns_a_frame_from_words():
    x = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]] * 5, dtype=np.float32)  # word 0 means the frame
    y = np.array([[1.0], [1.0], [0.0], [0.0]] * 5, dtype=np.float32)
    w, b = fit(x, y, penalty=1e-3, steps=300)
    p = 1.0 / (1.0 + np.exp(-(x[:4] @ w + b)))
    assert p[0, 0] > 0.8 and p[1, 0] > 0.8 and p[2, 0] < 0.2 and p[3, 0] < 0.2


@pytest.fixture(scope="module")
def onnx_tagger(tagger):
    """The session tagger's spec with the shipped ONNX stance model, which hands the frame model its vectors."""
    return Tagger(dataclasses.replace(tagger.spec, stance_model="onnx"))


def test_frames_model_weighs_the_stance_encoders_vectors(tagger, onnx_tagger):
    """The vectors come from the stance model's own pass (onnx) or from the frame model's encoder (another
    stance model): the same vectors, so the same frames, either way."""
    model = FrameModel.load(tagger.spec.frame_model)
    assert model.vectors and len(model.vectors["weights"]) == 384
    texts = [e.text for e in datasets.load(str(datasets.DATA_DIR / "frames_dev.jsonl"))[:80]]
    by_onnx, by_textcat = onnx_tagger.analyse(texts), tagger.analyse(texts)
    assert [r["frames"] for r in by_onnx] == [r["frames"] for r in by_textcat]
    assert sum(bool(r["frames"]) for r in by_onnx) > 40


@pytest.mark.parametrize("name", ["frames_dev.jsonl", "documents_dev.jsonl"])
def test_frames_model_meets_the_issue_target_on_the_independent_sets(onnx_tagger, finder, name):
    """Issue 10's target, micro precision >= 0.85 and recall >= 0.70, on the sets written by someone who never
    saw the cue lists (frames_dev chose the thresholds; documents_dev, whole articles, did not)."""
    report = evaluate(onnx_tagger, finder, str(datasets.DATA_DIR / name))
    micro = report.frames["(all, micro)"]
    assert micro["precision"] >= 0.85 and micro["recall"] >= 0.70, micro
