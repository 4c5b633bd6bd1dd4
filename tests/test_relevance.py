"""Tests for crawler.text.terms: term matching rules and the verdict's reason text."""

import pytest

from crawler.text.terms import RelevanceMatcher, term_pattern, terms_pattern
from crawler.topic import load_topic


@pytest.fixture(scope="module")
def matcher():
    topic = load_topic()  # the shipped Seedance topic
    return RelevanceMatcher(topic.terms, topic.exclude)


@pytest.mark.parametrize(
    ("text", "relevant"),
    [
        ("ByteDance launches Seedance to rival Sora", True),
        ("Seedance.", True),
        ("(Seedance)", True),
        ("Seedance's new model", True),
        ("Seedances are a kind of dance", False),  # no word boundary after the term
        ("the preseedance phase", False),  # no word boundary before it
        ("seedancer app", False),
        ("ByteDance video model", False),
        ("", False),
    ],
)
def test_relevance_word_boundaries(matcher, text, relevant):
    assert matcher.check(title=text).relevant is relevant


@pytest.mark.parametrize("text", ["SEEDANCE 2.0 is here", "seedance 2.0 is here", "SeeDance launches"])
def test_relevance_case_insensitive(matcher, text):
    verdict = matcher.check(title=text)
    assert verdict.relevant
    assert "Seedance" in verdict.terms


@pytest.mark.parametrize("text", ["Seedance 2.0 review", "Seedance-2.0 review", "Seedance  2.0 review",
                                  "Seedance - 2.0 review", "seedance\t2.0 review"])
def test_relevance_hyphen_and_space_variants(text):
    verdict = RelevanceMatcher(["Seedance 2.0"]).check(title=text)
    assert verdict.relevant, text
    assert verdict.terms == ["Seedance 2.0"]


@pytest.mark.parametrize("text", ["Seedance 2.05 review", "Seedance 2.0x review", "Seedance 3.0 review"])
def test_relevance_multiword_term_keeps_boundaries(text):
    assert not RelevanceMatcher(["Seedance 2.0"]).check(title=text).relevant


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("字节跳动旗下即梦发布新模型", ["即梦"]),  # no spaces in Chinese: substring match
        ("即梦AI上线Seedance 2.0", ["Seedance", "Seedance 2.0", "即梦", "即梦AI"]),  # Latin term right after CJK
        ("即梦ai 视频生成", ["即梦", "即梦AI"]),
    ],
)
def test_relevance_chinese_substring(matcher, text, terms):
    verdict = matcher.check(text=text)
    assert verdict.relevant
    assert set(terms) <= set(verdict.terms)


def test_relevance_chinese_term_does_not_match_other_characters(matcher):
    assert not matcher.check(text="字节跳动发布视频模型").relevant


@pytest.mark.parametrize(
    ("title", "summary", "text", "field"),
    [
        ("Seedance promo code: free month", None, None, "title"),
        ("Seedance 2.0 is out", "Get a PROMO CODE today", None, "summary"),
        ("Seedance 2.0 is out", None, "Use discount-code SEED at checkout", "text"),
    ],
)
def test_relevance_exclusion_wins(matcher, title, summary, text, field):
    verdict = matcher.check(title, summary, text)
    assert not verdict.relevant
    assert verdict.reason.startswith(f"excluded: {field} has ")
    assert verdict.terms == []


@pytest.mark.parametrize("text", ["字节跳动发布Seedance2.0视频模型", "字节跳动 Seedance 上线", "日本語Seedanceテスト",
                                  "（Seedance）发布"])
def test_relevance_latin_term_next_to_chinese_characters(text):
    # Chinese writes Latin names without spaces around them: CJK characters are a boundary
    verdict = RelevanceMatcher(["Seedance", "Seedance2.0"]).check(title=text)
    assert verdict.relevant, text
    assert "Seedance" in verdict.terms or "Seedance2.0" in verdict.terms


def test_relevance_reason_names_each_field():
    matcher = RelevanceMatcher(["Seedance", "Seedance 2.0", "即梦"], exclude=["promo code"])
    verdict = matcher.check(title="Seedance 2.0 launches", summary="A video model", text="Also called 即梦 in China")
    assert verdict.relevant
    assert verdict.reason == "title: Seedance, Seedance 2.0; text: 即梦"
    assert verdict.terms == ["Seedance", "Seedance 2.0", "即梦"]
    assert matcher.check(text="Seedance promo-code").reason == "excluded: text has 'promo code'"


def test_relevance_summary_only_match(matcher):
    verdict = matcher.check(title="AI video news", summary="Jimeng AI adds Seedance")
    assert verdict.relevant
    assert verdict.reason == "summary: Seedance, Jimeng AI"


def test_relevance_no_term_reason(matcher):
    verdict = matcher.check("AI video news", "Sora and Veo compete", "Nothing about the topic")
    assert (verdict.relevant, verdict.reason) == (False, "no topic term in title, summary or text")


def test_relevance_needs_a_term():
    with pytest.raises(ValueError, match="at least one term"):
        RelevanceMatcher(["  ", ""], exclude=["spam"])


def test_relevance_term_pattern_escapes_regex_characters():
    pattern = term_pattern("C++ (beta)")
    assert pattern.search("we tried C++ (beta) today")
    assert not pattern.search("we tried C (beta) today")


def test_relevance_terms_pattern_matches_like_term_pattern():
    pattern = terms_pattern(["Seedance", "Seedance 2.0", "即梦", "US", "MPA"])
    text = "Seedance-2.0 from 即梦AI worries the MPA and the US, and us; Seedances and mpa are other words."
    assert [m.group() for m in pattern.finditer(text)] == ["Seedance-2.0", "即梦", "MPA", "US"]
    assert terms_pattern([" ", ""]) is None


def test_relevance_short_acronyms_match_as_written_like_the_nlp_stage():
    """One rule for relevance, NLP targets and the entity ruler: "US" is not the pronoun "us"."""
    from crawler.nlp.tagger import ruler_pattern
    from crawler.text.terms import case_sensitive

    matcher = RelevanceMatcher(["US"])
    assert not matcher.check(text="Tell us what you think.").relevant
    assert matcher.check(text="The US studios object.").relevant
    assert terms_pattern(["US"]).search("tell us") is None
    assert case_sensitive("MPA") and not case_sensitive("PRAW") and not case_sensitive("即梦AI")
    import spacy

    assert ruler_pattern(spacy.blank("en"), "US") == [{"ORTH": "US"}]
    assert ruler_pattern(spacy.blank("en"), "Seedance") == "Seedance"
