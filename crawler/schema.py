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

VIEWS: dict[str, str] = {
    "timeline": """
        SELECT CAST(COALESCE(published_at, fetched_at) AS DATE) AS day,
               source,
               count(*)                                  AS documents,
               count(*) FILTER (WHERE kind = 'article')  AS articles,
               count(*) FILTER (WHERE kind = 'post')     AS posts,
               count(*) FILTER (WHERE kind = 'comment')  AS comments,
               count(*) FILTER (WHERE kind = 'video')    AS videos,
               count(DISTINCT site)                      AS sites
        FROM documents
        GROUP BY ALL
        ORDER BY day, source
    """,
}

LATEST_VERSION = max(version for version, _title, _statements in MIGRATIONS)
