"""Document stance as a reader weighs it: headlines apart, attributed opinions, mixed texts, lists and spec
sheets, rival comparisons, short posts analysed; and `seedtrack eval` on a user's own file."""

from __future__ import annotations

import json

import pytest

from crawler.nlp.reception import PAGE_THRESHOLDS, _document, _stance, _voices, comparison, Sentence
from crawler.nlp.stance_models import onnx_available
from helpers import run_cli
from realdata import REALDATA

FAVOR, AGAINST, NEUTRAL = (0.05, 0.1, 0.85), (0.85, 0.1, 0.05), (0.05, 0.9, 0.05)


def sentence(probs, attributed=False, line=0):
    return Sentence("x", [], "target", {}, [], probs, attributed, line=line)


def page(*rows):
    """A page: (probs, attributed) per line, the first line its headline."""
    return [sentence(probs, attributed, line) for line, (probs, attributed) in enumerate(rows)]


@pytest.fixture(scope="module")
def onnx_tagger():
    """The tagger with the default (onnx) stance model, whose probabilities the page rule was chosen for."""
    if not onnx_available():
        pytest.skip("needs onnxruntime and the shipped ONNX stance model")
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.topic import load_topic

    return Tagger(TaggerSpec.from_topic(load_topic(), stance_model="onnx"))


def test_document_stance_margin_rule_keeps_mixed_texts_neutral():
    assert _stance([FAVOR, FAVOR, AGAINST, AGAINST, NEUTRAL])["stance"] == "neutral"
    assert _stance([FAVOR] + [NEUTRAL] * 8)["stance"] == "neutral"  # one barb in a long explainer
    assert _stance([FAVOR, FAVOR, FAVOR, AGAINST, NEUTRAL])["stance"] == "favor"  # one side clearly dominates


def test_document_stance_opposite_attributed_opinions_are_neutral():
    rows = [sentence(AGAINST, True), sentence(FAVOR, True), sentence(FAVOR, True), sentence(NEUTRAL)]
    assert _document(rows)["stance"] == "neutral"


def test_document_stance_own_voice_decides_over_attributed():
    assert _document([sentence(AGAINST), sentence(FAVOR, True)])["stance"] == "against"


def test_document_stance_page_reporting_conflict_stays_neutral():
    rows = page((AGAINST, False), (AGAINST, True), (NEUTRAL, False), (NEUTRAL, False), (NEUTRAL, False))
    assert _voices(rows)["stance"] == "against"  # read by labels, the headline's barb would decide
    result = _document(rows)
    assert result["stance"] == "neutral" and result["score"] < 0


@pytest.mark.parametrize("rows, expected", [
    (((AGAINST, False), (AGAINST, False), (AGAINST, True), (AGAINST, False), (NEUTRAL, False)), "against"),
    (((FAVOR, False), (FAVOR, False), (AGAINST, False), (FAVOR, True)), "favor"),
    (((NEUTRAL, False), (FAVOR, False), (AGAINST, False), (FAVOR, True), (AGAINST, True)), "neutral"),  # a debate
    (((NEUTRAL, False), (NEUTRAL, False), (NEUTRAL, True)), "neutral"),
])
def test_document_stance_page_takes_a_side_when_its_lean_is_clear(rows, expected):
    assert _document(page(*rows))["stance"] == expected


def test_document_stance_page_thresholds_follow_the_stance_model(tagger, onnx_tagger):
    soft = page(((0.6, 0.3, 0.1), False), ((0.55, 0.35, 0.1), False), (NEUTRAL, False))  # textcat-like probabilities
    assert _document(soft, PAGE_THRESHOLDS["textcat"])["stance"] == "against"
    assert _document(soft, PAGE_THRESHOLDS["onnx"])["stance"] == "neutral"
    assert tagger.pipeline("en").get_pipe("seedtrack_reception").page_thresholds == PAGE_THRESHOLDS["textcat"]
    assert onnx_tagger.pipeline("en").get_pipe("seedtrack_reception").page_thresholds == PAGE_THRESHOLDS["onnx"]


def test_document_stance_headline_counts_double():
    body = [sentence(AGAINST, line=1), sentence(NEUTRAL, line=2), sentence(NEUTRAL, line=3)]
    headline = _document([sentence(FAVOR, line=0), *body])
    in_body = _document([sentence(FAVOR, line=4), *body])  # the same sentence lower down
    assert (headline["stance"], in_body["stance"]) == ("favor", "neutral")
    assert headline["score"] == pytest.approx(0.8 / 5) and in_body["score"] == pytest.approx(0.0)


