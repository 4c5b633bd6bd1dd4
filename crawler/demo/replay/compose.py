"""Compose sample articles for the replay site from the sentence bank.

The bank (``content/sentences.toml``) and the outlets (``content/outlets.toml``)
are sample data written for the seedtrack demo, not real news. Everything here
is driven by the ``random.Random`` passed in, so a seed gives the same text.
"""

from __future__ import annotations

import functools
import random
import re
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

CONTENT_DIR = Path(__file__).with_name("content")
ANGLES = ("praise", "copyright", "privacy", "geopolitics", "labor", "business", "regulation")
ZH_ANGLES = ("praise", "privacy", "copyright", "geopolitics", "business")
TONES = ("favor", "against", "neutral")
# Words that make a text on-topic for the Seedance 2.0 topic.
TOPIC_TERMS = ("seedance", "jimeng", "即梦")
_APPOSITIVES = ("analyst", "lawyer", "creator")
_SLOT = re.compile(r"\{(\w+)\}")
_NUMBERS = {"pct": (12, 78), "millions": (2, 60), "seconds": (20, 59), "num": (10, 90)}


@functools.lru_cache(maxsize=None)
def load_bank() -> dict:
    with open(CONTENT_DIR / "sentences.toml", "rb") as fh:
        return tomllib.load(fh)


@functools.lru_cache(maxsize=None)
def load_outlets() -> tuple[dict, ...]:
    with open(CONTENT_DIR / "outlets.toml", "rb") as fh:
        return tuple(tomllib.load(fh)["outlet"])


def local_time(outlet: dict, when: datetime) -> tuple[datetime, str]:
    """``when`` (UTC) in the outlet's zone, and the zone abbreviation.

    Fixed offsets with the 2026 US daylight-saving switch (8 March, 02:00 local).
    """
    offset, summer = outlet["utc_offset"], False
    if outlet["dst"] == "us":
        summer = when >= datetime(2026, 3, 8, 2 - offset, tzinfo=timezone.utc)
    zone = timezone(timedelta(hours=offset + summer))
    return when.astimezone(zone), outlet["tz_abbr"][int(summer)]


def mentions_topic(text: str) -> bool:
    low = text.lower()
    return any(term in low for term in TOPIC_TERMS)


class Composer:
    """Builds headline + paragraphs for one article at a time."""

    def __init__(self, rng: random.Random, bank: dict | None = None):
        self.rng = rng
        self.bank = bank or load_bank()

    def fill(self, template: str) -> str:
        def slot(match: re.Match) -> str:
            name = match.group(1)
            if name in _NUMBERS:
                return str(self.rng.randint(*_NUMBERS[name]))
            value = self.rng.choice(self.bank["slots"][name])
            # "Name, a role at X said" -> "Name, a role at X, said"
            if name in _APPOSITIVES and template[match.end():match.end() + 1] == " ":
                value += ","
            return value

        return _SLOT.sub(slot, template)

    def headline(self, lang: str, key: str) -> str:
        """A filled headline for an angle (on-topic), an off-topic topic, or "off_topic" (Chinese)."""
        if lang == "zh":
            pool = self.bank["zh"]["headlines"][key]
        else:
            pool = (self.bank["headlines"] if key in ANGLES else self.bank["offtopic"]["headlines"])[key]
        return self.fill(self.rng.choice(pool))

    def _shuffled(self, items) -> list[str]:
        items = list(items)
        self.rng.shuffle(items)
        return items

    def _paragraphs(self, lead: list[str], seq: list[str], joiner: str) -> list[str]:
        """Chunk sentences into 6-12 paragraphs of 1-3 sentences (lead first)."""
        rng = self.rng
        n_par = rng.randint(6, min(12, 1 + len(seq)))
        budget = min(len(seq), (n_par - 1) * 2 + rng.randint(0, n_par // 2))
        budget = max(budget, n_par - 1)
        sizes = [1] * (n_par - 1)
        for _ in range(budget - len(sizes)):
            i = rng.randrange(len(sizes))
            if sizes[i] < 3:
                sizes[i] += 1
        paragraphs, pos = [joiner.join(self.fill(s) for s in lead)], 0
        for size in sizes:
            paragraphs.append(joiner.join(self.fill(s) for s in seq[pos:pos + size]))
            pos += size
        return paragraphs

    def on_topic(self, lang: str = "en") -> dict:
        rng, bank = self.rng, self.bank
        zh = lang == "zh"
        src = bank["zh"] if zh else bank
        angles = ZH_ANGLES if zh else ANGLES
        primary = rng.choice(angles)
        secondary = rng.sample([a for a in angles if a != primary], rng.randint(1, 2))
        stance = rng.choices(TONES, weights=(35, 35, 30))[0]
        opposite = {"favor": "against", "against": "favor", "neutral": "favor"}[stance]
        tones = src["angles"][primary]
        intro = self._shuffled(src["intro"]["sentences"])
        lead_pick = next(s for s in intro if mentions_topic(s))
        intro.remove(lead_pick)
        stance_lines = self._shuffled(tones[stance])
        lead = [lead_pick, stance_lines.pop(0)]
        seq = stance_lines + self._shuffled(tones["neutral"] if stance != "neutral" else [])
        for angle in secondary:
            extra = self._shuffled(sum((src["angles"][angle][t] for t in TONES), []))
            seq += extra[: rng.randint(2, 4)]
        seq += intro[: rng.randint(1, 3)] + self._shuffled(tones[opposite])[:1]
        return {
            "title": self.headline(lang, primary),
            "headline_key": primary,
            "paragraphs": self._paragraphs(lead, seq, "" if zh else " "),
            "angles": [primary, *secondary],
            "stance": stance,
            "topic": "seedance",
        }

    def off_topic(self, lang: str = "en", topics: list[str] | None = None) -> dict:
        rng, bank = self.rng, self.bank
        if lang == "zh":
            seq = self._shuffled(bank["zh"]["offtopic"]["sentences"])
            return {"title": self.headline("zh", "off_topic"), "headline_key": "off_topic",
                    "paragraphs": self._paragraphs(seq[:1], seq[1:], ""),
                    "angles": [], "stance": None, "topic": "other"}
        pool = bank["offtopic"]["sentences"]
        topic = rng.choice(topics or sorted(pool))
        other = rng.choice([t for t in sorted(pool) if t != topic])
        seq = self._shuffled(pool[topic]) + self._shuffled(pool[other])[:5]
        return {"title": self.headline("en", topic), "headline_key": topic, "paragraphs": self._paragraphs(seq[:1], seq[1:], " "),
                "angles": [], "stance": None, "topic": topic}

    def comments(self, on_topic: bool, lang: str, count: int) -> list[str]:
        if lang == "zh":
            pool = list(self.bank["zh"]["offtopic"]["comments"])
        else:
            pool = list(self.bank["comments"]["generic"])
            if on_topic:
                pool += self.bank["comments"]["on_topic"]
        return self.rng.sample(pool, min(count, len(pool)))
