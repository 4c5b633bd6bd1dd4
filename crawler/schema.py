"""The database schema and its migrations: the one place where tables and views are defined.

Each migration is a list of SQL statements applied in one transaction; ``schema_version`` records the
versions applied, so an older database file is brought up to date when it is opened for writing.
Views are recreated after every migration from ``VIEWS`` so they always match the current tables.
A migration is applied when its version is missing from ``schema_version``, in version order.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "documents, entities, crawl runs, filtered URLs and errors",
        [
            """
            CREATE TABLE documents (
                id            VARCHAR PRIMARY KEY,
                url           VARCHAR NOT NULL,
                source        VARCHAR NOT NULL,
                source_kind   VARCHAR NOT NULL,
                kind          VARCHAR NOT NULL,
                title         VARCHAR,
                summary       VARCHAR,
                text          VARCHAR,
                text_source   VARCHAR,
                author        VARCHAR,
                site          VARCHAR,
                published_at  TIMESTAMP,
                fetched_at    TIMESTAMP NOT NULL,
                lang          VARCHAR,
                analysed      BOOLEAN NOT NULL DEFAULT FALSE,
                relevance     VARCHAR,
                matched_terms VARCHAR[],
                word_count    INTEGER,
                found_via     VARCHAR,
                run_id        VARCHAR
            )
            """,
            """
            CREATE TABLE entities (
                doc_id     VARCHAR NOT NULL,
                text       VARCHAR NOT NULL,
                label      VARCHAR NOT NULL,
                norm       VARCHAR NOT NULL,
                start_char INTEGER NOT NULL,
                end_char   INTEGER NOT NULL
            )
            """,
            "CREATE INDEX entities_doc ON entities (doc_id)",
            """
            CREATE TABLE crawl_runs (
                run_id      VARCHAR NOT NULL,
                source      VARCHAR NOT NULL,
                source_kind VARCHAR NOT NULL,
                started_at  TIMESTAMP NOT NULL,
                finished_at TIMESTAMP,
                status      VARCHAR NOT NULL,
                fetched     INTEGER NOT NULL DEFAULT 0,
                new         INTEGER NOT NULL DEFAULT 0,
                duplicates  INTEGER NOT NULL DEFAULT 0,
                filtered    INTEGER NOT NULL DEFAULT 0,
                errors      INTEGER NOT NULL DEFAULT 0,
                seconds     DOUBLE,
                PRIMARY KEY (run_id, source)
            )
            """,
            """
            CREATE TABLE filtered (
                id      VARCHAR PRIMARY KEY,
                url     VARCHAR NOT NULL,
                source  VARCHAR NOT NULL,
                reason  VARCHAR NOT NULL,
                seen_at TIMESTAMP NOT NULL,
                run_id  VARCHAR
            )
            """,
            """
            CREATE TABLE errors (
                run_id  VARCHAR NOT NULL,
                source  VARCHAR NOT NULL,
                url     VARCHAR,
                reason  VARCHAR NOT NULL,
                occurred_at TIMESTAMP NOT NULL
            )
            """,
        ],
    ),
]

MIGRATIONS.append(
    (
        2,
        "url_aliases (links that led to a page under another URL); filtered.text_source",
        [
            "ALTER TABLE filtered ADD COLUMN text_source VARCHAR",
            """
            CREATE TABLE url_aliases (
                alias_id VARCHAR PRIMARY KEY,
                doc_id   VARCHAR NOT NULL,
                url      VARCHAR NOT NULL
            )
            """,
        ],
    )
)

MIGRATIONS.append(
    (
        5,
        "social platforms: documents.platform, platform_id, parent_id; engagement snapshots; crawl_state; pseudonym_key",
        [
            "ALTER TABLE documents ADD COLUMN platform VARCHAR",
            "ALTER TABLE documents ADD COLUMN platform_id VARCHAR",
            "ALTER TABLE documents ADD COLUMN parent_id VARCHAR",
            """
            CREATE TABLE engagement (
                doc_id      VARCHAR NOT NULL,
                observed_at TIMESTAMP NOT NULL,
                likes       BIGINT,
                reposts     BIGINT,
                replies     BIGINT,
                views       BIGINT,
                score       BIGINT,
                run_id      VARCHAR NOT NULL,
                PRIMARY KEY (doc_id, run_id)
            )
            """,
            """
            CREATE TABLE crawl_state (
                source     VARCHAR NOT NULL,
                query      VARCHAR NOT NULL,
                cursor     VARCHAR,
                newest_id  VARCHAR,
                newest_at  TIMESTAMP,
                updated_at TIMESTAMP NOT NULL,
                PRIMARY KEY (source, query)
            )
            """,
            "CREATE TABLE pseudonym_key (key VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)",
        ],
    )
)

MIGRATIONS.append(
    (
        4,
        "schedule (the daemon's jobs and each source's health); http_validators (conditional requests)",
        [
            """
            CREATE TABLE schedule (
                source        VARCHAR PRIMARY KEY,
                every         VARCHAR,
                next_run_at   TIMESTAMP,
                failures      INTEGER NOT NULL DEFAULT 0,
                paused_reason VARCHAR,
                job_state     BLOB,
                updated_at    TIMESTAMP
            )
            """,
            """
            CREATE TABLE http_validators (
                url           VARCHAR PRIMARY KEY,
                source        VARCHAR,
                etag          VARCHAR,
                last_modified VARCHAR,
                checked_at    TIMESTAMP NOT NULL
            )
            """,
        ],
    )
)

MIGRATIONS.append(
    (
        3,
        "stance of each document (documents.stance*, nlp_version), frames and actors",
        [
            "ALTER TABLE documents ADD COLUMN stance VARCHAR",
            "ALTER TABLE documents ADD COLUMN stance_score DOUBLE",
            "ALTER TABLE documents ADD COLUMN stance_confidence DOUBLE",
            "ALTER TABLE documents ADD COLUMN stance_evidence VARCHAR[]",
            "ALTER TABLE documents ADD COLUMN nlp_version VARCHAR",
            """
            CREATE TABLE frames (
                doc_id     VARCHAR NOT NULL,
                frame      VARCHAR NOT NULL,
                stance     VARCHAR NOT NULL,
                score      DOUBLE NOT NULL,
                confidence DOUBLE
            )
            """,
            "CREATE INDEX frames_doc ON frames (doc_id)",
            """
            CREATE TABLE actors (
                doc_id     VARCHAR NOT NULL,
                actor      VARCHAR NOT NULL,
                label      VARCHAR NOT NULL,
                stance     VARCHAR NOT NULL,
                score      DOUBLE NOT NULL,
                evidence   VARCHAR
            )
            """,
            "CREATE INDEX actors_doc ON actors (doc_id)",
        ],
    )
)

VIEWS: dict[str, str] = {
    "engagement_latest": """
        SELECT doc_id, observed_at, likes, reposts, replies, views, score
        FROM engagement
        QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY observed_at DESC) = 1
    """,
    "timeline": """
        SELECT CAST(COALESCE(published_at, fetched_at) AS DATE) AS day,
               source,
               count(*)                                  AS documents,
               count(*) FILTER (WHERE kind = 'article')  AS articles,
               count(*) FILTER (WHERE kind = 'post')     AS posts,
               count(*) FILTER (WHERE kind = 'comment')  AS comments,
               count(*) FILTER (WHERE kind = 'video')    AS videos,
               count(DISTINCT site)                      AS sites,
               coalesce(sum(eng.likes), 0)               AS likes,
               coalesce(sum(eng.reposts), 0)             AS reposts,
               coalesce(sum(eng.replies), 0)             AS replies,
               coalesce(sum(1 + coalesce(eng.likes, 0) + coalesce(eng.reposts, 0) + coalesce(eng.replies, 0)), 0)
                                                         AS weighted_documents,
               count(*) FILTER (WHERE stance = 'favor')   AS favor,
               count(*) FILTER (WHERE stance = 'against') AS against,
               count(*) FILTER (WHERE stance = 'neutral') AS neutral,
               round(avg(stance_score), 4)                AS mean_stance,
               round(2.0 * least(count(*) FILTER (WHERE stance = 'favor'), count(*) FILTER (WHERE stance = 'against'))
                     / nullif(count(stance), 0), 4)      AS controversy
        FROM documents
        LEFT JOIN engagement_latest eng ON eng.doc_id = documents.id
        GROUP BY ALL
        ORDER BY day, source
    """,
    "frame_timeline": """
        SELECT CAST(COALESCE(d.published_at, d.fetched_at) AS DATE) AS day,
               f.frame,
               count(*)                                     AS documents,
               count(*) FILTER (WHERE f.stance = 'favor')   AS favor,
               count(*) FILTER (WHERE f.stance = 'against') AS against,
               count(*) FILTER (WHERE f.stance = 'neutral') AS neutral,
               round(avg(f.score), 4)                       AS mean_stance,
               round(2.0 * least(count(*) FILTER (WHERE f.stance = 'favor'),
                                 count(*) FILTER (WHERE f.stance = 'against')) / count(*), 4) AS controversy
        FROM frames f JOIN documents d ON d.id = f.doc_id
        GROUP BY ALL
        ORDER BY day, frame
    """,
}

LATEST_VERSION = max(version for version, _title, _statements in MIGRATIONS)
