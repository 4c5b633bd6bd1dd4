"""The reading side of stories: the ``spikes`` view's SQL, the alerts sent, and what the report reads.

Spike rules (``SpikeRules``; each a key of the topic file's ``[alerts]`` table, the README's "Spikes" section
explains them):

- **volume**: news articles per day against the previous ``baseline_days`` days, posts per hour against the
  previous ``baseline_hours`` hours (periods with nothing count as 0). A period is a spike when it has at
  least ``min_documents`` documents, more than mean + ``sigma`` standard deviations of its baseline and at
  least twice the baseline mean, and its baseline covers at least half its window; a spike less than
  ``min_gap`` periods after another of its kind is not a second one (2: the next day for news is not).
- **stance_shift**: the share of ``against`` among the period's documents with a stance rises by at least
  ``stance_shift`` over the same baseline window's share, with at least ``min_documents`` stanced documents in
  the period and in the baseline.

The ``spikes`` view is ``spikes_sql()`` with the default rules; ``spikes_query(rules)`` is the same query with a
topic's own, which ``seedtrack alerts`` and the scheduler's check read instead of the view.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

TOP_STORIES = 5


@dataclass(frozen=True)
class SpikeRules:
    baseline_days: int = 14      # news: a day against the previous 14 days (Meltwater)
    baseline_hours: int = 12     # posts: an hour against the previous 12 hours
    sigma: float = 3.0           # volume above mean + 3 sigma of the baseline (Huginn's peak detector)
    min_documents: int = 5       # a spike (and a stance shift's period and baseline) needs this many documents
    min_gap: int = 2             # periods between two spikes of one kind (Huginn: at least 2 days apart)
    stance_shift: float = 0.3    # rise of the 'against' share over its baseline share

    @classmethod
    def of(cls, conf: Mapping[str, Any] | None) -> "SpikeRules":
        """The rules of a topic's ``[alerts]`` table (its other keys are channels; absent keys: defaults)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(conf or {}).items() if k in known and v is not None})


