"""Stories on a real crawl of the replay site with its story cases (a wire story on four outlets, each on its own
loopback host; three independent write-ups of one event; distinct stories; all on one spike day): the wire
copies share a story, distinct stories stay apart, the ``stories`` rows, ``timeline.stories``, the ``spikes``
view, and ``restory`` giving the same partition. Also the StoryIndex on its own."""

from __future__ import annotations

from datetime import date

import pytest

from crawler.demo.replay.storyset import serve_story_site, story_sources
from crawler.stories import StoryConfig, StoryIndex
from crawler.stories.config import EMBEDDINGS
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


def test_restory_with_embeddings_keeps_the_story_cases(story_crawl, tmp_path):
    """Reclustered with the embedding settings (each document embedded by the shipped encoder as it is
    clustered): the wire copies one story, the write-ups of one event one story, the distinct stories apart;
    the state keeps the settings."""
    import shutil

    from crawler.storage import Database
    from crawler.storage.stories import restory

    db, cases = story_crawl
    copy = tmp_path / "emb.duckdb"
    shutil.copy(db, copy)
    with Database(copy).writing() as con:
        restory(con, StoryConfig(**EMBEDDINGS))
    wire, event, distinct = (story_of(copy, cases, k) for k in ("wire", "event", "distinct"))
    assert len({r["story_id"] for r in wire}) == 1 and len({r["story_id"] for r in event}) == 1, (wire, event)
    ids = [wire[0]["story_id"], event[0]["story_id"], *(r["story_id"] for r in distinct)]
    assert len(set(ids)) == len(ids), (wire, event, distinct)
    [config] = rows(copy, "SELECT config FROM story_meta")
    assert '"emb_weight": 0.9' in config["config"]


def test_restory_switches_embeddings_on_for_later_crawls_and_off(story_crawl, tmp_path):
    """`restory --embeddings` keeps each story's embedding sum in the database (story_centroids.vector), so the
    next crawl's batches match by it too; plain `restory` keeps the database's choice; `--terms-only` ends it."""
    import shutil

    db, cases = story_crawl
    copy = tmp_path / "switch.duckdb"
    shutil.copy(db, copy)
    vectors = "SELECT count(*) AS n, sum(n_vector) AS members FROM story_centroids WHERE vector IS NOT NULL"
    assert rows(copy, vectors)[0]["n"] == 0  # a new database clusters by terms

    result = run_cli("restory", "--db", copy, "--embeddings")
    assert result.returncode == 0 and "with sentence embeddings" in result.stdout, result.stderr
    stored = rows(copy, vectors)[0]
    assert stored["n"] == rows(copy, "SELECT count(*) AS n FROM story_centroids")[0]["n"] > 0
    wire = story_of(copy, cases, "wire")
    assert len({r["story_id"] for r in wire}) == 1

    again = run_cli("restory", "--db", copy)  # no flag: the database's choice stands
    assert again.returncode == 0 and "with sentence embeddings" in again.stdout, again.stderr
    assert rows(copy, vectors)[0] == stored

    off = run_cli("restory", "--db", copy, "--terms-only")
    assert off.returncode == 0 and "by their terms" in off.stdout, off.stderr
    assert rows(copy, vectors)[0]["n"] == 0
    assert run_cli("restory", "--db", copy, "--embeddings", "--terms-only").returncode == 2


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


def test_year_and_entity_penalties_keep_the_same_kind_of_event_apart():
    """Two injured-reserve moves of one team years apart with other players (ECB+'s hard negatives): without the
    penalties the second joins the first (term score 0.34 against 0.30); either penalty alone (other years, the
    document's heaviest entities missing from the story) keeps it apart; another write-up of the first still joins."""
    first = ("The New Orleans Saints placed running back Reggie Bush on injured reserve on Wednesday, ending his season "
             "with a sprained knee; coach Sean Payton said the team would miss him in the last two games of the 2008 "
             "season.")
    other = ("Pierre Thomas, the Saints' running back, went on injured reserve Wednesday with an ankle injury that ends "
             "his 2011 season. New Orleans signed Joique Bell from the Eagles practice squad to take his place before "
             "the playoffs.")
    again = ("Reggie Bush was put on injured reserve by the New Orleans Saints on Wednesday with a sprained knee, ending "
             "his 2008 season; coach Sean Payton said the running back would miss the last two games.")
    for cfg, apart in ((StoryConfig(year_penalty=0.0, ent_penalty=0.0), False), (StoryConfig(ent_penalty=0.0), True),
                       (StoryConfig(year_penalty=0.0), True), (StoryConfig(), True)):
        ix = StoryIndex(cfg)
        a = ix.add("a", first, "", 0, entities=["New Orleans Saints", "Reggie Bush", "Sean Payton"])
        b = ix.add("b", other, "", 0, entities=["Pierre Thomas", "Saints", "New Orleans", "Joique Bell", "Eagles"])
        assert (b != a) == apart, cfg
        assert ix.add("c", again, "", 0, entities=["Reggie Bush", "New Orleans Saints", "Sean Payton"]) == a, cfg


