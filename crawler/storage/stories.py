"""Stories in the database: the story index's state, new documents assigned to stories, the ``stories`` table.

A crawl batch's transaction calls ``assign`` before its documents are inserted (each row gets its
``story_id``) and ``update`` after (the touched rows of ``stories`` are brought up to date from the batch's
new documents alone). The index itself (``crawler.stories.StoryIndex``) is kept in memory per database file
between batches and reloaded, from the state of the last window only, when another process wrote the file
since (``story_meta.generation``): no batch reads the whole database. When the settings use sentence
embeddings (``StoryConfig.emb_weight``), each document clustered by its text is embedded here, at store time,
by the shipped encoder (``crawler.stories.encoder``, loaded once a process); the stories' embedding sums are kept
in ``story_centroids.vector``. Comments join the story of the post
they reply to; a post whose links lead to a stored article joins that article's story. ``restory`` clusters
every stored document again, in time order.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Sequence

import pyarrow as pa

from crawler.storage.schema import TABLES
from crawler.stories import StoryConfig, StoryIndex
from crawler.stories.config import NO_PENALTY

ENTITY_LABELS = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_CACHE: dict[str, tuple[int, StoryIndex]] = {}  # database file -> (generation it wrote, its index)
_ENCODER: list = []  # the StoryEncoder, loaded on first use

_ARROW = {name: TABLES[name].arrow() for name in ("story_centroids", "story_docs", "story_terms", "story_aliases")}
STORY_COLUMNS = ("story_id", "title", "first_seen", "first_outlet", "first_url", "last_seen", "documents", "outlets",
                 "outlet_names", "languages", "favor", "against", "neutral", "scored", "mean_stance", "frames",
                 "spread_hours", "updated_at")
_TEXTS, _COUNT = pa.list_(pa.string()), pa.int32()
STORY_ARROW = pa.schema([
    ("story_id", pa.int64()), ("title", pa.string()), ("first_seen", pa.timestamp("us")), ("first_outlet", pa.string()),
    ("first_url", pa.string()), ("last_seen", pa.timestamp("us")), ("documents", _COUNT), ("outlets", _COUNT),
    ("outlet_names", _TEXTS), ("languages", _TEXTS), ("favor", _COUNT), ("against", _COUNT), ("neutral", _COUNT),
    ("scored", _COUNT), ("mean_stance", pa.float64()), ("frames", _TEXTS), ("spread_hours", pa.float64()),
    ("updated_at", pa.timestamp("us"))])


def _config(stored: dict | None = None) -> StoryConfig:
    """The StoryConfig of a database's stored settings (None: the defaults)."""
    known = {f.name for f in dataclasses.fields(StoryConfig)}
    settings = {k: v for k, v in (stored or {}).items() if k in known}
    if stored is not None:  # stored before the penalties existed: it goes on as it was built until restory
        settings = {**NO_PENALTY, **settings}
    return StoryConfig(**settings)


def uses_embeddings(con) -> bool:
    """Whether the database's stories are clustered with sentence embeddings (``restory --embeddings``)."""
    meta = _generation(con)[1]
    return meta is not None and _config(json.loads(meta[3])).emb_weight > 0


def _path(con) -> str:
    return con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]


def _generation(con) -> tuple[int, tuple | None]:
    meta = next(iter(con.execute("SELECT n_docs_seen, next_story_id, clock, config, generation FROM story_meta").fetchall()), None)
    return (meta[4] if meta else 0), meta


def _embedding(ix: StoryIndex, doc: dict[str, Any]):
    """The document's sentence embedding when the settings use one, else None."""
    if ix.cfg.emb_weight <= 0:
        return None
    if not _ENCODER:
        from crawler.stories.encoder import StoryEncoder

        _ENCODER.append(StoryEncoder())
    return _ENCODER[0].embed([(doc.get("title") or "", doc.get("text") or doc.get("summary") or "")])[0]


def _load(con, meta) -> StoryIndex:
    if meta is None:
        return StoryIndex(_config())
    config = _config(json.loads(meta[3]))
    since = meta[2] - config.window_days * 86400.0
    rows = {
        "story_meta": {"n_docs_seen": meta[0], "next_story_id": meta[1], "clock": meta[2]},
        "story_term": con.execute("SELECT term, df FROM story_terms").fetchall(),
        "story_alias": con.execute("SELECT merged_story_id, into_story_id FROM story_aliases").fetchall(),
        "story": con.execute("SELECT story_id, first_seen, last_seen, n_docs, terms, weights, vector, n_vector FROM story_centroids "
                             "WHERE last_seen >= ?", [since]).fetchall(),
        "story_doc": con.execute("SELECT doc_id, story_id, published_at, n_shingles, minhash, url FROM story_docs "
                                 "WHERE published_at >= ?", [since]).fetchall(),
    }
    return StoryIndex.load_recent(rows, config=config)


def _index(con) -> tuple[StoryIndex, int]:
    key = _path(con)
    generation, meta = _generation(con)
    cached = _CACHE.get(key)
    if cached is None or cached[0] != generation:
        cached = (generation, _load(con, meta))
    return cached[1], generation


