"""The database schema: every table declared once, as a list of columns, and the migrations made from it.

A column names the schema version that added it. Migration N creates the tables that version N added
(with the columns they had then), adds the columns version N added to older tables, and creates version N's
indexes; the Arrow schema a batch is written with comes from the same list. ``schema_version`` records the
versions applied, so an older file is brought up to date (every missing version, in order) when opened.
Views are recreated after every migration from ``VIEWS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

ARROW_TYPES = {
    "VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("us"), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR[]": pa.list_(pa.string()), "BLOB": pa.binary(),
    "DATE": pa.date32(), "FLOAT[]": pa.list_(pa.float32()), "UINTEGER[]": pa.list_(pa.uint32()),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    constraint: str = ""  # NOT NULL, DEFAULT ..., PRIMARY KEY
    since: int = 0  # 0: the version that created the table


@dataclass(frozen=True)
class Table:
    name: str
    since: int
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # a PRIMARY KEY over several columns
    indexes: tuple[str, ...] = ()  # indexed columns (one index each)
    index_since: int = 0

    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def arrow(self, names: tuple[str, ...] | None = None) -> pa.Schema:
        """The Arrow schema of rows written to this table (of ``names`` only, when given)."""
        by_name = {c.name: c for c in self.columns}
        return pa.schema([(n, ARROW_TYPES[by_name[n].type]) for n in (names or self.column_names())])


def _cols(spec: str, since: int = 0) -> tuple[Column, ...]:
    """Columns from lines of ``name TYPE [constraint]``."""
    columns = []
    for line in filter(str.strip, spec.splitlines()):
        name, kind, *rest = line.split(maxsplit=2)
        columns.append(Column(name, kind, rest[0] if rest else "", since))
    return tuple(columns)


# The counts of an engagement snapshot: every snapshot in ``engagement``, the latest in ``engagement_current``.
ENGAGEMENT_COUNTS = """
    likes       BIGINT
    reposts     BIGINT
    replies     BIGINT
    views       BIGINT
    score       BIGINT
