"""Per-batch story clustering: ``average_link``, and ``StoryIndex.add_batch``, which groups the documents of one
store batch among themselves (average-link on the join score, penalties included) before each group joins a
story or starts one."""

from __future__ import annotations

from collections import Counter

import numpy as np


def average_link(S: np.ndarray, t: float, size=None, fixed: int = 0) -> np.ndarray:
    """Labels of average-link agglomerative clustering, merging while the best average similarity >= t.

    S: similarities of single items, or with ``size`` (items in each starting cluster) the sums of the
    similarities between the starting clusters; the first ``fixed`` starting clusters never merge with each
    other (stories already stored: only the new items join them)."""
    n = len(S)
    M = S.astype(np.float64).copy()          # sum of similarities between clusters
    np.fill_diagonal(M, 0)
    size = np.ones(n) if size is None else np.asarray(size, np.float64).copy()
    active = np.ones(n, bool)
    A = M / np.outer(size, size)
    np.fill_diagonal(A, -np.inf)
    A[:fixed, :fixed] = -np.inf
    labels = np.arange(n)
    while n > 1:
        k = int(np.argmax(A))
        i, j = divmod(k, n)                  # i < j: A is symmetric and argmax takes the first
        if A[i, j] < t:
            break
        M[i, :] += M[j, :]
        M[:, i] = M[i, :]
        M[i, i] = 0
        size[i] += size[j]
        active[j] = False
        labels[labels == j] = i
        A[j, :] = -np.inf
        A[:, j] = -np.inf
        row = np.where(active, M[i, :] / (size[i] * size), -np.inf)
        row[i] = -np.inf
        if i < fixed:
            row[:fixed] = -np.inf
        A[i, :] = row
        A[:, i] = row
    return labels


