"""Decides whether a text is about the topic: a topic term in the title, summary or text, and no exclusion term.

Latin-script terms match case-insensitively on word boundaries, with spaces and hyphens inside a term
interchangeable ("Seedance 2.0" = "Seedance-2.0" = "seedance 2.0"). Terms in scripts written without
spaces (Chinese, Japanese) match as substrings, since they have no word boundaries to anchor on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from crawler.text.language import CJK_RANGE

_CJK = re.compile(f"[{CJK_RANGE}]")
_WORD = f"[^\\W{CJK_RANGE}]"  # a word character other than CJK: "发布Seedance" has a boundary before the term
FIELDS = ("title", "summary", "text")


def term_pattern(term: str) -> re.Pattern[str]:
    """The regex one topic term matches with (see the module docstring)."""
    parts = [re.escape(part) for part in re.split(r"[\s\-]+", term.strip()) if part]
    body = r"[\s\-]*".join(parts)
    if _CJK.search(term):
        return re.compile(body, re.IGNORECASE)
    return re.compile(rf"(?<!{_WORD}){body}(?!{_WORD})", re.IGNORECASE)


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of many terms as ``term_pattern`` matches each (longest first), or None.

    The word-boundary checks are shared by all Latin terms, so a position inside a word fails at once:
    much faster than an alternation of ``term_pattern``s over long texts. Short all-capital terms ("IP",
    "US", "MPA") match case-sensitively, so the pronoun "us" is not the United States."""
    latin, cjk = [], []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        body = r"[\s\-]*".join(re.escape(part) for part in re.split(r"[\s\-]+", term.strip()) if part)
        if term.isupper() and len(term) <= 4:
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