def spikes_sql(rules: SpikeRules = SpikeRules()) -> str:
    """The spikes query under ``rules`` (numbers only, formatted in: the rules are typed, never user text)."""
    days, hours, gap = int(rules.baseline_days), int(rules.baseline_hours), max(int(rules.min_gap), 1)
    sigma, least, shift = float(rules.sigma), int(rules.min_documents), float(rules.stance_shift)
    return f"""
    WITH buckets AS (
        SELECT CASE WHEN kind = 'article' THEN 'news' ELSE 'posts' END AS scope,
               date_trunc(CASE WHEN kind = 'article' THEN 'day' ELSE 'hour' END,
                          COALESCE(published_at, fetched_at)) AS period,
               id, stance, story_id
        FROM documents WHERE kind IN ('article', 'post')
    ), bounds AS (
        SELECT scope, min(period) AS lo, max(period) AS hi FROM buckets GROUP BY scope
    ), series AS (
        SELECT scope, unnest(generate_series(lo, hi, CASE WHEN scope = 'news' THEN INTERVAL 1 DAY
                                                          ELSE INTERVAL 1 HOUR END)) AS period
        FROM bounds
    ), counts AS (
        SELECT s.scope, s.period, count(b.id) AS n, count(b.stance) AS stanced,
               count(*) FILTER (WHERE b.stance = 'against') AS against
        FROM series s LEFT JOIN buckets b ON b.scope = s.scope AND b.period = s.period
        GROUP BY ALL
    ), stats AS (
        SELECT *,
               CASE WHEN scope = 'news' THEN avg(n) OVER wd ELSE avg(n) OVER wh END AS base,
               CASE WHEN scope = 'news' THEN stddev_pop(n) OVER wd ELSE stddev_pop(n) OVER wh END AS sd,
               CASE WHEN scope = 'news' THEN count(*) OVER wd ELSE count(*) OVER wh END AS prior,
               CASE WHEN scope = 'news' THEN sum(against) OVER wd ELSE sum(against) OVER wh END AS base_against,
               CASE WHEN scope = 'news' THEN sum(stanced) OVER wd ELSE sum(stanced) OVER wh END AS base_stanced,
               CASE WHEN scope = 'news' THEN {days} ELSE {hours} END AS window_len
        FROM counts
        WINDOW wd AS (PARTITION BY scope ORDER BY period ROWS BETWEEN {days} PRECEDING AND 1 PRECEDING),
               wh AS (PARTITION BY scope ORDER BY period ROWS BETWEEN {hours} PRECEDING AND 1 PRECEDING)
    ), flagged AS (
        SELECT *,
               prior * 2 >= window_len AND n >= {least} AND n > base + {sigma} * sd AND n >= 2 * base
                   AS is_volume,
               prior * 2 >= window_len AND stanced >= {least} AND base_stanced >= {least}
                   AND against / stanced - base_against / base_stanced >= {shift} AS is_shift
        FROM stats
    ), kept AS (
        SELECT *, coalesce(bool_or(is_volume) OVER p, false) AS after_volume,
               coalesce(bool_or(is_shift) OVER p, false) AS after_shift
        FROM flagged WINDOW p AS (PARTITION BY scope ORDER BY period ROWS BETWEEN {gap - 1} PRECEDING AND 1 PRECEDING)
    ), found AS (
        SELECT scope, period, 'volume' AS kind, n AS documents, CAST(n AS DOUBLE) AS value, base AS baseline,
               base + {sigma} * sd AS threshold, (n - base) / greatest(sd, 0.5) AS score
        FROM kept WHERE is_volume AND NOT after_volume
        UNION ALL
        SELECT scope, period, 'stance_shift', n, against / stanced, base_against / base_stanced,
               base_against / base_stanced + {shift}, against / stanced - base_against / base_stanced
        FROM kept WHERE is_shift AND NOT after_shift
    ), drivers AS (
        SELECT b.scope, b.period, b.story_id, count(*) AS n,
               count(*) FILTER (WHERE b.stance = 'against') AS n_against, any_value(st.title) AS title
        FROM buckets b LEFT JOIN stories st ON st.story_id = b.story_id
        WHERE b.story_id IS NOT NULL
        GROUP BY ALL
    ), ranked AS (
        SELECT f.scope, f.period, f.kind, d.story_id, d.title,
               row_number() OVER (PARTITION BY f.scope, f.period, f.kind
                                  ORDER BY CASE WHEN f.kind = 'volume' THEN d.n ELSE d.n_against END DESC,
                                           d.n DESC, d.story_id) AS rank
        FROM found f JOIN drivers d ON d.scope = f.scope AND d.period = f.period
    ), top AS (
        SELECT scope, period, kind, list(story_id ORDER BY rank) AS stories, list(title ORDER BY rank) AS titles
        FROM ranked WHERE rank <= {TOP_STORIES} GROUP BY ALL
    )
    SELECT f.scope || ':' || f.kind || ':' || CASE WHEN f.scope = 'news' THEN strftime(f.period, '%Y-%m-%d')
                                                       ELSE strftime(f.period, '%Y-%m-%dT%H:00') END AS spike_id,
           f.period,
           f.period + CASE WHEN f.scope = 'news' THEN INTERVAL 1 DAY ELSE INTERVAL 1 HOUR END AS period_end,
           f.scope, f.kind, f.documents, round(f.value, 4) AS value, round(f.baseline, 4) AS baseline,
           round(f.threshold, 4) AS threshold, round(f.score, 2) AS score,
           coalesce(t.stories, []) AS stories, coalesce(t.titles, []) AS titles
    FROM found f LEFT JOIN top t ON t.scope = f.scope AND t.period = f.period AND t.kind = f.kind
    ORDER BY f.period, f.scope, f.kind
"""


SPIKES_SQL = spikes_sql()  # the view


def spikes_query(rules: SpikeRules | None = None) -> str:
    """A FROM item of the spikes under ``rules``: the view when they are the defaults."""
    return "spikes" if rules is None or rules == SpikeRules() else f"({spikes_sql(rules)}) AS spikes"


SPIKE_COLUMNS = ("spike_id", "period", "period_end", "scope", "kind", "documents", "value", "baseline",
                 "threshold", "score", "stories", "titles")


