"""Stories: every stored document gets a ``story_id``.


Every stored document gets a ``story_id``.  ``StoryIndex.add`` assigns one in
two stages; each call only looks at candidates from hash/inverted indexes
restricted to a time window, so its cost does not grow with the database.

1. **Near-duplicates** (wire copies, syndication, updates with other
   boilerplate).  A 64-permutation MinHash (``datasketch``) over 5-word
   shingles of the lowercased text, cut into 32 bands of 2 rows (candidates
   from Jaccard ~0.2 up, so containment copies are found too).  Documents
   sharing a band key with the new one and published within the window are
   checked on their signatures: estimated Jaccard >= ``dup_jaccard`` (0.5) or
   estimated containment of the smaller in the larger >= ``dup_containment``
   (0.7 on the noisy 64-permutation estimate; the smaller needs >= 20
   shingles) puts the new document in that document's story.

2. **Same event, independent write-up.**  A TF-IDF vector of the document:
   sublinear tf ``1 + log tf`` over lowercased, stopword-free, lightly
   lemmatised tokens (title + text), x1.2 for number tokens, x3 for lead
   terms (title + first 60 tokens), plus one extra ``@term`` dimension per
   named-entity token (from ``entities``, e.g. spaCy's NER that the crawler
   already runs; capitalised-inside-a-sentence tokens when none are given).
   IDF is incremental: ``idf = log((N+1)/(max(df,1)+0.5))`` over every
   document added so far, optionally warmed with a background corpus
   (``seed_idf``).  Candidate stories come only from an inverted index
   term -> stories (each story posts its ``post_terms`` heaviest centroid
   terms); the new document queries with its ``query_terms`` heaviest terms,
   each posting list is read from its newest end for at most ``max_scan``
   stories and stops at the first story whose ``last_seen`` is outside the
   window.  The ``max_candidates`` stories with most hits are scored by cosine
   to the story *centroid* (sum of the members' unit tf-idf vectors, kept
   IDF-free and re-weighted by the current IDF when compared, truncated to
   ``centroid_terms`` terms).  Two penalties for the same kind of event
   elsewhere (another incident, other participants) come off the score:
   ``year_penalty`` (0.1) when the document and the centroid both name years
   (1950-2099) and share none, and ``ent_penalty`` (0.1) x the share of the
   document's ``ent_top`` (3) heaviest entity terms that a centroid with entity
   terms lacks.  The document joins the best story if the score >=
   ``cos_threshold`` (0.30) **and** they share >= ``min_shared`` (5)
   rare terms (df <= max(``rare_df_min``, ``rare_df_frac`` * N)); otherwise it
   starts a new story.  Centroid scoring (average-link like) instead of
   nearest member (single link) avoids chaining.  Options measured and left
   off by default: ``score="average"`` (mean cosine to members), ``merge``
   (after a join, merge the story into a similar one: an incremental
   average-link step, recorded as an alias), ``idf_power``, ``ent_min_cos``,
   ``avg_min``.  With ``emb_weight`` > 0 (``config.EMBEDDINGS``; off by
   default) ``add`` also takes the document's unit sentence embedding
   (``crawler.stories.encoder``) and each story keeps the sum of its members'
   (``vec``, ``n_vec``): when both sides have one, the score is
   ``(1 - emb_weight) * cosine + emb_weight * embedding cosine`` against
   ``emb_threshold`` (the rare-term rule and the year penalty, 0.06 there,
   still apply; no entity penalty); a story without one is scored by its
   terms alone.

``add_batch(docs)`` clusters a store batch together instead (``config.BATCH``; off by default:
``batch_threshold`` 0 adds its documents one by one): each document's near-duplicate stage as above,
then average-link over the batch's documents and the stories they match in the window (each document's
``batch_candidates`` best), on the same cosine minus the same penalties, stopped below ``batch_threshold``;
stories that end in one group merge (an alias). At most ``batch_max`` documents at once, so the cost per
document stays flat (``batch.py``).

3. **Posts that only link to an article** join its story by URL:
   ``add_post(post_id, urls)`` (canonicalised URL lookup, no text processing;
   ``None`` when no linked article is known).

Time window: a document joins only stories whose ``last_seen`` is within
``window_days`` (7) of its ``published_at`` (ISO string, ``datetime`` or epoch
seconds; ``None`` = the latest time seen, so an undated corpus is one window).
Documents and stories older than two windows leave memory (``evict=True``).

State as plain rows, one DuckDB table each.  ``pop_changes()`` returns the rows
changed since its last call (write them after each batch); ``to_rows()`` the
whole in-memory state; ``StoryIndex.load_recent(rows)`` rebuilds an index from
the rows of the last window only (``WHERE last_seen >= now - window``):

* ``story``       (story_id BIGINT PRIMARY KEY, first_seen DOUBLE,
                   last_seen DOUBLE, n_docs INT, terms VARCHAR[],
                   weights FLOAT[], vector FLOAT[], n_vector INT) - the centroid as
                   its top 200 terms with IDF-free summed weights, and the sum of
                   its members' sentence embeddings (NULL: none had one); UPSERT
                   on every join.
* ``story_doc``   (doc_id VARCHAR PRIMARY KEY, story_id BIGINT,
                   published_at DOUBLE, n_shingles INT, minhash UINTEGER[64],
                   url VARCHAR) - INSERT once per document.
* ``story_band``  (band_key BIGINT, doc_id VARCHAR) - optional, ``band_keys(
                   minhash)``, only for near-duplicate lookups in SQL; the
                   in-memory index recomputes the keys from ``minhash``.
* ``story_term``  (term VARCHAR PRIMARY KEY, df INT) - UPSERT; the IDF.
* ``story_alias`` (merged_story_id BIGINT, into_story_id BIGINT) - only with
                   ``merge=True``.
* ``story_meta``  (n_docs_seen, next_story_id, clock, config) - one row.

``rebuild(docs)`` ("restory") clusters a whole collection again in
published_at order, e.g. after a change of settings.

Pure Python + numpy + datasketch (no sklearn).

Split into modules from the story-clustering work (stories.py). In seedtrack's database the state tables are
story_centroids, story_docs, story_terms, story_aliases and story_meta (crawler/storage/stories.py, which
clusters each store batch with ``add_batch`` and writes them after it); story_band is not kept.
"""

from __future__ import annotations

from crawler.stories.batch import BatchMixin
from crawler.stories.config import StoryConfig
from crawler.stories.core import StoryIndexCore
from crawler.stories.matching import MatchingMixin
from crawler.stories.persist import RowsMixin
from crawler.stories.signatures import band_keys, minhash
from crawler.stories.text import analyse, canonical_url, to_epoch

__all__ = ["StoryConfig", "StoryIndex", "analyse", "band_keys", "canonical_url", "minhash", "to_epoch"]


class StoryIndex(BatchMixin, RowsMixin, MatchingMixin, StoryIndexCore):
    """Incremental story state; see the package docstring."""
