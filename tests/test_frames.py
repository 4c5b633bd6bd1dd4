"""Frames that mean what they say: cues never inside names or addresses, inflected cues match, a frame needs
a counted sentence; the lexicon's ordinary words."""

from __future__ import annotations

import pytest

from crawler.nlp.cues import cues
from crawler.nlp.targets import TargetFinder, inflections
from crawler.topic import load_topic


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
