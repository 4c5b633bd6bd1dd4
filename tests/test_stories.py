"""Stories on a real crawl of the replay site with its story cases (a wire story on four outlets, each on its own
loopback host; three independent write-ups of one event; distinct stories; all on one spike day): the wire
copies share a story, distinct stories stay apart, the ``stories`` rows, ``timeline.stories``, the ``spikes``
view, and ``restory`` giving the same partition. Also the StoryIndex on its own."""

from __future__ import annotations

from datetime import date

import pytest

from crawler.demo.replay.storyset import serve_story_site, story_sources
from crawler.stories import StoryIndex
from helpers import FAST, rows, run_cli, site_sources, write_topic


def crawl_story_site(tmp_path):
    """(db, cases) after one crawl (NLP off) of the replay site's news sources and the four outlets' feeds."""
    with serve_story_site(tmp_path / "site") as (servers, manifest, cases):
        topic = write_topic(tmp_path / "topic.toml", site_sources(servers[0], manifest) + story_sources(servers, cases))
        db = tmp_path / "stories.duckdb"
        result = run_cli("crawl", "--topic", topic, "--db", db, *FAST, timeout=400)
        assert result.returncode == 0, result.stderr[-3000:]
    return db, cases


@pytest.fixture(scope="module")
def story_crawl(tmp_path_factory):
    return crawl_story_site(tmp_path_factory.mktemp("stories"))


def story_of(db, cases, kind):
    found = rows(db, "SELECT url, story_id, site, title FROM documents WHERE url LIKE '%/wire/o%'")
    by_path = {r["url"].split("/", 3)[3]: r for r in found}
    return [by_path["/".join(["wire"] + c["path"].split("/")[2:])] for c in cases[kind]]


def test_wire_copies_share_one_story_and_distinct_stories_stay_apart(story_crawl):
    db, cases = story_crawl
    wire, event, distinct = (story_of(db, cases, k) for k in ("wire", "event", "distinct"))
    assert len({r["site"] for r in wire}) == 4  # four outlets, four hosts
    assert len({r["story_id"] for r in wire}) == 1, wire
    assert len({r["story_id"] for r in event}) == 1, event  # independent write-ups of one event
    ids = [wire[0]["story_id"], event[0]["story_id"], *(r["story_id"] for r in distinct)]
    assert len(set(ids)) == len(ids), (wire, event, distinct)
    assert rows(db, "SELECT count(*) AS n FROM documents WHERE story_id IS NULL")[0]["n"] == 0


def test_stories_rows(story_crawl):
    db, cases = story_crawl
    wire = story_of(db, cases, "wire")
    [story] = rows(db, "SELECT * FROM stories WHERE story_id = ?", [wire[0]["story_id"]])
    assert story["documents"] == 4 and story["outlets"] == 4
    assert sorted(story["outlet_names"]) == sorted(cases["outlet_hosts"])
    assert story["languages"] == ["en"]
    assert story["first_outlet"] == "127.0.0.1" and story["title"] == cases["wire"][0]["title"]
    assert story["first_seen"].date() == date.fromisoformat(cases["spike_day"])
    assert story["spread_hours"] == 3.0  # copies an hour apart
    totals = rows(db, "SELECT count(*) AS docs, count(DISTINCT story_id) AS stories FROM documents")[0]
    summed = rows(db, "SELECT sum(documents) AS docs, count(*) AS stories FROM stories")[0]
    assert (summed["docs"], summed["stories"]) == (totals["docs"], totals["stories"])


def test_timeline_counts_stories_and_spikes_show_the_day(story_crawl):
    db, cases = story_crawl
    day = date.fromisoformat(cases["spike_day"])
    lines = rows(db, "SELECT source, documents, stories FROM timeline WHERE day = ? AND source LIKE 'wire-%' "
                     "ORDER BY source", [day])
    assert [(r["documents"], r["stories"]) for r in lines] == [(3, 3), (3, 3), (3, 3), (1, 1)]
    [day_total] = rows(db, "SELECT count(*) AS documents, count(DISTINCT story_id) AS stories FROM documents "
                           "WHERE url LIKE '%/wire/o%'")
    assert (day_total["documents"], day_total["stories"]) == (10, 5)  # the wire story counts once
    spikes = rows(db, "SELECT * FROM spikes WHERE scope = 'news' AND kind = 'volume'")
    spike = next(s for s in spikes if s["period"].date() == day)
    assert spike["spike_id"] == f"news:volume:{day}"
    assert spike["documents"] >= 10 and spike["value"] > spike["threshold"] and spike["score"] > 3
    wire = story_of(db, cases, "wire")[0]["story_id"]
    event = story_of(db, cases, "event")[0]["story_id"]
    assert spike["stories"][:2] == [wire, event]  # the stories that drove it, biggest first
    assert spike["titles"][0] == cases["wire"][0]["title"]


def test_restory_gives_the_same_partition(story_crawl):
    """The crawl clusters in arrival order, restory in time order: the story cases come out the same (borderline
    documents of the site's templated articles may not: the index is order-dependent)."""
    db, _ = story_crawl
    sql = "SELECT id, story_id FROM documents WHERE url LIKE '%/wire/o%'"

    def partition():
        groups = {}
        for r in rows(db, sql):
            groups.setdefault(r["story_id"], set()).add(r["id"])
        return {frozenset(g) for g in groups.values()}

    before = partition()
    result = run_cli("restory", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "stories" in result.stdout
    assert partition() == before
    totals = rows(db, "SELECT count(*) AS docs, count(DISTINCT story_id) AS stories FROM documents")[0]
    summed = rows(db, "SELECT sum(documents) AS docs, count(*) AS stories FROM stories")[0]
    assert (summed["docs"], summed["stories"]) == (totals["docs"], totals["stories"])
    [wire] = rows(db, "SELECT documents, outlets, spread_hours FROM stories WHERE documents = 4 AND outlets = 4")
    assert wire["spread_hours"] == 3.0


def test_story_index_window_and_state_rows():
    text = ("Hollywood studios sued ByteDance over Seedance 2.0 in Los Angeles on Tuesday, saying the video model "
            "copies scenes from 1,200 films; the company said it would defend itself in court against the claims.")
    ix = StoryIndex()
    a = ix.add("a", text, "Studios sue", "2026-03-01T10:00:00Z", "x.example")
    assert ix.add("b", "WIRE - " + text + " Subscribe.", "Studios sue ByteDance", "2026-03-01T11:00:00Z") == a
    assert {r[0] for r in ix.pop_changes()["story_doc"]} == {"a", "b"}
    assert ix.add("c", text, "Studios sue (weeks later)", "2026-04-20T10:00:00Z") != a  # outside the window
    changes = ix.pop_changes()
    assert {r[0] for r in changes["story_doc"]} == {"c"} and ix.story_of("a") is None  # a, b left memory
    again = StoryIndex.load_recent(changes)
    assert again.add("d", text + " More.", "Studios", "2026-04-20T12:00:00Z") == ix.story_of("c")