"""

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("documents", 1, "documents, entities, crawl runs, filtered URLs and errors", _cols("""
        id            VARCHAR PRIMARY KEY
        url           VARCHAR NOT NULL
        source        VARCHAR NOT NULL
        source_kind   VARCHAR NOT NULL
        kind          VARCHAR NOT NULL
        title         VARCHAR
        summary       VARCHAR
        text          VARCHAR
        text_source   VARCHAR
        author        VARCHAR
        site          VARCHAR
        published_at  TIMESTAMP
        fetched_at    TIMESTAMP NOT NULL
        lang          VARCHAR
        analysed      BOOLEAN NOT NULL DEFAULT FALSE
        relevance     VARCHAR
        matched_terms VARCHAR[]
        word_count    INTEGER
        found_via     VARCHAR
        run_id        VARCHAR
    """) + _cols("""
        stance            VARCHAR
        stance_score      DOUBLE
        stance_confidence DOUBLE
        stance_evidence   VARCHAR[]
        nlp_version       VARCHAR
    """, since=3) + _cols("""
        platform      VARCHAR
        platform_id   VARCHAR
        parent_id     VARCHAR
    """, since=5) + _cols("story_id BIGINT", since=6) + _cols("day DATE", since=8)),
    Table("entities", 1, "", _cols("""
        doc_id     VARCHAR NOT NULL
        text       VARCHAR NOT NULL
        label      VARCHAR NOT NULL
        norm       VARCHAR NOT NULL
        start_char INTEGER NOT NULL
        end_char   INTEGER NOT NULL
    """), indexes=("doc_id",)),
    Table("crawl_runs", 1, "", _cols("""
        run_id      VARCHAR NOT NULL
        source      VARCHAR NOT NULL
        source_kind VARCHAR NOT NULL
        started_at  TIMESTAMP NOT NULL
        finished_at TIMESTAMP
        status      VARCHAR NOT NULL
        fetched     INTEGER NOT NULL DEFAULT 0
        new         INTEGER NOT NULL DEFAULT 0
        duplicates  INTEGER NOT NULL DEFAULT 0
        filtered    INTEGER NOT NULL DEFAULT 0
        errors      INTEGER NOT NULL DEFAULT 0
        seconds     DOUBLE
    """), key=("run_id", "source")),
    Table("filtered", 1, "", _cols("""
        id      VARCHAR PRIMARY KEY
        url     VARCHAR NOT NULL
        source  VARCHAR NOT NULL
        reason  VARCHAR NOT NULL
        seen_at TIMESTAMP NOT NULL
        run_id  VARCHAR
    """) + _cols("text_source VARCHAR", since=2)),
    Table("errors", 1, "", _cols("""
        run_id      VARCHAR NOT NULL
        source      VARCHAR NOT NULL
        url         VARCHAR
        reason      VARCHAR NOT NULL
        occurred_at TIMESTAMP NOT NULL
    """)),
    Table("url_aliases", 2, "url_aliases (links that led to a page under another URL); filtered.text_source", _cols("""
        alias_id VARCHAR PRIMARY KEY
        doc_id   VARCHAR NOT NULL
        url      VARCHAR NOT NULL
    """)),
    Table("frames", 3, "stance of each document (documents.stance*, nlp_version), frames and actors", _cols("""
        doc_id     VARCHAR NOT NULL
        frame      VARCHAR NOT NULL
        stance     VARCHAR NOT NULL
        score      DOUBLE NOT NULL
        confidence DOUBLE
    """) + _cols("day DATE", since=10), indexes=("doc_id",)),
    Table("actors", 3, "", _cols("""
        doc_id   VARCHAR NOT NULL
        actor    VARCHAR NOT NULL
        label    VARCHAR NOT NULL
        stance   VARCHAR NOT NULL
        score    DOUBLE NOT NULL
        evidence VARCHAR
    """), indexes=("doc_id",)),
    Table("schedule", 4, "schedule (the daemon's jobs and each source's health); http_validators (conditional requests)",
          _cols("""
        source        VARCHAR PRIMARY KEY
        every         VARCHAR
        next_run_at   TIMESTAMP
        failures      INTEGER NOT NULL DEFAULT 0
        paused_reason VARCHAR
        job_state     BLOB
        updated_at    TIMESTAMP
    """)),
    Table("http_validators", 4, "", _cols("""
        url           VARCHAR PRIMARY KEY
        source        VARCHAR
        etag          VARCHAR
        last_modified VARCHAR
        checked_at    TIMESTAMP NOT NULL
    """)),
    Table("engagement", 5, "social platforms: documents.platform, platform_id, parent_id; engagement snapshots; "
          "crawl_state; pseudonym_key", _cols("""
        doc_id      VARCHAR NOT NULL
        observed_at TIMESTAMP NOT NULL
    """ + ENGAGEMENT_COUNTS + """
        run_id      VARCHAR NOT NULL
    """), key=("doc_id", "run_id")),
    Table("crawl_state", 5, "", _cols("""
        source     VARCHAR NOT NULL
        query      VARCHAR NOT NULL
        cursor     VARCHAR
        newest_id  VARCHAR
        newest_at  TIMESTAMP
        updated_at TIMESTAMP NOT NULL
    """), key=("source", "query")),
    Table("pseudonym_key", 5, "", _cols("""
        key        VARCHAR NOT NULL
        created_at TIMESTAMP NOT NULL
    """)),
    Table("stories", 6, "stories: documents.story_id, the stories table and the story index's state; alerts sent",
          _cols("""
        story_id     BIGINT PRIMARY KEY
        title        VARCHAR
        first_seen   TIMESTAMP
        first_outlet VARCHAR
        first_url    VARCHAR
        last_seen    TIMESTAMP
        documents    INTEGER NOT NULL DEFAULT 0
        outlets      INTEGER NOT NULL DEFAULT 0
        outlet_names VARCHAR[]
        languages    VARCHAR[]
        favor        INTEGER NOT NULL DEFAULT 0
        against      INTEGER NOT NULL DEFAULT 0
        neutral      INTEGER NOT NULL DEFAULT 0
        scored       INTEGER NOT NULL DEFAULT 0
        mean_stance  DOUBLE
        frames       VARCHAR[]
        spread_hours DOUBLE
        updated_at   TIMESTAMP
    """)),
    Table("story_centroids", 6, "", _cols("""
        story_id   BIGINT PRIMARY KEY
        first_seen DOUBLE NOT NULL
        last_seen  DOUBLE NOT NULL
        n_docs     INTEGER NOT NULL
        terms      VARCHAR[]
        weights    FLOAT[]
    """) + _cols("""
        vector     FLOAT[]
        n_vector   INTEGER
    """, since=11)),
    Table("story_docs", 6, "", _cols("""
        doc_id       VARCHAR PRIMARY KEY
        story_id     BIGINT NOT NULL
        published_at DOUBLE NOT NULL
        n_shingles   INTEGER NOT NULL
        minhash      UINTEGER[]
        url          VARCHAR
    """)),
    Table("story_terms", 6, "", _cols("""
        term VARCHAR PRIMARY KEY
        df   INTEGER NOT NULL
    """)),
    Table("story_aliases", 6, "", _cols("""
        merged_story_id BIGINT PRIMARY KEY
        into_story_id   BIGINT NOT NULL
    """)),
    Table("story_meta", 6, "", _cols("""
        n_docs_seen   BIGINT NOT NULL
        next_story_id BIGINT NOT NULL
        clock         DOUBLE NOT NULL
        config        VARCHAR NOT NULL
        generation    BIGINT NOT NULL
    """)),
    Table("alerts", 6, "", _cols("""
        spike_id VARCHAR NOT NULL
        channel  VARCHAR NOT NULL
        sent_at  TIMESTAMP NOT NULL
        message  VARCHAR
    """), key=("spike_id", "channel")),
    Table("corrections", 7, "corrections: an analyst's stance and frames of a document, winning over the model's",
          _cols("""
        doc_id       VARCHAR NOT NULL
        stance       VARCHAR
        frames       VARCHAR[]
        note         VARCHAR
        corrected_at TIMESTAMP NOT NULL
    """), key=("doc_id",)),
    Table("timeline_daily", 8, "at scale: documents.day; the daily aggregates timeline and frame_timeline read; "
          "engagement_current", _cols("""
        day                DATE NOT NULL
        source             VARCHAR NOT NULL
        documents          BIGINT NOT NULL
        stories            BIGINT NOT NULL
        articles           BIGINT NOT NULL
        posts              BIGINT NOT NULL
        comments           BIGINT NOT NULL
        videos             BIGINT NOT NULL
        sites              BIGINT NOT NULL
        likes              BIGINT NOT NULL
        reposts            BIGINT NOT NULL
        replies            BIGINT NOT NULL
        weighted_documents BIGINT NOT NULL
        favor              BIGINT NOT NULL
        against            BIGINT NOT NULL
        neutral            BIGINT NOT NULL
        mean_stance        DOUBLE
        controversy        DOUBLE
    """)),
    Table("frame_daily", 8, "", _cols("""
        day         DATE NOT NULL
        frame       VARCHAR NOT NULL
        documents   BIGINT NOT NULL
        favor       BIGINT NOT NULL
        against     BIGINT NOT NULL
        neutral     BIGINT NOT NULL
        mean_stance DOUBLE
        controversy DOUBLE
    """)),
    Table("engagement_current", 8, "", _cols("""
        doc_id      VARCHAR PRIMARY KEY
        observed_at TIMESTAMP NOT NULL
    """ + ENGAGEMENT_COUNTS) + _cols("day DATE", since=10)),
    Table("stream_loads", 9, "several machines: the item-stream messages `seedtrack load` committed", _cols("""
        message_id VARCHAR PRIMARY KEY
        stream_id  VARCHAR
        worker     VARCHAR
        row_count  BIGINT
        loaded_at  TIMESTAMP NOT NULL
    """)),
)}

# Tables of rows derived from a document's text by the NLP stage: replaced whenever the document is.
DERIVED = ("entities", "frames", "actors")
# The documents columns the NLP stage sets (``replace_analysis`` updates them).
ANALYSIS_COLUMNS = ("id", "analysed", "stance", "stance_score", "stance_confidence", "stance_evidence", "nlp_version")


def _create(table: Table) -> str:
    lines = [f"{c.name} {c.type} {c.constraint}".rstrip() for c in table.columns if c.since in (0, table.since)]
    if table.key:
        lines.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE {table.name} (\n    " + ",\n    ".join(lines) + "\n)"


def _migrations() -> list[tuple[int, str, list[str]]]:
    versions = sorted({t.since for t in TABLES.values()} | {c.since for t in TABLES.values() for c in t.columns} - {0})
    migrations = []
    for version in versions:
        statements, titles = [], []
        for table in TABLES.values():
            if table.since == version:
                statements.append(_create(table))
                statements += [f"CREATE INDEX {table.name}_{column.split('_')[0]} ON {table.name} ({column})"
                               for column in table.indexes]
                titles.append(table.title)
            statements += [f"ALTER TABLE {table.name} ADD COLUMN {c.name} {c.type} {c.constraint}".rstrip()
                           for c in table.columns if c.since == version and table.since != version]
        migrations.append((version, next(t for t in titles if t) if any(titles) else "", statements))
    return migrations


MIGRATIONS: list[tuple[int, str, list[str]]] = _migrations()
LATEST_VERSION = max(version for version, _title, _statements in MIGRATIONS)

VIEWS: dict[str, str] = {
    "engagement_latest": "SELECT doc_id, observed_at, likes, reposts, replies, views, score FROM engagement_current",
    "timeline": f"SELECT {', '.join(TABLES['timeline_daily'].column_names())} FROM timeline_daily ORDER BY day, source",
    "frame_timeline": f"SELECT {', '.join(TABLES['frame_daily'].column_names())} FROM frame_daily ORDER BY day, frame",
}

from crawler.storage.alerts import SPIKES_SQL  # noqa: E402 (the view's SQL lives beside its rules)

VIEWS["spikes"] = SPIKES_SQL

from crawler.storage.daily import BACKFILL, BACKFILL_DAYS  # noqa: E402

# Statements that fill what a version added from an older file's rows, run once after its migrations.
BACKFILLS: dict[int, tuple[str, ...]] = {8: BACKFILL, 10: BACKFILL_DAYS}
