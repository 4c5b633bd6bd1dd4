"""Language identification (py3langid, whose model ships in the package: nothing is downloaded) and word counts."""

from __future__ import annotations

import re

import py3langid

SAMPLE_CHARS = 2000
# py3langid also names some members of a macrolanguage; the database stores the ISO 639-1 code.
MACROLANGUAGE = {"wuu": "zh", "yue": "zh", "gan": "zh", "hak": "zh", "nan": "zh", "cmn": "zh", "uzs": "uz",
                 "ary": "ar", "arz": "ar", "gug": "gn", "gom": "kok"}
# A word, for counting: a run of letters or digits, or one CJK character (Chinese and Japanese
# are written without spaces, and their character count is the usual measure of length).
CJK_RANGE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{CJK_RANGE}]|[^\W{CJK_RANGE}]+(?:[.'’][^\W{CJK_RANGE}]+)*")


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is too little text to tell."""
    if not text or len(text.strip()) < 12:
        return None
    lang, _score = py3langid.classify(text[:SAMPLE_CHARS])
    return MACROLANGUAGE.get(lang, lang)


def count_words(text: str | None) -> int:
    """Words in the text; each CJK character counts as one."""
    return len(_WORD.findall(text)) if text else 0
