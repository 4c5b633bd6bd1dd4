"""Document stance as a reader weighs it: headlines apart, attributed opinions, mixed texts, lists and spec
sheets, rival comparisons, short posts analysed; and `seedtrack eval` on a user's own file."""

from __future__ import annotations

import json

import pytest

from crawler.nlp.reception import _document, _stance, comparison, Sentence
from helpers import run_cli

FAVOR, AGAINST, NEUTRAL = (0.05, 0.1, 0.85), (0.85, 0.1, 0.05), (0.05, 0.9, 0.05)


def sentence(probs, attributed=False):
    return Sentence("x", [], "target", {}, [], probs, attributed)


def test_document_stance_margin_rule_keeps_mixed_texts_neutral():
    assert _stance([FAVOR, FAVOR, AGAINST, AGAINST, NEUTRAL])["stance"] == "neutral"
    assert _stance([FAVOR] + [NEUTRAL] * 8)["stance"] == "neutral"  # one barb in a long explainer
    assert _stance([FAVOR, FAVOR, FAVOR, AGAINST, NEUTRAL])["stance"] == "favor"  # one side clearly dominates


def test_document_stance_opposite_attributed_opinions_are_neutral():
    rows = [sentence(AGAINST, True), sentence(FAVOR, True), sentence(FAVOR, True), sentence(NEUTRAL)]
    assert _document(rows)["stance"] == "neutral"


def test_document_stance_own_voice_decides_over_attributed():
    assert _document([sentence(AGAINST), sentence(FAVOR, True)])["stance"] == "against"


@pytest.mark.parametrize("text, start, expected", [
    ("Kling is much better than Seedance 2.0.", 26, "against"),
    ("Honestly Veo 3 beats Seedance 2.0 on physics.", 21, "against"),
    ("Sora looks worse than Seedance 2.0.", 22, "favor"),
    ("Seedance 2.0 is better than Kling.", 0, None),
])
def test_document_stance_rival_comparison(text, start, expected):
    assert comparison(text, [(start, start + 12)]) == expected


def test_document_stance_comparisons_and_rivals_in_the_tagger(tagger):
    loses, wins, rival = tagger.analyse(["Kling 2.1 is much better than Seedance 2.0.",
                                         "Sora 2 looks far worse than Seedance 2.0.", "Kling 2.1 is amazing."])
    assert loses["stance"] == "against" and wins["stance"] == "favor" and rival["stance"] == "neutral"


def test_document_stance_attributed_opinions_in_the_tagger(tagger):
    text = ("Critics said Seedance 2.0 is a disaster for artists. "
            "Supporters said Seedance 2.0 is a breakthrough for small studios.")
    assert tagger.analyse([text])[0]["stance"] == "neutral"


def test_document_stance_headline_is_its_own_sentence(tagger):
    text = "Seedance 2.0 wows Hollywood\nThe model is stunning\nByteDance released Seedance 2.0 on Thursday."
    result = tagger.analyse([text])[0]
    assert "Seedance 2.0 wows Hollywood" in result["evidence"] or result["stance"] == "neutral"
    assert all("\n" not in e for e in result["evidence"])


def test_document_stance_spec_sheet_is_not_praise(tagger):
    text = "Seedance 2.0 specifications\n- Resolution: 1080p\n- strong prompt adherence\n- Clips of up to 15 seconds"
    assert tagger.analyse([text])[0]["stance"] == "neutral"


def test_document_stance_praise_in_bullets_under_a_topic_heading_counts(tagger):
    text = "What Seedance 2.0 gets right\n- The camera work is stunning\n- Lip sync is flawless\n- Motion looks natural"
    assert tagger.analyse([text])[0]["stance"] == "favor"


def test_document_stance_short_posts_analysed():
    result = run_cli("tag", "--jsonl", stdin="\n".join(json.dumps({"text": t}) for t in
                                                        ["Seedance 2.0 sucks.", "I love Seedance 2.0.", "即梦真垃圾"]))
    assert result.returncode == 0, result.stderr
    tagged = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["lang"] for t in tagged] == ["en", "en", "zh"] and all(t["analysed"] for t in tagged)
    assert tagged[0]["stance"] == "against" and tagged[1]["stance"] == "favor"


def test_document_stance_eval_on_a_user_file(tmp_path):
    data = tmp_path / "mine.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in [
        {"text": "Disney sued ByteDance over Seedance 2.0 clips of its characters.", "stance": "against",
         "frames": ["copyright"]},
        {"text": "Seedance 2.0 is stunning.", "stance": "favor", "frames": ["quality"]},
        {"headline": "Seedance 2.0 launches", "subhead": "ByteDance's model is out", "body": "It is available now.",
         "stance": "neutral", "frames": []},
    ]) + "\n", encoding="utf-8")
    result = run_cli("eval", "--dataset", data)
    assert result.returncode == 0, result.stderr
    assert f"{data}: 3 examples" in result.stdout and "(all, micro)" in result.stdout and "copyright" in result.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "stance": "angry"}\n', encoding="utf-8")
    failed = run_cli("eval", "--dataset", bad)
    assert failed.returncode == 2 and f"{bad}:1: stance 'angry'" in failed.stderr
