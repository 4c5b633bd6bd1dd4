"""StoryIndex state as plain rows (``to_rows``, ``pop_changes``), ``load_recent`` and ``rebuild`` (restory)."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from crawler.stories.config import StoryConfig, _Doc, _Story
from crawler.stories.signatures import band_keys
from crawler.stories.text import canonical_url, to_epoch


class RowsMixin:
    # ------------------------------------------------------------------ rows
    def _story_row(self, st):
        return (st.sid, st.first_seen, st.last_seen, st.n_docs, [self.terms[i] for i in st.ids.tolist()],
                st.wts.tolist(), None if st.vec is None else st.vec.tolist(), st.n_vec)

    def _doc_row(self, did, d, url=None):
        return (did, self.resolve(d.story), d.t, d.n_sh, d.sig.tolist(), url or self.doc_urls.get(did))

    def _meta(self):
        return {"n_docs_seen": self.n_seen, "next_story_id": self.next_sid, "clock": self.clock,
                "config": asdict(self.cfg)}

    def to_rows(self) -> dict:
        """Plain rows of the whole in-memory state (see module docstring for the tables)."""
        return {
            "story": [self._story_row(st) for st in self.stories.values()],
            "story_doc": [self._doc_row(did, d) for did, d in self.docs.items()],
            "story_term": [(w, int(self.df[i])) for i, w in enumerate(self.terms) if self.df[i] > 0],
            "story_alias": list(self.alias.items()),
            "story_meta": self._meta(),
        }

    def pop_changes(self) -> dict:
        """Rows changed since the last call, for the crawler to write after each batch.

        story: UPSERT by story_id; story_doc: INSERT; story_term: UPSERT by term (df is the new total);
        story_alias: INSERT (merged_story_id, into_story_id) - also DELETE those story rows and
        point the story_doc rows of merged at into (or resolve through the alias
        table when reading); story_meta: replace.
        """
        out = {
            "story": [self._story_row(st) for s, st in sorted(self._dirty_stories.items()) if s not in self.alias],
            "story_doc": [self._doc_row(did, d, url) for did, d, url in self._new_docs],
            "story_term": [(self.terms[i], int(self.df[i])) for i in sorted(self._dirty_terms)],
            "story_alias": list(self._new_alias),
            "story_meta": self._meta(),
        }
        self._dirty_stories, self._dirty_terms, self._new_docs, self._new_alias = {}, set(), [], []
        return out

    @classmethod
    def load_recent(cls, rows: dict, config: StoryConfig | None = None, now=None, evict: bool = True,
                    all_rows: bool = False) -> "StoryIndex":
        """Index from rows; keeps only stories/docs within the window of ``now`` (default: meta clock).

        ``rows`` may already be filtered by the caller's SQL (``WHERE last_seen >= now - window``);
        ``all_rows=True`` loads everything (benchmarks).
        """
        meta = rows.get("story_meta", {})
        cfg = config or StoryConfig(**meta.get("config", {}))
        ix = cls(cfg, evict=evict)
        now = to_epoch(now) if now is not None else float(meta.get("clock", 0.0))
        ix.clock = now
        lo = -math.inf if all_rows else now - ix.window
        ix.n_seen = int(meta.get("n_docs_seen", 0))
        ix.next_sid = int(meta.get("next_story_id", 1))
        terms = rows.get("story_term", [])
        ix.df = np.zeros(max(1024, 2 * len(terms)), np.int32)
        ix.is_ent = np.zeros(len(ix.df), bool)
        ix.is_year = np.zeros(len(ix.df), bool)
        ix._q = np.zeros(len(ix.df), np.float32)
        for w, df in terms:
            ix.df[ix._tid(w)] = df
        for gone, keep in rows.get("story_alias", []):
            ix.alias[int(gone)] = int(keep)
        for sid, first, last, n, terms_, wts, *vec in sorted(rows.get("story", []), key=lambda r: r[2]):
            if last < lo:
                continue
            st = _Story(int(sid), float(first))
            st.last_seen, st.n_docs = float(last), int(n)
            if vec and vec[0] is not None:  # the members' embedding sum and how many members had one
                st.vec, st.n_vec = np.asarray(vec[0], np.float32), int(vec[1])
            ids = np.fromiter((ix._tid(w) for w in terms_), np.int32, len(terms_))
            o = np.argsort(ids)
            st.ids, st.wts = ids[o], np.asarray(wts, np.float32)[o]
            ix.stories[st.sid] = st
            ix._story_queue.append(st.sid)
            ix._post(st)
        for did, sid, t, n_sh, sig, url in sorted(rows.get("story_doc", []), key=lambda r: r[2]):
            if t < lo:
                continue
            sig = np.asarray(sig, np.uint32)
            ix._register_doc(did, _Doc(ix.resolve(int(sid)), float(t), int(n_sh), sig),
                             band_keys(sig) if n_sh >= 3 else ())
            if url:
                ix.url_story[canonical_url(url)] = ix.resolve(int(sid))
                ix.doc_urls[did] = url
        return ix

    # ------------------------------------------------------------------ restory
    @classmethod
    def rebuild(cls, docs, config: StoryConfig | None = None) -> tuple["StoryIndex", dict]:
        """Cluster a whole collection again ("restory"), in published_at order.

        ``docs``: iterable of dicts with doc_id, text and optional title, published_at, outlet, entities, url,
        embedding.
        Returns the new index and {doc_id: story_id}.
        """
        ix = cls(config)
        docs = sorted(docs, key=lambda d: to_epoch(d.get("published_at")) or 0.0)
        ix.add_batch(docs)
        return ix, {d["doc_id"]: ix.story_of(d["doc_id"]) for d in docs}