def _dicts(cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def pending_spikes(con, channels: list[str], rules: SpikeRules | None = None) -> list[dict[str, Any]]:
    """Spikes (under ``rules``, default the view's) not yet sent on every one of ``channels``; each with
    ``channels`` (those it still needs), ``mix`` (favor/against/neutral of its period) and ``top`` (its stories'
    title, first URL, documents)."""
    spikes = _dicts(con.execute(f"SELECT * FROM {spikes_query(rules)} ORDER BY period, scope, kind"))
    sent = {(s, c) for s, c in con.execute("SELECT spike_id, channel FROM alerts").fetchall()}
    out = []
    for spike in spikes:
        need = [c for c in channels if (spike["spike_id"], c) not in sent]
        if not need:
            continue
        kinds = ['article'] if spike["scope"] == "news" else ['post']
        favor, against, neutral = con.execute(
            "SELECT count(*) FILTER (WHERE stance = 'favor'), count(*) FILTER (WHERE stance = 'against'), "
            "count(*) FILTER (WHERE stance = 'neutral') FROM documents WHERE kind = ? "
            "AND COALESCE(published_at, fetched_at) >= ? AND COALESCE(published_at, fetched_at) < ?",
            [kinds[0], spike["period"], spike["period_end"]]).fetchall()[0]
        top = _dicts(con.execute(
            "SELECT story_id, title, first_url AS url, first_outlet AS outlet, documents, outlets FROM stories "
            "WHERE story_id IN (SELECT unnest(?::BIGINT[]))", [list(spike["stories"])]))
        order = {sid: i for i, sid in enumerate(spike["stories"])}
        top.sort(key=lambda s: order.get(s["story_id"], 99))
        out.append({**spike, "channels": need, "mix": {"favor": favor, "against": against, "neutral": neutral},
                    "top": top})
    return out


def record_sent(con, spike_id: str, channel: str, message: str) -> None:
    con.execute("INSERT INTO alerts (spike_id, channel, sent_at, message) VALUES (?, ?, now()::TIMESTAMP, ?) "
                "ON CONFLICT DO NOTHING", [spike_id, channel, message]).fetchall()


# -- what the report reads (each a list of dicts; dates are inclusive, on the document's date) ------------

_WHEN = "CAST(COALESCE(d.published_at, d.fetched_at) AS DATE)"


def report_data(con, since, until) -> dict[str, list[dict[str, Any]]]:
    """Everything ``seedtrack report`` draws, for documents dated ``since``..``until`` (None: open)."""
    where = f"({_WHEN} >= $since OR $since IS NULL) AND ({_WHEN} <= $until OR $until IS NULL)"
    p = {"since": since, "until": until}

    def q(sql: str) -> list[dict[str, Any]]:
        return _dicts(con.execute(sql, p))

    return {
        "period": q(f"SELECT min({_WHEN}) AS first, max({_WHEN}) AS last, count(*) AS documents, "
                    f"count(DISTINCT d.story_id) AS stories FROM documents d WHERE {where}"),
        "volume": q(f"SELECT {_WHEN} AS day, count(*) FILTER (WHERE stance = 'favor') AS favor, "
                    "count(*) FILTER (WHERE stance = 'against') AS against, "
                    "count(*) FILTER (WHERE stance = 'neutral') AS neutral, "
                    "count(*) FILTER (WHERE stance IS NULL) AS unscored, count(*) AS documents "
                    f"FROM documents d WHERE {where} GROUP BY ALL ORDER BY day"),
        "frames": q(f"SELECT f.frame, count(*) AS documents, count(*) FILTER (WHERE f.stance = 'favor') AS favor, "
                    "count(*) FILTER (WHERE f.stance = 'against') AS against, round(2.0 * least("
                    "count(*) FILTER (WHERE f.stance = 'favor'), count(*) FILTER (WHERE f.stance = 'against')) "
                    f"/ count(*), 4) AS controversy FROM frames f JOIN documents d ON d.id = f.doc_id "
                    f"WHERE {where} GROUP BY ALL ORDER BY controversy DESC, documents DESC"),
        "spikes": q("SELECT spike_id, CAST(period AS DATE) AS day, period, scope, kind, documents, value, "
                    "baseline, score, titles FROM spikes WHERE (CAST(period AS DATE) >= $since OR $since IS NULL) "
                    "AND (CAST(period AS DATE) <= $until OR $until IS NULL) ORDER BY period"),
        "stories": q(f"SELECT s.story_id, s.title, s.first_seen, s.first_outlet, s.first_url, s.spread_hours, "
                     "s.outlets, s.favor, s.against, s.neutral, s.mean_stance, count(*) AS documents "
                     f"FROM documents d JOIN stories s ON s.story_id = d.story_id WHERE {where} "
                     "GROUP BY ALL ORDER BY documents DESC, s.outlets DESC, s.first_seen LIMIT 10"),
        "actors": q(f"SELECT a.actor, a.stance, count(*) AS mentions, round(avg(a.score), 3) AS score, "
                    "arg_max(a.evidence, abs(a.score)) AS quote FROM actors a JOIN documents d ON d.id = a.doc_id "
                    f"WHERE {where} AND a.stance IN ('favor', 'against') GROUP BY ALL "
                    "ORDER BY a.stance DESC, mentions DESC, a.actor LIMIT 24"),
        "mix": q(f"SELECT coalesce(d.platform, d.site, d.source) AS outlet, d.kind, count(*) AS documents "
                 f"FROM documents d WHERE {where} GROUP BY ALL ORDER BY documents DESC LIMIT 14"),
        "engagement": q(f"SELECT {_WHEN} AS day, count(*) AS posts, coalesce(sum(e.likes), 0) AS likes, "
                        "coalesce(sum(e.reposts), 0) AS reposts, coalesce(sum(e.replies), 0) AS replies "
                        "FROM documents d JOIN engagement_latest e ON e.doc_id = d.id "
                        f"WHERE {where} GROUP BY ALL ORDER BY day"),
    }
