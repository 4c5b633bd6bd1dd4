"""Language identification and word counts of document text."""

from __future__ import annotations

import pytest

from crawler.text.language import count_words, detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Seedance 2.0 hailed as China's second DeepSeek moment in the global AI race", "en"),
        ("Seedance 2.0 版权争议升级，上海律师解读", "zh"),  # short and mixed: py3langid says "wuu" on its own
        ("字节跳动于 2026 年 2 月 12 日正式发布 Seedance 2.0 视频生成模型。", "zh"),
        ("Die Bundesregierung hat heute neue Regeln für KI-Videos beschlossen.", "de"),
        ("短い", None),  # too little text to tell
        ("", None),
        (None, None),
    ],
)
def test_language_detect(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Seedance 2.0 is here.", 4),
        ("即梦暂停真人参考", 8),
        ("Seedance 2.0 发布", 4),
        ("", 0),
        (None, 0),
    ],
)
def test_language_count_words(text, words):
    assert count_words(text) == words


@pytest.mark.parametrize(("text", "hint", "lang"), [
    ("I love Seedance 2.0.", None, "en"),      # py3langid alone says "pcm"
    ("lol", None, "en"),                       # under 12 characters: the topic's first Latin-script language
    ("智商税", None, "zh"),                     # the script
    ("Seedance 2.0 被吹过头了", None, "zh"),
    ("meh", "de", "de"),                       # the platform's own field wins
    ("すごい", "ja", "ja"),
    ("ok this is insane honestly", "ja", "en"),  # ... unless it names a script the text does not have
    ("Die Bundesregierung hat heute neue Regeln für KI-Videos beschlossen.", None, "de"),
    ("tout simplement", "fr-FR", "fr"),
])
def test_language_short_and_informal_posts(text, hint, lang):
    assert detect_language(text, hint=hint, priors=("en", "zh")) == lang
