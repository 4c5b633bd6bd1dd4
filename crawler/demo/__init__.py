"""``seedtrack demo``: the whole crawl against a replay site on 127.0.0.1, for machines without internet.

The site (feeds, a Google News and a Bing News search feed, a GDELT answer, a news sitemap and article
pages with real-world boilerplate) is sample data written for seedtrack, not real news. The demo
database is recreated on every run, since the site's URLs carry the port it was served on.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from crawler.storage import Database, queries
from crawler.demo.replay.server import ReplayServer
from crawler.demo.replay.site import build_site
from crawler.app.runner import crawl_settings, format_summary, run_crawl
from crawler.topic import Source, load_topic

# Settings for a local site: no politeness delays are needed against our own server. The site's posts
# date from early 2026, so the demo snapshots the engagement of every post it sees.
DEMO_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "ENGAGEMENT_DAYS": 3650}

EXAMPLE_QUERIES = (
    "SELECT day, sum(documents) AS documents, sum(favor) AS favor, sum(against) AS against, "
    "round(avg(controversy), 2) AS controversy FROM timeline GROUP BY day ORDER BY day",
    "SELECT norm, label, count(DISTINCT doc_id) AS documents FROM entities GROUP BY ALL ORDER BY documents DESC LIMIT 10",
    "SELECT source, status, fetched, new, duplicates, filtered, errors FROM crawl_runs ORDER BY source",
)


DEMO_SOCIAL_OPTIONS = {"mastodon": {"tags": ["seedance"]}, "telegram": {"channels": ["seedance_watch"]},
                       "youtube": {"channels": ["UCseedancedemo0000000000"]}}

# The replay site names its search feeds by product; both are the news_search kind.
SITE_KINDS = {"google_news": "news_search", "bing_news": "news_search"}


def demo_sources(manifest: dict, base_url: str) -> list[Source]:
    """Sources for the replay site's feeds; search paths already hold their query."""
    return [
        Source(
            name=entry["name"], kind=SITE_KINDS.get(entry["kind"], entry["kind"]), url=base_url + entry["path"],
            options={"download_delay": 0},
        )
        for entry in manifest["sources"]
    ] + [
        Source(name=entry["name"], kind=entry["kind"], url=base_url, queries=("Seedance",),
               options={"download_delay": 0, **DEMO_SOCIAL_OPTIONS.get(entry["kind"], {}),
                        **({"feeds_url": base_url} if entry["kind"] == "youtube" else {})})
        for entry in manifest.get("social_sources", ())
    ]


def run_demo(db: str | Path, articles: int = 60, quiet: bool = False, site_dir: str | Path | None = None,
             topic_path: str | Path | None = None) -> int:
    topic = load_topic(topic_path)
    db = Path(db)
    site = Path(site_dir) if site_dir else db.parent / "demo-site"
    shutil.rmtree(site, ignore_errors=True)
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    manifest = build_site(site, articles=articles)
    with ReplayServer(site) as server:
        print(f"replay site (sample data written for seedtrack) at {server.url}", file=sys.stderr)
        Database(db).migrate()
        settings = crawl_settings(topic, db, DEMO_SETTINGS)
        results = run_crawl(topic, demo_sources(manifest, server.url), settings, None if quiet else sys.stderr)
    print(format_summary(results))
    stored = queries.document_count(Database(db))
    if not stored:
        print(f"seedtrack: error: the demo crawl stored no documents in {db}: every page failed or was off-topic "
              f"(see the messages above, and the errors and filtered tables)", file=sys.stderr)
        return 1
    print(f"\ndatabase: {db.resolve()} ({stored} documents)\n\nTry:")
    for query in EXAMPLE_QUERIES:
        print(f'  seedtrack sql --db {db} "{query}"')
    print(f"  seedtrack export timeline --db {db} --format csv -o data/exports/timeline.csv")
    return 0