def _upsert(con, table: str, rows: Sequence[tuple]) -> None:
    if not rows:
        return
    schema = _ARROW[table]
    con.register("story_rows", pa.Table.from_pylist([dict(zip(schema.names, r)) for r in rows], schema=schema))
    con.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM story_rows").fetchall()
    con.unregister("story_rows")


class _Changes:
    """State rows changed while clustering, latest version of each, written in one go."""

    def __init__(self):
        self.stories: dict[int, tuple] = {}
        self.docs: list[tuple] = []
        self.terms: dict[str, int] = {}
        self.aliases: list[tuple] = []
        self.meta: dict = {}

    def take(self, ix: StoryIndex) -> None:
        changes = ix.pop_changes()
        self.stories.update((row[0], row) for row in changes["story"])
        self.docs += changes["story_doc"]
        self.terms.update(changes["story_term"])
        self.aliases += changes["story_alias"]
        self.meta = changes["story_meta"]

    def write(self, con, generation: int) -> None:
        _upsert(con, "story_centroids", list(self.stories.values()))
        _upsert(con, "story_docs", self.docs)
        _upsert(con, "story_terms", list(self.terms.items()))
        _upsert(con, "story_aliases", self.aliases)
        for gone, into in self.aliases:
            con.execute("UPDATE documents SET story_id = ? WHERE story_id = ?", [into, gone]).fetchall()
            con.execute("UPDATE story_docs SET story_id = ? WHERE story_id = ?", [into, gone]).fetchall()
            con.execute("DELETE FROM story_centroids WHERE story_id = ?", [gone]).fetchall()
            con.execute("DELETE FROM stories WHERE story_id = ?", [gone]).fetchall()
        con.execute("DELETE FROM story_meta").fetchall()
        m = self.meta
        con.execute("INSERT INTO story_meta VALUES (?, ?, ?, ?, ?)",
                    [m["n_docs_seen"], m["next_story_id"], m["clock"], json.dumps(m["config"]), generation]).fetchall()


def _when(doc: dict[str, Any]):
    return doc.get("published_at") or doc.get("fetched_at")


def _cluster(ix: StoryIndex, docs: Sequence[dict[str, Any]], ents: dict[str, list[str]], lookup) -> dict[str, int]:
    """The stories of new documents (in time order): a comment's thread's, a post's linked article's, else the
    index's, which clusters the rest together (``StoryIndex.add_batch``)."""
    stories_of: dict[str, int] = {}
    texts, replies = [], []                 # clustered by their text; comments on an earlier one of them
    earlier: set[str] = set()
    for doc in docs:
        earlier.add(doc["id"])
        if doc.get("kind") == "comment" and doc.get("parent_id"):
            parent = stories_of.get(doc["parent_id"]) or ix.story_of(doc["parent_id"]) or lookup(doc["parent_id"])
            if parent:
                stories_of[doc["id"]] = parent
                continue
            if doc["parent_id"] in earlier:
                replies.append(doc)
                continue
        if doc.get("kind") == "post":
            sid = ix.add_post(doc["id"], _URL.findall(doc.get("text") or ""), _when(doc))
            if sid is not None:
                stories_of[doc["id"]] = sid
                continue
        texts.append(doc)
    batch = [{"doc_id": d["id"], "text": d.get("text") or d.get("summary") or "", "title": d.get("title") or "",
              "published_at": _when(d), "outlet": d.get("site"), "entities": list(ents.get(d["id"], ())),
              "url": d.get("url"), "embedding": _embedding(ix, d)} for d in texts]
    stories_of.update(zip((d["id"] for d in texts), ix.add_batch(batch)))
    for doc in replies:                     # in time order: a reply to a reply finds its parent's story
        stories_of[doc["id"]] = stories_of[doc["parent_id"]]
    return stories_of


def _parent_lookup(con):
    def lookup(doc_id: str) -> int | None:
        row = next(iter(con.execute("SELECT story_id FROM documents WHERE id = ?", [doc_id]).fetchall()), None)
        return row[0] if row else None
    return lookup


