"""The one rule for matching a topic's terms, names and cues in text, and the relevance check built on it.

Latin-script terms match case-insensitively on word boundaries, with spaces and hyphens inside a term
interchangeable ("Seedance 2.0" = "Seedance-2.0" = "seedance 2.0"); short all-capital terms ("IP", "US",
"MPA", see ``case_sensitive``) match only as written, so the pronoun "us" is not the United States. Terms
in scripts written without spaces (Chinese, Japanese) match as substrings, since they have no word
boundaries to anchor on. Relevance, the NLP stage's targets and frames, and the entity ruler all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from crawler.text.language import CJK_RANGE

_CJK = re.compile(f"[{CJK_RANGE}]")
_WORD = f"[^\\W{CJK_RANGE}]"  # a word character other than CJK: "发布Seedance" has a boundary before the term
FIELDS = ("title", "summary", "text")


def case_sensitive(term: str) -> bool:
    """An acronym ("US", "IP", "MPA", "C++"): it matches only as written."""
    term = term.strip()
    return term.isupper() and len(term) <= 3 and not _CJK.search(term)


def term_pattern(term: str) -> re.Pattern[str]:
    """The regex one topic term matches with (see the module docstring)."""
    pattern = terms_pattern([term])
    if pattern is None:
        raise ValueError(f"term {term!r} is empty")
    return pattern


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of many terms as ``term_pattern`` matches each (longest first), or None.

    The word-boundary checks are shared by all Latin terms, so a position inside a word fails at once:
    much faster than an alternation of ``term_pattern``s over long texts. Short all-capital terms ("IP",
    "US", "MPA") match case-sensitively, so the pronoun "us" is not the United States."""
    latin, cjk = [], []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        body = r"[\s\-]*".join(re.escape(part) for part in re.split(r"[\s\-]+", term.strip()) if part)
        if case_sensitive(term):
            body = f"(?-i:{body})"
        (cjk if _CJK.search(term) else latin).append(body)
    alternatives = []
    if latin:
        alternatives.append(rf"(?<!{_WORD})(?:{'|'.join(latin)})(?!{_WORD})")
    if cjk:
        alternatives.append(f"(?:{'|'.join(cjk)})")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


@dataclass(frozen=True)
class Relevance:
    relevant: bool
    reason: str
    terms: list[str] = field(default_factory=list)


class RelevanceMatcher:
    """Matches a topic's include and exclude terms against a document's fields."""

    def __init__(self, terms: Iterable[str], exclude: Iterable[str] = ()):
        self.terms = [(term, term_pattern(term)) for term in terms if term.strip()]
        self.exclude = [(term, term_pattern(term)) for term in exclude if term.strip()]
        if not self.terms:
            raise ValueError("a topic needs at least one term to decide relevance")

    def check(self, title: str | None = None, summary: str | None = None, text: str | None = None) -> Relevance:
        values = dict(zip(FIELDS, (title, summary, text)))
        for term, pattern in self.exclude:
            for name, value in values.items():
                if value and pattern.search(value):
                    return Relevance(False, f"excluded: {name} has {term!r}")
        found: dict[str, list[str]] = {}
        for term, pattern in self.terms:
            for name, value in values.items():
                if value and pattern.search(value):
                    found.setdefault(name, []).append(term)
        if not found:
            return Relevance(False, "no topic term in title, summary or text")
        reason = "; ".join(f"{name}: {', '.join(terms)}" for name, terms in found.items())
        matched = sorted({term for terms in found.values() for term in terms})
        return Relevance(True, reason, matched)