WIRE = ("Hollywood studios sued ByteDance over Seedance 2.0 in Los Angeles on Tuesday, saying the video model copies "
        "scenes from 1,200 films; the company said it would defend itself in court against the claims.")
REWRITE = ("ByteDance was sued in Los Angeles on Tuesday by Hollywood studios, who say its Seedance 2.0 video model "
           "copies scenes from 1,200 films. ByteDance said it would defend itself against the claims in court.")
OTHER = ("Heavy rain flooded the old town of Porto overnight, closing two bridges over the Douro and cutting power "
         "to 4,000 homes; firefighters pumped water out of cellars along the river until the morning.")


def test_story_encoder_embeds_with_the_shipped_model():
    """The shipped int8 ONNX encoder: unit vectors, a wire copy with other boilerplate next to its original,
    another event far from both."""
    from crawler.stories.encoder import StoryEncoder

    enc = StoryEncoder()
    v = enc.embed([("Studios sue ByteDance", WIRE), ("", "WIRE - " + WIRE + " Subscribe to our newsletter."),
                   ("Floods in Porto", OTHER)])
    assert v.shape == (3, enc.dim) and abs(float(v[0] @ v[0]) - 1.0) < 1e-3
    assert float(v[0] @ v[1]) > 0.85 > float(v[0] @ v[2]) + 0.2


def test_story_index_with_embeddings_keeps_them_in_its_rows():
    """With emb_weight the story rows carry the members' embedding sum, and load_recent brings it back; a
    story without one (state written without vectors) is matched by its terms against cos_threshold."""
    from crawler.stories.encoder import StoryEncoder

    cfg = StoryConfig(**EMBEDDINGS)
    wire, other, rewrite = StoryEncoder().embed([("", WIRE), ("", OTHER), ("", REWRITE)])
    ix = StoryIndex(cfg)
    a = ix.add("a", WIRE, "", "2026-03-01T10:00:00Z", embedding=wire)
    assert ix.add("b", OTHER, "", "2026-03-01T11:00:00Z", embedding=other) != a
    changes = ix.pop_changes()
    row = next(r for r in changes["story"] if r[0] == a)
    assert row[7] == 1 and abs(sum(x * y for x, y in zip(row[6], wire)) - 1.0) < 1e-3
    again = StoryIndex.load_recent(changes, cfg)
    assert again.stories[a].n_vec == 1
    assert again.add("c", REWRITE, "", "2026-03-01T12:00:00Z", embedding=rewrite) == a
    assert again.stage_counts["similar"] == 1 and again.stories[a].n_vec == 2
    terms_only = StoryIndex.load_recent({**changes, "story": [r[:6] for r in changes["story"]]}, cfg)
    assert terms_only.stories[a].vec is None
    assert terms_only.add("c", REWRITE, "", "2026-03-01T12:00:00Z", embedding=rewrite) == a
    assert terms_only.stories[a].n_vec == 1