def assign(con, documents: Sequence[dict[str, Any]], entities: Sequence[dict[str, Any]] = ()) -> set[str]:
    """Give each document row its ``story_id`` (in place); returns the ids clustered for the first time."""
    if not documents:
        return set()
    ids = [d["id"] for d in documents]
    known = dict(con.execute("SELECT doc_id, story_id FROM story_docs WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                             [ids]).fetchall())
    ents: dict[str, list[str]] = {}
    for e in entities:
        if e.get("label") in ENTITY_LABELS:
            ents.setdefault(e["doc_id"], []).append(e["text"])
    ix, generation = _index(con)
    changes = _Changes()
    new = [d for d in sorted(documents, key=lambda d: (str(_when(d)), d["id"])) if d["id"] not in known]
    stories_of = {**known, **_cluster(ix, new, ents, _parent_lookup(con))}
    for doc in documents:
        doc["story_id"] = stories_of[doc["id"]]
    changes.take(ix)
    changes.write(con, generation + 1)
    _CACHE[_path(con)] = (generation + 1, ix)
    return {d["id"] for d in new}


def update(con, documents: Sequence[dict[str, Any]], frames: Sequence[dict[str, Any]] = ()) -> None:
    """Fold new documents (rows with ``story_id``) into their ``stories`` rows."""
    documents = [d for d in documents if d.get("story_id") is not None]
    if not documents:
        return
    touched = sorted({d["story_id"] for d in documents})
    cursor = con.execute(f"SELECT {', '.join(STORY_COLUMNS)} FROM stories "
                         "WHERE story_id IN (SELECT unnest(?::BIGINT[]))", [touched])
    current = {row[0]: dict(zip(STORY_COLUMNS, row)) for row in cursor.fetchall()}
    doc_frames: dict[str, set[str]] = {}
    for f in frames:
        doc_frames.setdefault(f["doc_id"], set()).add(f["frame"])
    for doc in sorted(documents, key=lambda d: (str(_when(d)), d["id"])):
        s = current.setdefault(doc["story_id"], {
            "story_id": doc["story_id"], "title": None, "first_seen": None, "first_outlet": None, "first_url": None,
            "last_seen": None, "documents": 0, "outlet_names": [], "languages": [], "favor": 0, "against": 0,
            "neutral": 0, "scored": 0, "mean_stance": None, "frames": []})
        when = _when(doc)
        if s["first_seen"] is None or when < s["first_seen"]:
            s["first_seen"], s["first_outlet"], s["first_url"] = when, doc.get("site") or doc.get("source"), doc["url"]
            s["title"] = doc.get("title") or s["title"]
        elif not s["title"]:
            s["title"] = doc.get("title")
        s["last_seen"] = max(s["last_seen"] or when, when)
        s["documents"] += 1
        for key, value in (("outlet_names", doc.get("site") or doc.get("source")), ("languages", doc.get("lang"))):
            if value and value not in s[key]:
                s[key] = sorted([*s[key], value])
        if doc.get("stance") in ("favor", "against", "neutral"):
            s[doc["stance"]] += 1
        if doc.get("stance_score") is not None:
            s["mean_stance"] = ((s["mean_stance"] or 0.0) * s["scored"] + doc["stance_score"]) / (s["scored"] + 1)
            s["scored"] += 1
        s["frames"] = sorted(set(s["frames"] or []) | doc_frames.get(doc["id"], set()))
    for s in current.values():
        s["outlets"] = len(s["outlet_names"])
        s["spread_hours"] = round((s["last_seen"] - s["first_seen"]).total_seconds() / 3600, 2)
        s["updated_at"] = None
    con.register("story_rows", pa.Table.from_pylist([{c: s.get(c) for c in STORY_COLUMNS} for s in current.values()],
                                                    schema=STORY_ARROW))
    con.execute(f"INSERT OR REPLACE INTO stories SELECT * REPLACE (now()::TIMESTAMP AS updated_at) FROM story_rows"
                ).fetchall()
    con.unregister("story_rows")


def restory(con, config: StoryConfig | None = None) -> tuple[int, int]:
    """Cluster every stored document again, in time order; returns (documents, stories)."""
    cursor = con.execute("SELECT id, kind, title, text, summary, url, site, source, lang, published_at, fetched_at, "
                         "parent_id, stance, stance_score FROM documents ORDER BY COALESCE(published_at, fetched_at), id")
    names = [d[0] for d in cursor.description]
    docs = [dict(zip(names, row)) for row in cursor.fetchall()]
    ents = dict(con.execute("SELECT doc_id, list(text ORDER BY start_char) FROM entities WHERE label IN "
                            "(SELECT unnest(?::VARCHAR[])) GROUP BY doc_id", [list(ENTITY_LABELS)]).fetchall())
    frames = [{"doc_id": d, "frame": f} for d, f in con.execute("SELECT doc_id, frame FROM frames").fetchall()]
    generation = _generation(con)[0] + 1
    for table in ("stories", "story_centroids", "story_docs", "story_terms", "story_aliases", "story_meta"):
        con.execute(f"DELETE FROM {table}").fetchall()
    ix, changes = StoryIndex(config or _config()), _Changes()
    stories_of = _cluster(ix, docs, ents, lambda _id: None)
    changes.take(ix)
    resolved = {d["id"]: ix.resolve(stories_of[d["id"]]) for d in docs}
    for doc in docs:
        doc["story_id"] = resolved[doc["id"]]
    changes.aliases = []  # resolved above
    if docs:
        changes.write(con, generation)
        con.register("story_map", pa.table({"id": list(resolved), "story_id": pa.array(list(resolved.values()),
                                                                                        pa.int64())}))
        con.execute("UPDATE documents SET story_id = m.story_id FROM story_map m WHERE documents.id = m.id").fetchall()
        con.unregister("story_map")
        update(con, docs, frames)
    _CACHE.pop(_path(con), None)
    return len(docs), len(set(resolved.values()))
