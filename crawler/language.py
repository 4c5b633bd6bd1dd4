"""Language identification of document text with py3langid (its model ships in the package: nothing is downloaded)."""

from __future__ import annotations

import py3langid

SAMPLE_CHARS = 2000


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is too little text to tell."""
    if not text or len(text.strip()) < 12:
        return None
    lang, _score = py3langid.classify(text[:SAMPLE_CHARS])
    return lang
