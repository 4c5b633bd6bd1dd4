"""Same-event matching of the StoryIndex: candidate stories from the term index, centroid scoring, merges."""

from __future__ import annotations

from collections import Counter

import numpy as np


class MatchingMixin:
    # ------------------------------------------------------------------ stage 2
    def _candidates(self, term_ids, t, exclude=None) -> Counter:
        """Stories in the window posted under any of term_ids, with hit counts (newest max_scan per term)."""
        cfg = self.cfg
        lo = t - self.window
        hits: Counter = Counter()
        for ti in term_ids:
            plist = self.postings.get(ti)
            if not plist:
                continue
            seen = set()
            for pos in range(len(plist) - 1, -1, -1):
                sid = plist[pos]
                st = self.stories.get(sid)
                if st is None or sid in seen or sid == exclude:
                    continue
                if st.last_seen < lo:
                    # entries before pos were posted earlier still: drop them (lazy compaction)
                    if pos > 64 and self.evict:
                        del plist[:pos]
                    break
                if st.first_seen - self.window > t:
                    continue
                seen.add(sid)
                hits[sid] += 1
                if len(seen) >= cfg.max_scan:
                    break
        return hits

    def _merge_similar(self, sid, t):
        """Average-link step: merge story sid with the most similar story in the window if it passes the rule."""
        cfg = self.cfg
        for _ in range(3):
            st = self.stories[sid]
            a = st.wts * self._idf(st.ids)
            an = float(np.linalg.norm(a))
            if an == 0:
                return sid
            k = min(cfg.query_terms, len(a))
            top = st.ids[np.argpartition(-a, k - 1)[:k]].tolist()
            hits = self._candidates(top, t, exclude=sid)
            rare_df = max(cfg.rare_df_min, cfg.rare_df_frac * self.n_seen)
            best, best_s = None, -1.0
            top_ent = self._top_entities(st.ids, a)
            for osid, _ in hits.most_common(cfg.max_candidates):
                o = self.stories[osid]
                common, ia, ib = np.intersect1d(st.ids, o.ids, assume_unique=True, return_indices=True)
                if not len(common):
                    continue
                b = o.wts * self._idf(o.ids)
                dot = float(a[ia] @ b[ib])
                if cfg.score == "centroid":
                    sc = dot / (an * float(np.linalg.norm(b)))
                else:
                    sc = dot / (st.n_docs * o.n_docs)
                sc, floor = self._mix(sc, self._emb_score(st.vec, st.n_vec, o))
                if sc is not None:
                    sc -= self._penalty(self._years_differ(st.ids, o.ids, common), top_ent, o.ids)
                if sc is None or sc < floor or sc <= best_s or dot / (st.n_docs * o.n_docs) < cfg.avg_min:
                    continue
                if cfg.min_shared and int(np.count_nonzero(self.df[common] <= rare_df)) < cfg.min_shared:
                    continue
                if cfg.ent_min_cos > 0:
                    ma, mb = self.is_ent[st.ids], self.is_ent[o.ids]
                    na, nb = float(np.linalg.norm(a[ma])), float(np.linalg.norm(b[mb]))
                    if na > 0 and nb > 0:
                        me = self.is_ent[common]
                        if float(a[ia][me] @ b[ib][me]) / (na * nb) < cfg.ent_min_cos:
                            continue
                best, best_s = osid, sc
            if best is None:
                return sid
            sid = self._merge(sid, best)
            self.stage_counts["merge"] += 1
        return sid

    def _merge(self, x, y):
        keep, gone = (x, y) if x < y else (y, x)
        k, g = self.stories[keep], self.stories.pop(gone)
        ids = np.concatenate([k.ids, g.ids])
        w = np.concatenate([k.wts, g.wts])
        u, inv = np.unique(ids, return_inverse=True)
        ws = np.zeros(len(u), np.float32)
        np.add.at(ws, inv, w)
        if len(u) > self.cfg.centroid_terms:
            keep_i = np.argpartition(-(ws * self._idf(u)), self.cfg.centroid_terms)[:self.cfg.centroid_terms]
            keep_i.sort()
            u, ws = u[keep_i], ws[keep_i]
        k.ids, k.wts = u.astype(np.int32), ws
        k.n_docs += g.n_docs
        if g.vec is not None:
            k.vec = g.vec.copy() if k.vec is None else k.vec + g.vec
            k.n_vec += g.n_vec
        k.first_seen = min(k.first_seen, g.first_seen)
        k.last_seen = max(k.last_seen, g.last_seen)
        self.alias[gone] = keep
        self._new_alias.append((gone, keep))
        self._dirty_stories[keep] = k
        self._post(k, force=True)
        return keep

    def _emb_score(self, vec, n_vec, st):
        """Embedding similarity of a vector sum (``n_vec`` unit embeddings: a document's or a story's) to a
        story's, like the term score: cosine of the centroids, or the mean pairwise cosine with
        ``score="average"``. None when either has no embedding."""
        if vec is None or st.vec is None:
            return None
        dot = float(vec @ st.vec)
        if self.cfg.score == "centroid":
            n = float(np.linalg.norm(vec)) * float(np.linalg.norm(st.vec))
            return dot / n if n > 0 else None
        return dot / (n_vec * st.n_vec)

    def _penalty(self, years_differ: bool, top_ent, story_ids) -> float:
        """What comes off a story's score for the same kind of event elsewhere: ``year_penalty`` when both
        name years and share none, ``ent_penalty`` x the share of ``top_ent`` the story lacks."""
        penalty = self.cfg.year_penalty if years_differ else 0.0
        if top_ent is not None:
            penalty += self.cfg.ent_penalty * self._missing(top_ent, story_ids)
        return penalty

    def _years_differ(self, a_ids, b_ids, common) -> bool:
        """Both term sets name years (1950-2099) and share none of them."""
        return bool(self.is_year[a_ids].any() and self.is_year[b_ids].any() and not self.is_year[common].any())

    def _top_entities(self, ids, weights):
        """The ``ent_top`` heaviest entity terms of a vector (None when ``ent_penalty`` is off or it has none)."""
        if self.cfg.ent_penalty <= 0:
            return None
        m = self.is_ent[ids]
        if not m.any():
            return None
        return ids[m][np.argsort(-weights[m])[:self.cfg.ent_top]]

    def _missing(self, top_ent, story_ids) -> float:
        """Share of top_ent missing from a story's (sorted) centroid terms; 0 when the story has no entity terms."""
        if not self.is_ent[story_ids].any():
            return 0.0
        i = np.minimum(np.searchsorted(story_ids, top_ent), len(story_ids) - 1)
        return float(np.count_nonzero(story_ids[i] != top_ent)) / len(top_ent)

    def _mix(self, term_score, emb_score):
        """(score, threshold) a story is chosen by: the term score against ``cos_threshold`` when either side
        has no embedding, else the mixed score against ``emb_threshold`` (None when ``emb_min`` refuses it)."""
        cfg = self.cfg
        if emb_score is None or cfg.emb_weight <= 0:
            return term_score, cfg.cos_threshold
        if emb_score < cfg.emb_min:
            return None, 0.0
        return (1.0 - cfg.emb_weight) * term_score + cfg.emb_weight * emb_score, cfg.emb_threshold

    def _similar_story(self, ids, tfw, t, emb=None):
        cfg = self.cfg
        qidf = self._idf(ids)
        q = tfw * qidf
        qn = float(np.linalg.norm(q))
        if qn == 0:
            return None
        q /= qn
        order = np.argsort(-q)[:cfg.query_terms]
        hits = self._candidates(ids[order].tolist(), t)
        if not hits:
            return None
        rare_df = max(cfg.rare_df_min, cfg.rare_df_frac * self.n_seen)
        q_ent = self.is_ent[ids]
        qe_norm = float(np.linalg.norm(q[q_ent]))
        q_years = bool(self.is_year[ids].any())
        top_ent = self._top_entities(ids, q)
        scratch = self._q
        scratch[ids] = q
        best, best_cos = None, -1.0
        try:
            for sid, _ in hits.most_common(cfg.max_candidates):
                st = self.stories[sid]
                c = st.wts * self._idf(st.ids)
                cn = float(np.linalg.norm(c))
                if cn == 0:
                    continue
                qv = scratch[st.ids]
                dot = float(qv @ c)
                cos = dot / (cn if cfg.score == "centroid" else st.n_docs)
                cos, floor = self._mix(cos, self._emb_score(emb, 1, st))
                if cos is not None:
                    y = self.is_year[st.ids]
                    cos -= self._penalty(q_years and y.any() and not (qv[y] > 0).any(), top_ent, st.ids)
                if cos is None or cos <= best_cos or cos < floor or dot / st.n_docs < cfg.avg_min:
                    continue
                if cfg.ent_min_cos > 0 and qe_norm > 0:
                    m = self.is_ent[st.ids]
                    ce = float(np.linalg.norm(c[m]))
                    if ce == 0 or float(qv[m] @ c[m]) / (ce * qe_norm) < cfg.ent_min_cos:
                        continue
                if cfg.min_shared:
                    shared = int(np.count_nonzero((qv > 0) & (self.df[st.ids] <= rare_df)))
                    if shared < cfg.min_shared:
                        continue
                best, best_cos = sid, cos
        finally:
            scratch[ids] = 0.0
        return best