def test_document_stance_attributed_opinion_weighs_less_than_the_outlet():
    own_favor = _document([sentence(NEUTRAL, line=0), sentence(FAVOR, line=1), sentence(AGAINST, True, line=2)])
    own_against = _document([sentence(NEUTRAL, line=0), sentence(AGAINST, line=1), sentence(FAVOR, True, line=2)])
    assert own_favor["score"] > 0 > own_against["score"]
    assert own_favor["score"] == pytest.approx(-own_against["score"])


def test_document_stance_lines_of_a_page_are_numbered(onnx_tagger):
    reception = onnx_tagger.pipeline("en").get_pipe("seedtrack_reception")
    doc = onnx_tagger.pipeline("en")("Seedance 2.0 wows\n\nByteDance released Seedance 2.0. Seedance 2.0 is fast.\n"
                                     "Seedance 2.0 costs ten dollars a month.")
    sentences, _frames = reception.select(doc)
    assert [(s.line, s.text) for s in sentences] == [
        (0, "Seedance 2.0 wows"), (1, "ByteDance released Seedance 2.0."), (1, "Seedance 2.0 is fast."),
        (2, "Seedance 2.0 costs ten dollars a month.")]


@pytest.mark.parametrize("lines, expected", [
    (["Studios take ByteDance to court over Seedance 2.0",
      "Disney and Universal sued ByteDance on Monday, accusing Seedance 2.0 of copying their characters.",
      "ByteDance released Seedance 2.0 in February.",
      "Seedance 2.0 is available through the Jimeng app in China and Dreamina elsewhere.",
      "Seedance 2.0 supports clips of up to 15 seconds at 1080p.",
      "ByteDance said Seedance 2.0 would come to CapCut later this year."], "neutral"),
    (["Seedance 2.0 is a disaster for artists", "Seedance 2.0 copies the work of illustrators without consent.",
      "Its clips are full of glitches and stolen styles.",
      "Seedance 2.0 should be pulled until ByteDance pays the artists it took from."], "against"),
    (["Seedance 2.0 is the best video model we have tried",
      "Seedance 2.0 produced stunning, cinematic clips in our tests.",
      "Its lip sync is flawless and the camera work is superb.", "Seedance 2.0 still struggles with hands.",
      "For most creators, Seedance 2.0 is the one to pick."], "favor"),
])
def test_document_stance_pages_in_the_tagger(onnx_tagger, lines, expected):
    """A news page about a lawsuit is a neutral report (by labels its headline would make it against); an
    opinion piece against the topic and a review with one caveat keep their side."""
    (result,) = onnx_tagger.analyse(["\n".join(lines)])
    assert result["stance"] == expected


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


def test_rivals_reach_the_stance_model_apart_from_the_target(tagger):
    """The sentence the stance model reads names the target and, separately, the rival it is weighed against."""
    text = "Kling is much better than Seedance 2.0."
    reception = tagger.pipeline("en").get_pipe("seedtrack_reception")
    (sentence,), _frames = reception.select(tagger.pipeline("en")(text))
    assert [text[s:e] for s, e in sentence.spans] == ["Seedance 2.0"]
    assert [text[s:e] for s, e in sentence.others] == ["Kling"]

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


@pytest.mark.model
@pytest.mark.skipif(not (REALDATA / "persent" / "dev.csv").exists(), reason="needs ../shared/realdata/persent")
def test_document_stance_persent_pages_reporting_conflict_are_not_read_as_against():
    """Real news pages (PerSenT's dev split, first 100: 12 against, 44 neutral, 44 favor toward their main
    person). Read by sentence labels, 45 were against and macro-F1 was 0.39."""
    if not onnx_available():
        pytest.skip("needs onnxruntime and the shipped ONNX stance model")
    from crawler.training.persent import evaluate_persent

    report = evaluate_persent(REALDATA / "persent" / "dev.csv", "onnx", limit=100)
    predicted_against = sum(row["against"] for row in report.confusion.values())
    assert predicted_against <= 2 * sum(report.confusion["against"].values())
    assert report.macro_f1 >= 0.42


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
