"""The incremental StoryIndex core: vocabulary and IDF, ``add``, near-duplicate stage, updates, eviction."""

from __future__ import annotations

import math
from collections import Counter, deque

import numpy as np

from crawler.stories.config import StoryConfig, _Doc, _New, _Story
from crawler.stories.signatures import band_keys, minhash
from crawler.stories.text import DAY, analyse, canonical_url, to_epoch


class StoryIndexCore:
    """Incremental story state; see the module docstring."""

    def __init__(self, config: StoryConfig | None = None, evict: bool = True):
        self.cfg = config or StoryConfig()
        self.window = self.cfg.window_days * DAY
        self.evict = evict
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self.df = np.zeros(1024, np.int32)
        self.is_ent = np.zeros(1024, bool)
        self.is_year = np.zeros(1024, bool)     # terms that are years (1950-2099), for year_penalty
        self.n_seen = 0
        self.next_sid = 1
        self.clock = 0.0                      # newest published_at seen
        self.stories: dict[int, _Story] = {}
        self.docs: dict[str, _Doc] = {}
        self.buckets: dict[int, object] = {}  # band key -> doc_id or list of doc_ids
        self.postings: dict[int, list] = {}   # term id -> story ids, oldest first
        self.url_story: dict[str, int] = {}
        self.alias: dict[int, int] = {}       # merged story -> story it was merged into
        self.doc_urls: dict[str, str] = {}
        self._doc_queue: deque = deque()      # (t, doc_id) in arrival order, for eviction
        self._story_queue: deque = deque()
        self.stage_counts = Counter()
        self._dirty_stories: dict = {}        # changes since the last pop_changes() (sid -> _Story, kept if evicted)
        self._dirty_terms: set = set()
        self._new_docs: list = []             # (doc_id, _Doc, url)
        self._new_alias: list = []
        self._q = np.zeros(1024, np.float32)  # dense scratch for the query vector

    # ------------------------------------------------------------------ vocabulary / idf
    def _tid(self, term: str) -> int:
        i = self.vocab.get(term)
        if i is None:
            i = len(self.terms)
            self.vocab[term] = i
            self.terms.append(term)
            if i >= len(self.df):
                self.df = np.concatenate([self.df, np.zeros(len(self.df), np.int32)])
                self.is_ent = np.concatenate([self.is_ent, np.zeros(len(self.is_ent), bool)])
                self.is_year = np.concatenate([self.is_year, np.zeros(len(self.is_year), bool)])
                self._q = np.concatenate([self._q, np.zeros(len(self._q), np.float32)])
            if term[:1] == "@":
                self.is_ent[i] = True
            elif len(term) == 4 and term.isdigit() and "1950" <= term <= "2099":
                self.is_year[i] = True
        return i

    def seed_idf(self, texts):
        """Warm the document frequencies with a background corpus (counted like added documents)."""
        for text in texts:
            tf, ents, _, _ = analyse(text, "", (), self.cfg.lead_tokens, True)
            words = set(tf) | {"@" + w for w in ents if w in tf}
            ids = np.fromiter((self._tid(w) for w in words), np.int32, len(words))
            if len(ids):
                self.df[ids] += 1
            self.n_seen += 1

    def _idf(self, ids):
        idf = np.log((self.n_seen + 1.0) / (np.maximum(self.df[ids], 1) + 0.5)).astype(np.float32)
        if self.cfg.idf_power != 1.0:
            idf = np.maximum(idf, 0.0) ** self.cfg.idf_power
        return idf

    # ------------------------------------------------------------------ public API
    def add(self, doc_id: str, text: str, title: str = "", published_at=None, outlet: str | None = None,
            entities=(), url: str | None = None, embedding=None) -> int:
        """Assign a story to a document (re-adding a known doc_id returns its story).

        ``embedding``: the document's unit sentence embedding (``crawler.stories.encoder``), used when
        ``emb_weight`` or ``emb_min`` is set."""
        if doc_id in self.docs:
            return self.docs[doc_id].story
        new = self._prepare(doc_id, text, title, published_at, entities, url, embedding)
        new.unit(self)
        sid = new.dup
        if sid is None and len(new.ids):
            sid = self._similar_story(new.ids, new.tfw, new.t, new.emb)
            if sid is not None:
                self.stage_counts["similar"] += 1
        return self._commit(new, sid)

    def _prepare(self, doc_id, text, title, published_at, entities, url, embedding) -> _New:
        """A new document's terms, signature and near-duplicate story (the clock moves to its time)."""
        cfg = self.cfg
        t = to_epoch(published_at)
        if t is None:
            t = self.clock
        self.clock = max(self.clock, t)
        heur = cfg.ent_heuristic == "on" or (cfg.ent_heuristic == "auto" and not entities)
        tf, ents, lead, sh_toks = analyse(text, title, entities, cfg.lead_tokens, heur)
        sig, n_sh = minhash(sh_toks)
        keys = band_keys(sig) if n_sh >= 3 else ()
        dup = self._near_duplicate(sig, n_sh, keys, t) if n_sh >= 3 else None
        if dup is not None:
            self.stage_counts["near_dup"] += 1
        words, weights = [], []
        for w, c in tf.items():
            base = 1.0 + math.log(c)
            words.append(w)
            weights.append(base * (cfg.num_boost if any(ch.isdigit() for ch in w) else 1.0)
                           * (cfg.lead_boost if w in lead else 1.0))
            if w in ents and cfg.ent_boost > 0:
                words.append("@" + w)
                weights.append(base * cfg.ent_boost)
        ids = np.fromiter((self._tid(w) for w in words), np.int32, len(words))
        emb = None if embedding is None else np.asarray(embedding, np.float32)
        return _New(doc_id, t, ids, np.asarray(weights, np.float32), sig, n_sh, keys, emb, url, dup)

    def _commit(self, new: _New, sid, counted=False) -> int:
        """Put a prepared document in story ``sid`` (None: a new story); ``counted``: its terms are in ``df``."""
        if sid is None:
            sid = self.next_sid
            self.next_sid += 1
            self.stories[sid] = _Story(sid, new.t)
            self._story_queue.append(sid)
            self.stage_counts["new"] += 1
        ids = new.ids
        self._join(sid, ids, new.tfw, new.t, new.emb)
        if self.cfg.merge and len(ids):
            sid = self._merge_similar(sid, new.t)
        # document bookkeeping (after scoring, so a doc's own terms do not change its IDF)
        if len(ids) and not counted:
            self.df[ids] += 1
        if not counted:
            self.n_seen += 1
        self._dirty_terms.update(ids.tolist())
        self._dirty_stories[sid] = self.stories[sid]
        doc = _Doc(sid, new.t, new.n_sh, new.sig)
        self._new_docs.append((new.doc_id, doc, new.url))  # its row is written even if it leaves memory first
        self._register_doc(new.doc_id, doc, new.keys)
        if new.url:
            self.url_story[canonical_url(new.url)] = sid
            self.doc_urls[new.doc_id] = new.url
        if self.evict:
            self._evict()
        return sid

    def add_post(self, post_id: str, urls, published_at=None) -> int | None:
        """Hook for social posts that only link to articles: the story of the first linked URL known."""
        for u in urls or ():
            sid = self.url_story.get(canonical_url(u))
            if sid is not None:
                sid = self.resolve(sid)
                if sid in self.stories:
                    return sid
        return None

    def resolve(self, sid: int) -> int:
        """The live story a (possibly merged) story id now belongs to."""
        root = sid
        while root in self.alias:
            root = self.alias[root]
        while sid != root:                     # path compression
            nxt = self.alias[sid]
            self.alias[sid] = root
            sid = nxt
        return root

    def story_of(self, doc_id: str) -> int | None:
        d = self.docs.get(doc_id)
        return self.resolve(d.story) if d else None

    # ------------------------------------------------------------------ stage 1
    def _near_duplicate(self, sig, n_sh, keys, t):
        cands = set()
        for k in keys:
            v = self.buckets.get(k)
            if v is None:
                continue
            if isinstance(v, list):
                cands.update(v[-50:])
            else:
                cands.add(v)
        best, best_s = None, 0.0
        for did in cands:
            d = self.docs.get(did)
            if d is None or abs(t - d.t) > self.window:
                continue
            d.story = self.resolve(d.story)
            if d.story not in self.stories:
                continue
            j = float(np.mean(d.sig == sig))
            if self._is_dup(j, n_sh, d.n_sh) and j > best_s:
                best, best_s = d.story, j
        return best

    def _is_dup(self, j, n_a, n_b):
        """The near-duplicate rule on the estimated Jaccard ``j`` of documents of n_a and n_b shingles (numbers
        or numpy arrays)."""
        cfg = self.cfg
        small = np.minimum(n_a, n_b)
        cont = j / (1.0 + j) * (n_a + n_b) / np.maximum(small, 1)
        return (j >= cfg.dup_jaccard) | ((small >= cfg.dup_min_shingles) & (cont >= cfg.dup_containment))

    # ------------------------------------------------------------------ updates
    def _join(self, sid, ids, tfw, t, emb=None):
        st = self.stories[sid]
        st.n_docs += 1
        if emb is not None:
            st.vec = emb.copy() if st.vec is None else st.vec + emb
            st.n_vec += 1
        st.last_seen = max(st.last_seen, t)
        st.first_seen = min(st.first_seen, t)
        if len(ids):
            if len(st.ids):
                all_ids = np.concatenate([st.ids, ids])
                all_w = np.concatenate([st.wts, tfw])
                u, inv = np.unique(all_ids, return_inverse=True)
                w = np.zeros(len(u), np.float32)
                np.add.at(w, inv, all_w)
            else:
                u, w = ids, tfw
            if len(u) > self.cfg.centroid_terms:
                score = w * self._idf(u)
                keep = np.argpartition(-score, self.cfg.centroid_terms)[:self.cfg.centroid_terms]
                u, w = u[keep], w[keep]
            o = np.argsort(u)
            st.ids, st.wts = u[o].astype(np.int32), w[o].astype(np.float32)
        self._post(st)

    def _post(self, st, force=False):
        if not len(st.ids):
            return
        score = st.wts * self._idf(st.ids)
        k = min(self.cfg.post_terms, len(score))
        top = st.ids[np.argpartition(-score, k - 1)[:k]]
        moved = force or st.n_docs > 1  # re-post so the story sits at the newest end of its lists
        for ti in top.tolist():
            if moved or ti not in st.posted:
                self.postings.setdefault(ti, []).append(st.sid)
                st.posted.add(ti)

    def _register_doc(self, doc_id, d, keys):
        self.docs[doc_id] = d
        self._doc_queue.append((d.t, doc_id))
        for k in keys:
            v = self.buckets.get(k)
            if v is None:
                self.buckets[k] = doc_id
            elif isinstance(v, list):
                v.append(doc_id)
            else:
                self.buckets[k] = [v, doc_id]

    # ------------------------------------------------------------------ eviction
    def _evict(self):
        """Forget documents and stories older than 2 windows (amortised; postings compacted lazily)."""
        horizon = self.clock - 2 * self.window
        q = self._doc_queue
        while q and q[0][0] < horizon:
            _, did = q.popleft()
            d = self.docs.pop(did, None)
            if d is None:
                continue
            for k in (band_keys(d.sig) if d.n_sh >= 3 else ()):
                v = self.buckets.get(k)
                if v == did:
                    del self.buckets[k]
                elif isinstance(v, list):
                    try:
                        v.remove(did)
                    except ValueError:
                        pass
                    if len(v) == 1:
                        self.buckets[k] = v[0]
            u = self.doc_urls.pop(did, None)
            if u:
                self.url_story.pop(canonical_url(u), None)
        sq = self._story_queue
        while sq:
            st = self.stories.get(sq[0])
            if st is not None and st.last_seen >= horizon:
                break
            sid = sq.popleft()
            if st is not None:
                del self.stories[sid]
        # posting lists are compacted lazily when a scan reaches expired stories
