"""The daily aggregates behind the ``timeline`` and ``frame_timeline`` views, and the one function that refreshes them.

``timeline_daily`` holds one row per (day, source) and ``frame_daily`` one per (day, frame), with the views'
columns, computed from ``documents``, ``engagement_current`` and ``frames``, each row with its document's
``day``. Distinct counts (stories, sites) do not add up, so ``refresh`` recomputes every group of the days it
is given from the documents of those days, instead of adding a batch's rows. The days let each scan skip the
blocks of other days: joined on document ids alone, a batch's refresh probed every frame and every latest
snapshot of the file. The writer sets ``engagement_current.day``; ``frames.day`` is stamped by ``refresh`` on
the rows written without it (every writer of frames inserts them without a day, then refreshes the days of
their documents). Everything that changes documents, their frames or their latest engagement calls
``refresh`` with the days it touched, in the same transaction: a store batch, a re-analysis, a correction,
a story merge or ``restory``, an alias supersession.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable

import pyarrow as pa

TIMELINE_SELECT = """
    SELECT d.day, d.source,
           count(*)                                  AS documents,
           count(DISTINCT d.story_id)                AS stories,
           count(*) FILTER (WHERE d.kind = 'article') AS articles,
           count(*) FILTER (WHERE d.kind = 'post')    AS posts,
           count(*) FILTER (WHERE d.kind = 'comment') AS comments,
           count(*) FILTER (WHERE d.kind = 'video')   AS videos,
           count(DISTINCT d.site)                    AS sites,
           coalesce(sum(eng.likes), 0)               AS likes,
           coalesce(sum(eng.reposts), 0)             AS reposts,
           coalesce(sum(eng.replies), 0)             AS replies,
           coalesce(sum(1 + coalesce(eng.likes, 0) + coalesce(eng.reposts, 0) + coalesce(eng.replies, 0)), 0)
                                                     AS weighted_documents,
           count(*) FILTER (WHERE d.stance = 'favor')   AS favor,
           count(*) FILTER (WHERE d.stance = 'against') AS against,
           count(*) FILTER (WHERE d.stance = 'neutral') AS neutral,
           round(avg(d.stance_score), 4)                AS mean_stance,
           round(2.0 * least(count(*) FILTER (WHERE d.stance = 'favor'), count(*) FILTER (WHERE d.stance = 'against'))
                 / nullif(count(d.stance), 0), 4)      AS controversy
    FROM documents d
    LEFT JOIN engagement_current eng ON eng.doc_id = d.id AND {eng}
    WHERE {where}
    GROUP BY d.day, d.source
"""

FRAME_SELECT = """
    SELECT f.day, f.frame,
           count(*)                                     AS documents,
           count(*) FILTER (WHERE f.stance = 'favor')   AS favor,
           count(*) FILTER (WHERE f.stance = 'against') AS against,
           count(*) FILTER (WHERE f.stance = 'neutral') AS neutral,
           round(avg(f.score), 4)                       AS mean_stance,
           round(2.0 * least(count(*) FILTER (WHERE f.stance = 'favor'),
                             count(*) FILTER (WHERE f.stance = 'against')) / count(*), 4) AS controversy
    FROM frames f
    WHERE {where}
    GROUP BY f.day, f.frame
"""

# The day of the frames written since the last refresh (their document's day).
STAMP_FRAMES = """
    UPDATE frames SET day = d.day FROM documents d
    WHERE frames.day IS NULL AND d.id = frames.doc_id AND {where}
"""

# Every aggregate from scratch.
REFRESH_ALL = (
    "DELETE FROM timeline_daily",
    STAMP_FRAMES.format(where="true"),
    f"INSERT INTO timeline_daily {TIMELINE_SELECT.format(where='true', eng='true')}",
    "DELETE FROM frame_daily",
    f"INSERT INTO frame_daily {FRAME_SELECT.format(where='f.day IS NOT NULL')}",
)

# The latest snapshot of each document, from all snapshots: the backfill of ``engagement_current``.
LATEST_ENGAGEMENT = """
    INSERT INTO engagement_current (doc_id, observed_at, likes, reposts, replies, views, score)
    SELECT doc_id, observed_at, likes, reposts, replies, views, score FROM engagement
    QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY observed_at DESC) = 1
"""

# An older file's backfills (schema versions 8 and 10), run once when it is migrated.
BACKFILL = (
    "UPDATE documents SET day = CAST(COALESCE(published_at, fetched_at) AS DATE) WHERE day IS NULL",
    LATEST_ENGAGEMENT,
    *REFRESH_ALL,
)

BACKFILL_DAYS = (
    STAMP_FRAMES.format(where="true"),
    "UPDATE engagement_current SET day = d.day FROM documents d WHERE d.id = engagement_current.doc_id",
)

# Rows of the touched days only: the range lets the scans skip blocks of other days (zone maps), the list
# picks the days inside it.
_TOUCHED = "{t}.day BETWEEN $lo AND $hi AND {t}.day IN (SELECT day FROM touched_days)"


def refresh(con, days: Iterable[date] | None = None) -> int:
    """Recompute the aggregates of ``days`` (every day when None) from the documents; returns the days refreshed."""
    if days is None:
        for statement in REFRESH_ALL:
            con.execute(statement)
        return con.execute("SELECT count(DISTINCT day) FROM timeline_daily").fetchone()[0]
    days = sorted({day for day in days if day is not None})
    if not days:
        return 0
    con.register("touched_days", pa.table({"day": pa.array(days, pa.date32())}))
    params = {"lo": days[0], "hi": days[-1]}
    con.execute("DELETE FROM timeline_daily WHERE day IN (SELECT day FROM touched_days)")
    timeline = TIMELINE_SELECT.format(where=_TOUCHED.format(t="d"), eng="eng.day BETWEEN $lo AND $hi")
    con.execute(f"INSERT INTO timeline_daily {timeline}", params)
    con.execute(STAMP_FRAMES.format(where=_TOUCHED.format(t="d")), params)
    con.execute("DELETE FROM frame_daily WHERE day IN (SELECT day FROM touched_days)")
    con.execute(f"INSERT INTO frame_daily {FRAME_SELECT.format(where=_TOUCHED.format(t='f'))}", params)
    con.unregister("touched_days")
    return len(days)


def days_of(con, column: str, values: Iterable) -> set[date]:
    """The days of the stored documents whose ``column`` (``id``, ``story_id``) is one of ``values``."""
    values = sorted(set(values))
    if not values:
        return set()
    return {row[0] for row in con.execute(f"SELECT DISTINCT day FROM documents WHERE list_contains(?, {column})",
                                          [values]).fetchall()}
