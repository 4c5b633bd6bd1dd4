"""The target finder, the Chinese lexicon classifier, the metrics and the labelled-set readers (no model)."""

from __future__ import annotations

import json

import pytest

from crawler.training import datasets
from crawler.training.evaluation import f1_per_label, macro_f1, score
from crawler.nlp.cues import cues
from crawler.nlp.onnx_stance import bracket
from crawler.nlp.stance_models import mark_target
from crawler.nlp.targets import TargetFinder
from crawler.topic import load_topic
from realdata import REALDATA


@pytest.fixture(scope="module")
def finder():
    return TargetFinder.from_topic(load_topic())


@pytest.mark.parametrize("text, found", [
    ("Seedance 2.0 is out.", ["Seedance 2.0"]),
    ("ByteDance's Jimeng app and Dreamina", ["ByteDance", "Jimeng", "Dreamina"]),  # role = "topic" entities
    ("字节跳动发布即梦视频模型", ["字节跳动", "即梦"]),
    ("Sora and Veo 3 compete.", []),  # rivals are not targets
])
def test_targets_find_topic_names(finder, text, found):
    assert [text[s:e] for s, e in finder.spans(text)] == found


def test_targets_rivals_and_anaphora(finder):
    assert finder.rival_spans("OpenAI's Sora stumbled") == [(0, 6), (9, 13)] and not finder.rival_spans("Disney objected")
    text = "The model stunned critics."
    assert text[slice(*finder.anaphora(text))] == "The model"
    assert finder.anaphora("Critics were stunned.") is None


def test_targets_short_capitals_match_case_sensitively(finder):
    assert "geopolitics" in finder.frame_hits("The US and China race ahead.")
    assert "geopolitics" not in finder.frame_hits("It gives us great clips.")  # "us" is not the US
    assert finder.frame_hits("Disney says the clips infringe its copyright.") == {"copyright": 3}  # Disney, infringe, copyright


def test_mark_target_wraps_each_mention_and_appends_cues():
    assert mark_target("Seedance beats Sora", [(0, 8)]) == " TARGET Seedance ENDTARGET  beats Sora LEXPOS"


def test_bracket_marks_targets_and_rivals_apart():
    text = "Sora lost to Seedance 2.0 and to Seedance Pro."
    assert bracket(text, [(13, 25), (33, 45)], [(0, 4)]) == ("{Sora} lost to [Seedance 2.0] and to [Seedance Pro].", 15)
    assert bracket(text, [(13, 25)], [(13, 21), (0, 4)]) == ("{Sora} lost to [Seedance 2.0] and to Seedance Pro.", 15)
    assert bracket(text, [], [(0, 4)]) == ("{Sora} lost to Seedance 2.0 and to Seedance Pro.", -1)  # no target: no window centre



@pytest.mark.parametrize("language, text, tokens", [
    ("zh", "Seedance 2.0效果惊艳，画面非常逼真。", ["LEXPOS", "LEXPOS"]),  # 非常 is "very", not a negation
    ("zh", "美国电影协会指控Seedance 2.0侵权。", ["LEXNEG", "LEXNEG"]),
    ("zh", "即梦表示，Seedance 2.0并不侵权，效果也不太惊艳。", ["LEXPOS", "LEXNEG"]),
    ("zh", "Seedance 2.0于2月12日发布。", []),
    ("en", "Seedance is not impressive, but stunning.", ["LEXNEG", "LEXPOS"]),  # negation stops at the clause
    ("en", "It is hardly a disaster for ByteDance.", ["LEXPOS"]),
    ("en", "Disney sued over the infringement.", ["LEXNEG", "LEXNEG"]),
])
def test_cue_tokens_with_negation(language, text, tokens):
    assert cues(language).tokens(text) == tokens


def test_metrics_macro_f1_and_confusion():
    gold = ["favor", "favor", "against", "neutral"]
    predicted = ["favor", "against", "against", "neutral"]
    assert f1_per_label(gold, predicted) == {"against": pytest.approx(2 / 3), "neutral": 1.0, "favor": pytest.approx(2 / 3)}
    assert macro_f1(gold, predicted) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    report = score("x", gold, predicted, [["copyright"], [], ["copyright", "privacy"], []],
                   [["copyright"], ["copyright"], ["privacy"], []])
    assert report.confusion["favor"] == {"against": 1, "neutral": 0, "favor": 1}
    assert report.frames["copyright"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert report.accuracy == 0.75


def test_newsmtsc_reader_gives_one_example_per_target(tmp_path):
    row = {"primary_gid": "g", "sentence_normalized": "Trump praised Biden.", "targets": [
        {"Input.gid": "a", "from": 0, "to": 5, "mention": "Trump", "polarity": 6.0},
        {"Input.gid": "b", "from": 14, "to": 19, "mention": "Biden", "polarity": 4.0,
         "further_mentions": [{"from": 0, "to": 1, "mention": "T"}]}]}
    (tmp_path / "train.jsonl").write_text(json.dumps(row) + "\n{broken\n")
    examples = datasets.read_newsmtsc(tmp_path / "train.jsonl")
    assert next(examples) == datasets.Example("Trump praised Biden.", ((0, 5),), "favor", others=((0, 1), (14, 19)))
    second = next(examples)
    assert second.spans == ((0, 1), (14, 19)) and second.others == ((0, 5),)  # the other target, for the {braces}
    with pytest.raises(ValueError, match=r"train.jsonl:2: not a NewsMTSC row"):
        next(examples)


def test_newsmtsc_missing_is_explained(tmp_path):
    with pytest.raises(datasets.DatasetMissing, match="SEEDTRACK_NEWSMTSC"):
        datasets.load("newsmtsc-rw", newsmtsc=tmp_path)


@pytest.mark.skipif(not (REALDATA / "newsmtsc").exists(), reason="needs ../shared/realdata/newsmtsc")
def test_newsmtsc_real_splits_load():
    counts = {name: len(datasets.load(name)) for name in ("newsmtsc-train", "newsmtsc-rw", "newsmtsc-mt")}
    assert counts == {"newsmtsc-train": 8739, "newsmtsc-rw": 1146, "newsmtsc-mt": 1476}  # INDEX.md's counts


def test_reception_sets_are_well_formed(finder):
    sizes = {}
    for name in ("reception-train", "reception", "reception-zh"):
        examples = datasets.load(name, finder.spans)
        sizes[name] = len(examples)
        assert {e.label for e in examples} == set(datasets.LABELS)
        assert all(set(e.frames) <= {f.name for f in load_topic().frames} for e in examples)
    assert sizes == {"reception-train": 600, "reception": 300, "reception-zh": 90}
    train = {e.text for e in datasets.load("reception-train", finder.spans)}
    assert not train & {e.text for e in datasets.load("reception", finder.spans)}  # held out
