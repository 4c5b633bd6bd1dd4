"""Text of a document for story clustering: tokens, light lemmas, stopwords, entity terms, times, URLs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from collections import Counter
from urllib.parse import urlsplit

DAY = 86400.0

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each few for from
further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn
it its itself just let ll me more most mustn my myself no nor not now of off on once only or other ought our
ours ourselves out over own re said same say says shan she should shouldn so some such than that the their
theirs them themselves then there these they this those through to too under until up upon us very was wasn
we were weren what when where which while who whom why will with won would wouldn you your yours yourself
yourselves ve one two get got new told may might must like well back even still many much made make way
since however per mr mrs ms according yet already around another every going go went take took s t d m
""".split())

_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)
_STARTERS = frozenset(".!?\n:;\"\u201c\u2018(")


# ----------------------------------------------------------------------------- text

def lemma(tok: str) -> str:
    """Lowercased token with possessive and a light plural suffix removed."""
    t = tok.lower().replace("\u2019", "'")
    if t.endswith("'s"):
        t = t[:-2]
    elif "'" in t:
        t = t.split("'", 1)[0]
    if len(t) > 4 and not t[-1].isdigit():
        if t.endswith("ies"):
            t = t[:-3] + "y"
        elif t.endswith("sses"):
            t = t[:-2]
        elif t.endswith("s") and not t.endswith(("ss", "us", "is")):
            t = t[:-1]
    return t


def analyse(text: str, title: str = "", entities=(), lead_tokens: int = 60, heuristic: bool = True):
    """Terms of a document: (Counter term->tf, set entity terms, set lead terms, list shingle tokens)."""
    tf: Counter = Counter()
    ents: set = set()
    lead: set = set()
    shingle_toks: list = []
    for e in entities or ():
        for m in _TOKEN_RE.finditer(e):
            ents.add(lemma(m.group()))
    n_seen = 0
    for part, is_title in ((title or "", True), (text or "", False)):
        prev_end = 0
        for m in _TOKEN_RE.finditer(part):
            raw = m.group()
            low = raw.lower()
            if not is_title:
                shingle_toks.append(low)
            sentence_start = prev_end == 0 or any(c in _STARTERS for c in part[prev_end:m.start()])
            prev_end = m.end()
            t = lemma(raw)
            if len(t) < 2 and not t.isdigit():
                continue
            if t in STOPWORDS:
                continue
            tf[t] += 1
            if is_title or n_seen < lead_tokens:
                lead.add(t)
            if not is_title:
                n_seen += 1
            if heuristic and not is_title and raw[0].isupper() and (not sentence_start or raw.isupper() and len(raw) > 1):
                ents.add(t)
    return tf, ents, lead, shingle_toks



def to_epoch(ts) -> float | None:
    if ts is None:
        return None
    if isinstance(ts, (int, float)):
        return float(ts)
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


def canonical_url(url: str) -> str:
    """Scheme-, www-, query-tracking- and fragment-free URL used to match posts to articles."""
    p = urlsplit(url.strip())
    host = p.netloc.lower()
    if host.startswith("www."):
        host = host[4:]
    path = p.path.rstrip("/") or "/"
    q = "&".join(kv for kv in p.query.split("&") if kv and not kv.lower().startswith(("utm_", "fbclid", "gclid", "ref=")))
    return host + path + ("?" + q if q else "")
