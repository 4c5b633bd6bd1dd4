"""Praise and criticism cue words of a language (``lexicons/en.toml``, ``lexicons/zh.toml``), negation-aware.

The textcat stance models see one ``LEXPOS`` or ``LEXNEG`` token per cue appended to each sentence
(``stance_models.mark_target``): they learn from their training data how much a cue weighs, and still
know cue words their training sentences never used. A cue after a negator flips: in English a negator up
to two words before it in the same clause ("not impressive", "hardly a disaster"); in Chinese one right
before it or one character before it ("不惊艳", "不太惊艳"), except words that only start like a negator
("非常" very, "无比" incomparably, "不断" constantly).
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

LEXICONS = Path(__file__).with_name("lexicons")
_CLAUSE = re.compile(r"[,;:.!?]|\bbut\b|\byet\b", re.IGNORECASE)


class Cues:
    def __init__(self, path: Path, language: str):
        lexicon = tomllib.loads(path.read_text(encoding="utf-8"))
        self.language = language
        words = {**{w: "LEXPOS" for w in lexicon["positive"]}, **{w: "LEXNEG" for w in lexicon["negative"]}}
        self.kind = {w.lower(): k for w, k in words.items()}
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        self.negators = tuple(sorted(lexicon["negators"], key=len, reverse=True))
        self.not_negations = tuple(lexicon.get("not_negations", ()))
        if language == "zh":
            self.pattern = re.compile(alternatives, re.IGNORECASE)
        else:
            self.pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
            negators = "|".join(re.escape(n) for n in self.negators)
            self.negated_clause = re.compile(rf"(?:^|\W)(?:{negators})(?:\W+\w+){{0,2}}\W*$", re.IGNORECASE)

    def negated(self, text: str, start: int) -> bool:
        if self.language != "zh":
            clause = _CLAUSE.split(text[max(0, start - 40) : start])[-1]
            return bool(self.negated_clause.search(clause))
        for gap in (0, 1):
            for neg in self.negators:
                at = start - gap - len(neg)
                if at >= 0 and text.startswith(neg, at) and not text.startswith(self.not_negations, at):
                    return True
        return False

    def tokens(self, text: str) -> list[str]:
        out = []
        for match in self.pattern.finditer(text):
            kind = self.kind[match.group().lower()]
            if self.negated(text, match.start()):
                kind = "LEXNEG" if kind == "LEXPOS" else "LEXPOS"
            out.append(kind)
        return out


@functools.lru_cache(maxsize=None)
def cues(language: str) -> Cues:
    return Cues(LEXICONS / f"{language}.toml", language)
