"""Stance, frames and actors from the real spaCy pipeline and the shipped stance model."""

from __future__ import annotations

import pytest

from crawler.nlp.stance_models import minilm_available, onnx_available

pytestmark = pytest.mark.model


def analyse(tagger, text: str, lang: str = "en") -> dict:
    (result,) = tagger.analyse([text], [lang])
    return result


def test_reception_other_company_does_not_turn_the_topic(tagger):
    praise = "Seedance 2.0 produced stunning, cinematic clips that impressed reviewers."
    rival = "OpenAI's Sora was criticised for glitchy, disappointing output and lost users."
    alone = analyse(tagger, praise)
    both = analyse(tagger, f"{praise} {rival}")
    assert alone["stance"] == both["stance"] == "favor"
    assert both["evidence"] == [praise]  # the rival's sentence is not evidence about the topic
    assert analyse(tagger, rival)["confidence"] == 0.0  # about a rival only: no stance sentence at all


def test_reception_report_of_opposition_counts_against(tagger):
    result = analyse(tagger, "Disney sent ByteDance a cease-and-desist letter, accusing Seedance 2.0 of "
                             "stealing its characters in a massive copyright infringement.")
    assert result["stance"] == "against" and result["score"] < 0
    assert "copyright" in result["frames"]
    assert result["frame_stances"]["copyright"]["stance"] == "against"


def test_reception_actors_resolve_aliases(tagger):
    text = ("The MPA said Seedance 2.0 engaged in unauthorized use of copyrighted works on a massive scale. "
            "Later the Motion Picture Association said ByteDance must stop the infringement.")
    result = analyse(tagger, text)
    actors = {a["actor"]: a for a in result["actors"]}
    assert list(actors) == ["Motion Picture Association"]  # "MPA" and the full name are one actor
    assert actors["Motion Picture Association"]["label"] == "ORG"
    assert actors["Motion Picture Association"]["evidence"].startswith("The MPA said")


def test_reception_quote_is_the_actors_evidence(tagger):
    text = 'Elon Musk shared a Seedance 2.0 clip and wrote: "It\'s happening fast."'
    (actor,) = analyse(tagger, text)["actors"]
    assert (actor["actor"], actor["evidence"]) == ("Elon Musk", "It's happening fast.")


def test_reception_chinese_is_segmented_matched_and_scored(tagger):
    result = analyse(tagger, "美国电影协会指控即梦的Seedance 2.0严重侵权，迪士尼也发出了律师函。", "zh")
    assert {e["norm"] for e in result["entities"]} >= {"Motion Picture Association", "Jimeng", "Seedance 2.0", "Disney"}
    assert result["stance"] == "against" and "copyright" in result["frames"]
    praise = analyse(tagger, "Seedance 2.0的画面效果非常惊艳，网友纷纷点赞。", "zh")
    assert praise["stance"] == "favor"


def test_reception_neutral_report_stays_neutral(tagger):
    result = analyse(tagger, "ByteDance released Seedance 2.0 on February 12. The model is available in the Jimeng app.")
    assert result["stance"] == "neutral"
    assert "business" in result["frames"]


def test_reception_batches_keep_order(tagger):
    texts = ["Seedance 2.0 is amazing and the best video model ever made.",
             "字节跳动发布Seedance 2.0。",
             "Hollywood studios sued ByteDance over Seedance 2.0 copyright infringement."]
    results = tagger.analyse(texts + ["Texte en français sur Seedance."], ["en", "zh", "en", "fr"])
    assert [r["stance"] for r in results[:3]] == ["favor", "neutral", "against"]
    assert results[3] is None  # other languages are not analysed


@pytest.mark.skipif(not minilm_available(), reason="the minilm extra is not installed")
def test_reception_minilm_model_tags_like_textcat():
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.topic import load_topic

    tagger = Tagger(TaggerSpec.from_topic(load_topic(), stance_model="minilm"))
    assert tagger.pipeline("en").get_pipe("seedtrack_reception").model.name == "minilm"
    results = tagger.analyse(["Seedance 2.0 is breathtaking: the most cinematic video model anyone has released.",
                              "Hollywood studios sued ByteDance, accusing Seedance 2.0 of massive copyright theft."])
    assert [r["stance"] for r in results] == ["favor", "against"]


@pytest.mark.skipif(not onnx_available(), reason="needs onnxruntime and the shipped ONNX stance model")
def test_reception_blend_mixes_onnx_with_textcat():
    import numpy as np

    from crawler import settings
    from crawler.nlp.reception import PAGE_THRESHOLDS
    from crawler.nlp.stance_models import BLEND_TEXTCAT_WEIGHT, BlendStanceModel, load_stance_model, resolved_name
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.topic import load_topic

    assert settings.NLP_STANCE_MODEL == "onnx" and resolved_name("auto") == "onnx"
    blend = load_stance_model("blend")
    assert isinstance(blend, BlendStanceModel) and blend.weight == BLEND_TEXTCAT_WEIGHT
    texts = ["Seedance 2.0 sucks.", "Seedance 2.0 is terrible at text rendering.", "I love Seedance 2.0.",
             "Seedance 2.0 launched on Thursday in China."]
    items = [(t, [(t.index("Seedance"), t.index("Seedance") + 12)]) for t in texts]
    onnx, textcat = np.array(blend.onnx.predict(items)), np.array(blend.textcat.predict(items))
    expected = onnx ** (1 - blend.weight) * textcat ** blend.weight
    expected /= expected.sum(axis=1, keepdims=True)
    probs, vectors = blend.predict_vectors(items)
    assert np.allclose(probs, expected, atol=1e-4) and np.allclose(blend.predict(items), probs)
    assert np.allclose(vectors, blend.onnx.predict_vectors(items)[1])  # the frame model's vectors: ONNX's own pass
    assert blend.predict([]) == [] and blend.predict_vectors([])[0] == []

    tagger = Tagger(TaggerSpec.from_topic(load_topic(), stance_model="blend"))
    reception = tagger.pipeline("en").get_pipe("seedtrack_reception")
    assert reception.model.name == "blend" and reception.page_thresholds == PAGE_THRESHOLDS["blend"]
    assert [r["stance"] for r in tagger.analyse(texts)] == ["against", "against", "favor", "neutral"]


@pytest.mark.skipif(not onnx_available(), reason="needs onnxruntime and the shipped ONNX stance model")
def test_reception_onnx_stance_does_not_depend_on_the_batch():
    """int8 activations are quantised per batch: a sentence must read the same alone and among others."""
    import numpy as np

    from crawler.nlp.stance_models import OnnxStanceModel
    from crawler.training import datasets

    model = OnnxStanceModel()
    items = [(e.text, e.spans) for e in datasets.load("newsmtsc-rw")[:64]]
    together = np.array(model.predict(items))
    alone = np.array([model.predict([item])[0] for item in items])
    assert np.array_equal(together, alone)
    probs, vectors = model.predict_vectors(items[:8])
    assert np.array_equal(vectors[3], model.predict_vectors([items[3]])[1][0])