class BatchMixin:
    def add_batch(self, docs) -> list[int]:
        """Stories of a batch of documents (dicts of ``add``'s keyword arguments), clustered together.

        The stories stored in the window that match any of the batch's documents (each document's
        ``batch_candidates`` best by the term index, as in ``add``) and the documents are clustered by average
        link on the term cosine minus the year and entity penalties, stopped below ``batch_threshold``: documents
        join a story or each other, and stories that end in one group merge (``batch_merge``; else they never
        merge with each other); a group without a story starts one.
        A near-duplicate (of a stored document or of another in the batch) is put with it first. The batch's
        documents count in the IDF they are compared with. At most ``batch_max`` documents are clustered
        together, so the cost per document stays flat. With ``batch_threshold`` 0 (the default) or embeddings
        (``emb_weight``) the documents are added one by one (``add``)."""
        if self.cfg.batch_threshold <= 0 or self.cfg.emb_weight > 0:
            return [self.add(d["doc_id"], d.get("text", ""), d.get("title", ""), d.get("published_at"), d.get("outlet"),
                             d.get("entities", ()), d.get("url"), d.get("embedding")) for d in docs]
        out: dict[str, int] = {}
        fresh = []
        for d in docs:
            did = d["doc_id"]
            if did in self.docs:
                out[did] = self.docs[did].story
            elif did not in out:
                out[did] = None
                fresh.append(d)
        for lo in range(0, len(fresh), self.cfg.batch_max):
            out.update(self._cluster_batch(fresh[lo:lo + self.cfg.batch_max]))
        return [out[d["doc_id"]] for d in docs]

    def _cluster_batch(self, docs) -> dict[str, int]:
        cfg = self.cfg
        news = [self._prepare(d["doc_id"], d.get("text", ""), d.get("title", ""), d.get("published_at"),
                              d.get("entities", ()), d.get("url"), d.get("embedding")) for d in docs]
        for new in news:
            if len(new.ids):
                self.df[new.ids] += 1
        self.n_seen += len(news)
        for new in news:
            new.unit(self)
        sids = self._reachable(self._batch_candidates(news), news)
        k, n = len(sids), len(news)
        nodes = [(self.stories[sid].ids, self.stories[sid].wts, self.stories[sid].n_docs) for sid in sids]
        nodes += [(new.ids, new.tfw, 1) for new in news]
        S, size = self._node_scores(nodes)
        t = np.array([new.t for new in news])
        S[k:, k:][np.abs(t[:, None] - t[None, :]) > self.window] = -1.0
        self._force_duplicates(S, size, sids, news)
        labels = average_link(S, cfg.batch_threshold, size, fixed=0 if cfg.batch_merge else k)
        story_of: dict[int, int] = {}        # cluster label -> its story (stories in one cluster merged)
        for r, sid in enumerate(sids):
            lab = int(labels[r])
            if lab in story_of:
                story_of[lab] = self._merge(story_of[lab], sid)
                self.stage_counts["merge"] += 1
            else:
                story_of[lab] = sid
        out = {}
        for i in sorted(range(n), key=lambda i: news[i].t):
            lab, new = int(labels[k + i]), news[i]
            sid = self.resolve(new.dup) if new.dup is not None else story_of.get(lab)
            if new.dup is None and sid is not None:   # a new story is counted as one by _commit
                self.stage_counts["similar" if lab < k else "batch"] += 1
            out[new.doc_id] = self._commit(new, sid, counted=True)
            story_of.setdefault(lab, out[new.doc_id])
        return out

    def _batch_candidates(self, news) -> list[int]:
        """Stories in the window that a document of the batch could join (its near-duplicate's, and the
        ``batch_candidates`` with most hits in the term index for its ``query_terms`` heaviest terms)."""
        cfg = self.cfg
        out = {}
        for new in news:
            if new.dup is not None:
                out[new.dup] = None
            if not len(new.ids):
                continue
            q = new.tfw * self._idf(new.ids)
            hits = self._candidates(new.ids[np.argsort(-q)[:cfg.query_terms]].tolist(), new.t)
            for sid, _ in hits.most_common(cfg.batch_candidates):
                out[sid] = None
        return list(out)

    def _reachable(self, sids, news) -> list[int]:
        """The candidate stories a document of the batch could join: a near-duplicate's, or one whose mean
        cosine with a document (before the penalties, which only lower it) reaches ``batch_threshold``."""
        dups = {new.dup for new in news}
        with_terms = [new for new in news if len(new.ids)]
        if not with_terms:
            return [sid for sid in sids if sid in dups]
        u, inv = np.unique(np.concatenate([new.ids for new in with_terms]), return_inverse=True)
        X = np.zeros((len(with_terms), len(u)), np.float32)
        X[np.repeat(np.arange(len(with_terms)), [len(new.ids) for new in with_terms]), inv] = np.concatenate(
            [new.tfw * self._idf(new.ids) for new in with_terms])
        out = []
        for sid in sids:
            st = self.stories[sid]
            pos = np.minimum(np.searchsorted(u, st.ids), len(u) - 1)
            hit = u[pos] == st.ids
            if sid in dups or (hit.any() and float((X[:, pos[hit]] @ (st.wts[hit] * self._idf(st.ids[hit]))).max())
                               >= self.cfg.batch_threshold * st.n_docs):
                out.append(sid)
        return out

    def _node_scores(self, nodes):
        """(sums of the pairwise join scores between nodes, their sizes). A node is a story (its centroid: a sum
        of n_docs unit vectors) or a document (n_docs 1), given as (term ids, IDF-free weights, n_docs); the
        score of two documents is their cosine minus the year penalty (both name years, none shared) and the
        entity penalty (the share of one's ``ent_top`` heaviest entity terms the other lacks, both ways
        averaged); a node pair's is the dot of their vectors minus n_a x n_b times those penalties."""
        cfg = self.cfg
        N = len(nodes)
        size = np.array([float(m) for _, _, m in nodes])
        if not N:
            return np.zeros((0, 0)), size
        vecs = [w * self._idf(ids) for ids, w, _ in nodes]
        tops = [self._top_entities(ids, v) for (ids, _, _), v in zip(nodes, vecs)]
        has_y = np.array([bool(self.is_year[ids].any()) for ids, _, _ in nodes])
        has_e = np.array([bool(self.is_ent[ids].any()) for ids, _, _ in nodes])
        n_top = np.array([0 if top is None else len(top) for top in tops], np.float64)
        # only terms in two nodes or more can be shared
        all_ids = np.concatenate([ids for ids, _, _ in nodes])
        u, count = np.unique(all_ids, return_counts=True)
        u = u[count >= 2]
        X = np.zeros((N, len(u)), np.float32)
        T = np.zeros((N, len(u)), np.float32)
        for r, ((ids, _, _), v, top) in enumerate(zip(nodes, vecs, tops)):
            pos = np.searchsorted(u, ids)
            ok = (pos < len(u)) & (u[np.minimum(pos, len(u) - 1)] == ids) if len(u) else np.zeros(len(ids), bool)
            X[r, pos[ok]] = v[ok]
            if top is not None and len(u):
                tp = np.searchsorted(u, top)
                tp = tp[(tp < len(u)) & (u[np.minimum(tp, len(u) - 1)] == top)]
                T[r, tp] = 1.0
        P = (X > 0).astype(np.float32)
        S = (X @ X.T).astype(np.float64)
        Y = P[:, self.is_year[u]]
        penalty = cfg.year_penalty * (has_y[:, None] & has_y[None, :] & ((Y @ Y.T) == 0))
        if cfg.ent_penalty > 0:
            miss = np.where((n_top[:, None] > 0) & has_e[None, :], 1.0 - (T @ P.T) / np.maximum(n_top[:, None], 1), 0)
            penalty = penalty + cfg.ent_penalty * (miss + miss.T) / 2
        return S - np.outer(size, size) * penalty, size

    def _force_duplicates(self, S, size, sids, news) -> None:
        """Near-duplicates first: a document with its near-duplicate's story, and near-duplicate documents of
        the batch with each other (a wire copy is always one story)."""
        k = len(sids)
        top = 2.0 * np.maximum(size.max(), 1.0)   # above any average of the rest: merged before anything else
        pos = {sid: r for r, sid in enumerate(sids)}
        for c, new in enumerate(news):
            if new.dup is not None:
                S[pos[new.dup], k + c] = S[k + c, pos[new.dup]] = top * size[pos[new.dup]]
        ok = np.array([new.n_sh >= 3 for new in news])
        if ok.sum() < 2:
            return
        sigs = np.stack([new.sig for new in news])
        n_sh = np.array([new.n_sh for new in news])
        J = (sigs[:, None, :] == sigs[None, :, :]).mean(-1)
        t = np.array([new.t for new in news])
        dup = self._is_dup(J, n_sh[:, None], n_sh[None, :]) & ok[:, None] & ok[None, :]
        dup &= np.abs(t[:, None] - t[None, :]) <= self.window
        np.fill_diagonal(dup, False)
        S[k:, k:][dup] = top
