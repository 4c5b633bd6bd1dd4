"""Language identification (py3langid, whose model ships in the package: nothing is downloaded) and word counts."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Sequence

SAMPLE_CHARS = 2000
# py3langid also names some members of a macrolanguage; the database stores the ISO 639-1 code.
MACROLANGUAGE = {"wuu": "zh", "yue": "zh", "gan": "zh", "hak": "zh", "nan": "zh", "cmn": "zh", "uzs": "uz",
                 "ary": "ar", "arz": "ar", "gug": "gn", "gom": "kok"}
# A word, for counting: a run of letters or digits, or one CJK character (Chinese and Japanese
# are written without spaces, and their character count is the usual measure of length).
CJK_RANGE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{CJK_RANGE}]|[^\W{CJK_RANGE}]+(?:[.'’][^\W{CJK_RANGE}]+)*")


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_LETTER = re.compile(r"[^\W\d_]")
SHORT = 12  # characters: below this the classifier cannot tell, so the script and the priors decide
PRIOR_RATIO = 0.25  # a prior language wins when its probability is at least this share of the top one's
# English-lexified creoles and dialects py3langid gives informal English ("I love Seedance 2.0." is "pcm").
ENGLISH_LIKE = {"pcm", "sco", "jam"}


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid import langid

    return langid.LanguageIdentifier.from_modelpath(Path(langid.MODEL_DIR) / langid.MODEL_FILE, norm_probs=True)


def normalise_code(code: str | None) -> str | None:
    """A platform's language field ("en-US", "zh-Hans", "ZH") as an ISO 639-1 code, or None."""
    if not code or not isinstance(code, str):
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    base = MACROLANGUAGE.get(base, base)
    return base if base.isalpha() and 2 <= len(base) <= 3 else None


# Languages whose texts carry their own script: a platform's field naming one of them for a text without a
# single character of that script is a wrong default (a Mastodon account set to "ja" posting in English).
SCRIPTS = {"zh": (_HAN,), "ja": (_KANA, _HAN), "ko": (_HANGUL,)}


def _script_allows(code: str, text: str | None) -> bool:
    return code not in SCRIPTS or not text or any(script.search(text) for script in SCRIPTS[code])


def script_language(text: str) -> str | None:
    """The language the script alone tells: Han characters (and no kana or hangul) are Chinese, when they
    are at least a third of the letters ("Seedance 2.0 被吹过头了" is Chinese, an English post quoting one
    Chinese word is not)."""
    han = len(_HAN.findall(text))
    if not han or _KANA.search(text) or _HANGUL.search(text):
        return None
    return "zh" if han * 3 >= len(_LETTER.findall(text)) else None


def detect_language(text: str | None, hint: str | None = None, priors: Sequence[str] = ()) -> str | None:
    """ISO 639-1 code of the text's language, or None when nothing tells it.

    In order: ``hint`` (the platform's own language field: Bluesky's ``langs``, Mastodon's ``language``)
    when it gives one, unless it names a CJK language for a text without that script; the script (Han -> zh); then py3langid, with ``priors`` (the topic's languages) as
    priors: a text shorter than ``SHORT`` characters in Latin script takes the first Latin-script prior, and
    a prior wins over the classifier's pick when it is at least ``PRIOR_RATIO`` as likely (informal English
    is often "pcm" or Scots by a small margin). Without priors a text under ``SHORT`` characters is None."""
    if (code := normalise_code(hint)) is not None and _script_allows(code, text):
        return code
    if not text or not text.strip():
        return None
    sample = text[:SAMPLE_CHARS]
    if (code := script_language(sample)) is not None:
        return code
    latin_priors = [p for p in priors if p not in ("zh", "ja", "ko")]
    if len(sample.strip()) < SHORT:
        if latin_priors and _LETTER.search(sample) and not (_KANA.search(sample) or _HANGUL.search(sample)):
            return latin_priors[0]
        return None
    ranked = _identifier().rank(sample)
    top, top_p = ranked[0]
    top = MACROLANGUAGE.get(top, top)
    if top in ENGLISH_LIKE:
        top = "en"
    if priors and top not in priors:
        probability = dict(ranked)
        best = max(priors, key=lambda p: probability.get(p, 0.0))
        if probability.get(best, 0.0) >= PRIOR_RATIO * top_p:
            return best
    return top


def count_words(text: str | None) -> int:
    """Words in the text; each CJK character counts as one."""
    return len(_WORD.findall(text)) if text else 0