def test_spikes_view_rules(tmp_path):
    """Volume against the trailing baseline (a day vs 14 days for news, an hour vs 12 hours for posts), the
    period after a spike not repeated, and a stance shift (the share of `against` jumping)."""
    from datetime import datetime, timedelta

    from crawler.storage import Database

    db = Database(tmp_path / "spikes.duckdb")
    start = datetime(2026, 3, 1, 8)
    docs = []

    def doc(i, kind, when, stance, words):
        docs.append({"id": f"{kind}{i}", "url": f"https://{kind}.example/{i}", "source": "s", "source_kind": "feed",
                     "kind": kind, "title": f"{words} {i}", "text": f"{words} number {i} " * 12, "text_source": "page",
                     "site": f"site{i % 3}.example", "published_at": when, "fetched_at": when, "lang": "en",
                     "analysed": True, "stance": stance, "stance_score": -0.5 if stance == "against" else 0.5})

    for day in range(20):  # one favourable article a day, then a day of 8 against, then 7 against the next day
        doc(day, "article", start + timedelta(days=day), "favor", f"quiet day {day} gardening")
    for n in range(8):
        doc(100 + n, "article", start + timedelta(days=20, hours=n), "against", "studios sue over training")
    for n in range(7):
        doc(200 + n, "article", start + timedelta(days=21, hours=n), "against", "court hearing set")
    for hour in range(14):  # a post an hour, then 6 in one hour
        doc(300 + hour, "post", start + timedelta(hours=hour), "neutral", f"post hour {hour}")
    for n in range(6):
        doc(400 + n, "post", start + timedelta(hours=14, minutes=5 * n), "neutral", "burst of posts")
    db.store(documents=docs)
    _, found = db.query("SELECT spike_id, documents, value, baseline, score FROM spikes ORDER BY spike_id")
    ids = [r[0] for r in found]
    assert "news:volume:2026-03-21" in ids and "news:volume:2026-03-22" not in ids  # two days apart
    assert "news:stance_shift:2026-03-21" in ids
    assert "posts:volume:2026-03-01T22:00" in ids
    shift = next(r for r in found if r[0] == "news:stance_shift:2026-03-21")
    assert shift[2] == 1.0 and shift[3] == 0.0 and shift[4] == 1.0


def test_a_database_clustered_before_a_setting_existed_goes_on_without_it():
    """A stored config written before the year and entity penalties keeps clustering as it was built (both
    off); a stored config that names them, and no stored config at all, keep their values or the defaults."""
    from crawler.storage.stories import _config

    old = _config({"cos_threshold": 0.33, "emb_weight": 0.9})
    assert (old.year_penalty, old.ent_penalty, old.cos_threshold, old.emb_weight) == (0.0, 0.0, 0.33, 0.9)
    assert _config({"year_penalty": 0.06}).year_penalty == 0.06
    assert _config().year_penalty == StoryConfig().year_penalty > 0


def test_add_batch_clusters_a_batch_together_and_joins_stored_stories():
    """add_batch (StoryConfig(**BATCH)): a wire copy and an independent write-up cluster with their original in one
    batch, another event stays apart; the next batch's copy and write-up join the stored stories; every document's
    row is written. With the default settings (batch_threshold 0) add_batch is add, one document at a time."""
    from crawler.stories.config import BATCH

    def doc(doc_id, text, hour):
        return {"doc_id": doc_id, "text": text, "published_at": f"2026-03-01T{hour:02d}:00:00Z"}

    ix = StoryIndex(StoryConfig(**BATCH))
    a, copy, rewrite, other = ix.add_batch([doc("a", WIRE, 10), doc("b", "WIRE - " + WIRE + " Subscribe.", 11),
                                            doc("c", REWRITE, 12), doc("d", OTHER, 12)])
    assert a == copy == rewrite != other
    assert {r[0] for r in ix.pop_changes()["story_doc"]} == {"a", "b", "c", "d"}
    again = StoryIndex.load_recent(ix.to_rows(), StoryConfig(**BATCH))
    assert again.add_batch([doc("e", OTHER + " Updated.", 13), doc("f", REWRITE + " More to follow.", 14)]) == [other, a]
    assert again.add_batch([doc("e", OTHER, 15)]) == [other]  # a known document keeps its story

    one, batch = StoryIndex(), StoryIndex()
    docs = [doc("a", WIRE, 10), doc("c", REWRITE, 12), doc("d", OTHER, 12)]
    assert batch.add_batch(docs) == [one.add(d["doc_id"], d["text"], "", d["published_at"]) for d in docs]


def test_average_link_keeps_fixed_clusters_apart():
    """Stored stories (the first ``fixed`` starting clusters, with their sizes) never merge with each other; new
    items join the story with the best average similarity, or each other."""
    import numpy as np

    from crawler.stories.batch import average_link

    # two stories of 2 members each, then three items: one close to each story, one to neither
    S = np.array([[0, 2.4, 0.8, 0.0, 0.1],
                  [2.4, 0, 0.0, 0.9, 0.1],
                  [0.8, 0.0, 0, 0.1, 0.0],
                  [0.0, 0.9, 0.1, 0, 0.0],
                  [0.1, 0.1, 0.0, 0.0, 0]])
    labels = average_link(S, 0.3, size=[2, 2, 1, 1, 1], fixed=2)
    assert labels[0] != labels[1] and labels[2] == labels[0] and labels[3] == labels[1]
    assert labels[4] not in (labels[0], labels[1])
    free = average_link(S, 0.3, size=[2, 2, 1, 1, 1])
    assert free[0] == free[1]  # not fixed: the stories (average 0.6) merge first
