"""The social-platform parsers (crawler/parsers/) called directly on API answers, without Scrapy or a crawl.

Reddit, Mastodon, Bluesky (post views in a searchPosts envelope) and YouTube channel feeds: the real recordings
in ../shared/realdata. Hacker News, Telegram and the YouTube Data API have none: their answers are written in the
platforms' formats by crawler/demo/replay/social.py, as in tests/test_social.py."""

from __future__ import annotations

import ast
import copy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.demo.replay import social
from crawler.parsers import bluesky, hackernews, mastodon, reddit, telegram, youtube
from crawler.parsers.feeds import FeedError
from crawler.parsers.posts import ApiError, html_links, html_to_text
from realdata import REALDATA

REDDIT = REALDATA / "reddit-praw-cassettes" / "extracted"
MASTODON = REALDATA / "mastodon-py-cassettes" / "extracted"
BLUESKY = REALDATA / "bluesky-twitwi" / "bluesky-posts.json"
YOUTUBE_FEED = REALDATA / "feedjira-sample-feeds" / "youtube_atom.xml"
LOCAL = "http://localhost:3000"  # the Mastodon instance the recordings were made on
PARSERS = Path(__file__).resolve().parents[1] / "crawler" / "parsers"


def recording(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["body"]


def _t1_tree(children: list) -> list[dict]:
    """Every ``t1`` comment of a Reddit comment tree, read independently of the parser."""
    return [thing for c in children if c["kind"] == "t1" for thing in
            [c["data"], *_t1_tree(c["data"]["replies"]["data"]["children"] if c["data"].get("replies") else [])]]


@pytest.mark.parametrize("module", ["posts", "reddit", "hackernews", "bluesky", "mastodon", "telegram", "youtube"])
def test_parsers_are_pure_modules_importing_no_scrapy_spiders_or_storage(module):
    tree = ast.parse(source := (PARSERS / f"{module}.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree) and len(source.splitlines()) < 400
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [m for m in imported if m.split(".")[0] == "scrapy" or m.startswith(("crawler.spiders", "crawler.storage"))]


# -- Reddit (praw's betamax cassettes, 2016-2017) ------------------------------------------------------------------

def test_parsers_reddit_search_listing_gives_posts_with_ids_authors_and_links():
    page = reddit.parse_listing(recording(REDDIT / "TestSubreddit.test_search__1.json"))
    assert [p.platform_id for p in page.posts] == ["t3_3gpbiu", "t3_3x4kt2", "t3_3b4erh", "t3_1qvzkd", "t3_3qc02b",
                                                   "t3_4at068"]
    assert [p.author for p in page.posts] == ["dClauzel", "GrinningMouth38", "Ouiski", "DAsSNipez", "Doomhammer458",
                                              "nmtake"]
    assert page.next is None and page.items == 6 and not any(p.deleted for p in page.posts)
    first = page.posts[0]
    assert first.kind == "post" and first.thread_id == "3gpbiu" and first.comments == 21
    assert first.created == datetime(2015, 8, 12, 9, 8, 34) and first.engagement == {"score": 0, "replies": 21}
    assert first.url == ("https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
                         "?ref=search_posts")
    assert first.title.startswith("[PRAW][OAuth2Util]") and first.text.startswith(first.title + "\n\n# solved")
    # a self post's links are those of its selftext_html
    assert page.posts[2].links[:2] == ["https://github.com/reddit/reddit/wiki/OAuth2-Quick-Start-Example",
                                       "https://oauth.reddit.com/api/v1/me"]


@pytest.mark.parametrize("name, count, after, first", [
    ("TestSubredditListings.test_new__1.json", 100, "t3_48f6io", "t3_48fbm9"),
    ("TestSubredditListings.test_hot__1.json", 102, "t3_48dlnt", "t3_46c00m"),
    ("TestSubredditListings.test_top__1.json", 100, "t3_3i6z8w", "t3_2np694"),
    ("TestFront.test_new__1.json", 100, "t3_48ezfg", "t3_48f0th"),
    ("TestDomainListing.test_new__1.json", 100, "t3_5d7oj4", "t3_5d7qul"),
    ("TestListingGenerator.test_no_items__1.json", 0, None, None),  # an empty listing ends paging
    ("TestDomainListing.test_rising__1.json", 0, None, None),
])
def test_parsers_reddit_listings_page_by_after(name, count, after, first):
    data = recording(REDDIT / name)
    page = reddit.parse_listing(data)
    assert len(page.posts) == page.items == count and page.next == after == data["data"]["after"]
    assert [p.platform_id for p in page.posts[:1]] == ([first] if first else [])
    assert all(p.platform_id == "t3_" + p.thread_id and p.url.startswith("https://www.reddit.com/r/") for p in page.posts)
    assert [p.created for p in page.posts] == [datetime.fromtimestamp(c["data"]["created_utc"], timezone.utc)
                                               .replace(tzinfo=None) for c in data["data"]["children"]]


@pytest.mark.parametrize("name, post_id, link", [
    ("TestFront.test_new__1.json", "t3_48f0ri", "https://imgur.com/BOfrQre"),
    ("TestDomainListing.test_new__1.json", "t3_5d7qul", "https://www.youtube.com/watch?v=J8VSHDDKMas"),
    ("TestReddit.test_info_url__1.json", "t3_6eudcy", "http://www.youtube.com"),
])
def test_parsers_reddit_link_posts_link_their_url(name, post_id, link):
    post = next(p for p in reddit.parse_listing(recording(REDDIT / name)).posts if p.platform_id == post_id)
    assert post.links[0] == link and post.text == post.title  # no self text: the title is the text


def test_parsers_reddit_deleted_authors_are_none_and_deleted_posts_have_no_text():
    top = reddit.parse_listing(recording(REDDIT / "TestSubredditListings.test_top__1.json"))
    assert [p.platform_id for p in top.posts if p.author is None] == ["t3_1rwouq", "t3_3gzot8", "t3_26zbvc", "t3_160ljs"]
    assert all(p.text and not p.deleted for p in top.posts)  # only the account is gone: the posts are kept
    real = recording(REDDIT / "TestSubreddit.test_search__1.json")["data"]["children"][0]["data"]
    for change in ({"selftext": "[removed]"}, {"selftext": "[deleted]", "author": "[deleted]"},
                   {"removed_by_category": "moderator"}):
        post = reddit.submission({**copy.deepcopy(real), **change})
        assert post.deleted and post.text == "" and post.platform_id == "t3_3gpbiu"
        assert post.created == datetime(2015, 8, 12, 9, 8, 34)  # still dated: the crawl knows how far it got


def test_parsers_reddit_thread_links_comments_to_their_parents():
    data = recording(REDDIT / "TestSubmission.test_comments__1.json")
    thread = reddit.parse_thread(data, "[PRAW] HTTPS enabled PRAW testing needed")
    assert [(c.platform_id, c.parent, c.author) for c in thread.posts] == [
        ("t1_cklfmye", "t3_2gmzqe", "paneer_burrito"), ("t1_cklhv0f", "t1_cklfmye", "bboe")]
    first = thread.posts[0]
    assert first.kind == "comment" and first.title == "[PRAW] HTTPS enabled PRAW testing needed"
    assert first.url == "https://www.reddit.com/r/redditdev/comments/2gmzqe/_/cklfmye/"  # 2016: no permalink, built
    assert first.created == datetime(2014, 9, 18, 1, 51, 52) and first.engagement == {"score": 1}
    assert thread.posts[1].text.startswith("Yes it does. That fix is also in the master branch")
    assert thread.skipped == 0


def test_parsers_reddit_thread_skips_deleted_comments_and_counts_more_stubs():
    data = recording(REDDIT / "TestMore.test_comments__2.json")
    thread = reddit.parse_thread(data, "Ba Dum Tsss")
    comments = _t1_tree(data[1]["data"]["children"])
    assert len(thread.posts) == len(comments) == 476 and thread.skipped == 18
    deleted = [c for c in thread.posts if c.deleted]
    assert [c.platform_id for c in deleted] == ["t1_cu5w5hz", "t1_cu5y4ro", "t1_cu60yyr", "t1_cu61dgb", "t1_cu61tk1",
                                                "t1_cu61rpx"]
    assert all(c.text is None and c.author is None for c in deleted)
    assert {c.platform_id for c in thread.posts} == {c["name"] for c in comments}
    assert all(c.title == "Ba Dum Tsss" for c in thread.posts)
    links = [link for c in thread.posts for link in c.links]
    assert len(links) == 67 and links[:3] == ["/r/funny", "http://i.imgur.com/luKjJ0o.gifv",
                                              "https://www.youtube.com/watch?v=MQgP96uTLTU"]


@pytest.mark.parametrize("parse, data, reason", [
    (reddit.parse_listing, "TestSubmission.test_comments__1.json", "Reddit did not return a Listing"),
    (reddit.parse_listing, None, "Reddit did not return a Listing"),
    (reddit.parse_thread, "TestSubreddit.test_search__1.json", "Reddit did not return a [post, comments] pair"),
    (reddit.parse_thread, [], "Reddit did not return a [post, comments] pair"),
])
def test_parsers_reddit_other_answers_raise(parse, data, reason):
    with pytest.raises(ApiError, match=re.escape(reason)):
        parse(recording(REDDIT / data) if isinstance(data, str) else data)


# -- Hacker News (Algolia's format, written by crawler/demo/replay/social.py: no public recording) -------------

NOW = datetime(2026, 2, 14, 12, 0, tzinfo=timezone.utc)


def _hn_hits():
    story = social.algolia_story(900, "Seedance 2.0 is out", "https://variety.example/seedance", "user0", NOW,
                                 points=10, comments=2, story_text="<p>Text of <a href=\"https://a.example/x\">it</a></p>")
    comment = social.algolia_comment(950, story, 900, "reader0", '<p>Seen <a href="https://b.example/y">this</a>?</p>',
                                     NOW + timedelta(minutes=30))
    deleted = {**social.algolia_comment(999, story, 950, None, None, NOW + timedelta(minutes=40)), "author": None}
    return story, comment, deleted


def test_parsers_hackernews_stories_and_comments():
    story, comment, deleted = _hn_hits()
    page = hackernews.parse_search(social.algolia_page([deleted, comment, story], 0, 1, "Seedance"))
    assert [(p.platform_id, p.kind) for p in page.posts] == [("999", "comment"), ("950", "comment"), ("900", "post")]
    gone, reply, post = page.posts
    assert post.url == "https://news.ycombinator.com/item?id=900" and post.author == "user0"
    assert post.text == "Seedance 2.0 is out\n\nText of it" and post.title == "Seedance 2.0 is out"
    assert post.links == ["https://variety.example/seedance", "https://a.example/x"]
    assert post.engagement == {"score": 10, "replies": 2} and post.created == datetime(2026, 2, 14, 12, 0)
    assert reply.parent == "900" and reply.title == "Seedance 2.0 is out" and reply.text == "Seen this?"
    assert reply.links == ["https://b.example/y"] and reply.engagement == {"likes": None}
    assert gone.text is None and gone.author is None and gone.parent == "950"  # deleted: nothing to store
    assert page.next is None and page.items == 3 and page.skipped == 0


@pytest.mark.parametrize("page, pages, hits, expected", [(0, 2, 1, "1"), (1, 2, 1, None), (1, 3, 1, "2"),
                                                         (0, 2, 0, None), (0, 0, 0, None)])
def test_parsers_hackernews_next_page_from_nb_pages(page, pages, hits, expected):
    story, _, _ = _hn_hits()
    assert hackernews.parse_search(social.algolia_page([story] * hits, page, pages, "q"), page).next == expected


def test_parsers_hackernews_hits_without_object_id_are_skipped_and_no_hits_list_raises():
    story, comment, _ = _hn_hits()
    page = hackernews.parse_search(social.algolia_page([{**story, "objectID": ""}, "junk", comment], 0, 1, "q"))
    assert [p.platform_id for p in page.posts] == ["950"] and page.skipped == 2 and page.items == 3
    for answer in ({"message": "Invalid query"}, [story], None):
        with pytest.raises(ApiError, match="Algolia did not return a hits list"):
            hackernews.parse_search(answer)


# -- Bluesky (real post views from medialab/twitwi, in the searchPosts envelope) --------------------------------

@pytest.fixture(scope="module")
def bluesky_views():
    return [view for view in json.loads(BLUESKY.read_text(encoding="utf-8")) if "record" in view]


def test_parsers_bluesky_search_page_with_cursor_deleted_views_and_replies(bluesky_views):
    gone = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://did:plc:gone/app.bsky.feed.post/3lgone",
            "notFound": True}
    page = bluesky.parse_search({"posts": bluesky_views + [gone], "cursor": "c-123", "hitsTotal": 111})
    assert len(bluesky_views) == 110 and len(page.posts) == 110 and page.deleted == 1 and page.items == 111
    assert page.next == "c-123" and gone["uri"] not in {p.platform_id for p in page.posts}
    assert [p.kind for p in page.posts].count("comment") == 13
    first = page.posts[0]
    assert first.platform_id == "at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkizm6uvhc2b"
    assert first.url == "https://bsky.app/profile/pecqueuxanthony.bsky.social/post/3lkizm6uvhc2b"
    assert first.author == "pecqueuxanthony.bsky.social" and first.lang == "fr" and first.kind == "post"
    assert first.created == datetime(2025, 3, 16, 16, 9, 9, 779000) and first.text.endswith("#HCERES #ESR")
    assert first.engagement == {"likes": 34, "reposts": 8, "replies": 2}
    for post, view in zip(page.posts, bluesky_views):
        assert (post.platform_id, post.author, post.text) == (view["uri"], view["author"]["handle"], view["record"]["text"])
    reply = next(p for p in page.posts if p.platform_id.endswith("/3lkhaibfxv22b"))  # a comment of its parent
    assert reply.kind == "comment" and reply.author == "pierre.senellart.com"
    assert reply.parent == "at://did:plc:7g4ic3vzf6ts42dmpy5usg4l/app.bsky.feed.post/3lkgnjzh6ec2g"
    assert bluesky.parse_search({"posts": bluesky_views}).next is None  # no cursor: the last page


@pytest.mark.parametrize("rkey, links", [
    ("3lkdnb2gtzk2c", ["https://laviedesidees.fr/L-HCERES-et-l-evaluation-des-universites"] * 3),  # facet, cards
    ("3ljpthyfcqs2e", ["https://medialab.sciencespo.fr/outils/"]),
    ("3lkizm6uvhc2b", []),
    ("3lloj4ipqqh27", ["https://korben.info/xan-couteau-suisse-manipulation-csv-ligne-commande.html"] * 2),  # card
])
def test_parsers_bluesky_links_of_facets_and_link_cards(rkey, links):
    views = json.loads(BLUESKY.read_text(encoding="utf-8"))  # with the feed views ({"post": view, "reason": ...})
    view = next(v.get("post", v) for v in views if v.get("post", v)["uri"].endswith("/" + rkey))
    assert bluesky.post_view(view).links == links


def test_parsers_bluesky_pseudonymised_links_name_the_did_and_other_answers_raise(bluesky_views):
    post = bluesky.parse_search({"posts": bluesky_views[:1]}, pseudonymised=True).posts[0]
    assert post.url == "https://bsky.app/profile/did:plc:crmrddqmbqzyqd24yjlpibz2/post/3lkizm6uvhc2b"
    assert post.author == "pecqueuxanthony.bsky.social"  # pseudonymised by the spider, with the database's key
    for answer in ({"error": "InvalidRequest"}, bluesky_views, {"posts": None}):
        with pytest.raises(ApiError, match="searchPosts did not return a posts list"):
            bluesky.parse_search(answer)


# -- Mastodon (a Mastodon 4 server's answers recorded by Mastodon.py) -----------------------------------------

def test_parsers_mastodon_tag_timeline_and_its_next_link():
    recorded = json.loads((MASTODON / "test_hashtag_tl__2.json").read_text(encoding="utf-8"))
    page = mastodon.parse_timeline(recorded["body"], LOCAL)
    [status] = page.posts
    assert status.platform_id == f"{LOCAL}/ap/users/117020566092212359/statuses/117020593741189701"
    assert status.url == f"{LOCAL}/@mastodonpy_test_2/117020593741189701" and status.kind == "post"
    assert status.author == "mastodonpy_test_2@localhost:3000" and status.text == "#hoot (hashtag toot)"
    assert status.lang == "ja" and status.reply_to is None and status.status_id == "117020593741189701"
    assert status.created == status.listed_at == page.oldest == datetime(2026, 8, 1, 13, 55, 55, 867000)
    assert status.engagement == {"likes": 0, "reposts": 0, "replies": 0} and status.links == []
    assert page.items == 1 and page.skipped == 0
    assert mastodon.next_link(recorded["_link"][0]) == f"{LOCAL}/api/v1/timelines/tag/hoot?max_id=117020593741189701"


@pytest.mark.parametrize("name, next_url", [
    ("test_public_tl__2.json", f"{LOCAL}/api/v1/timelines/public?max_id=117020574694606796"),
    ("test_public_tl__3.json", f"{LOCAL}/api/v1/timelines/public?local=1&max_id=117020574694606796"),
    ("test_public_tl_anonymous__2.json", f"{LOCAL}/api/v1/timelines/public?max_id=117020574694606796"),
])
def test_parsers_mastodon_public_timelines(name, next_url):
    recorded = json.loads((MASTODON / name).read_text(encoding="utf-8"))
    page = mastodon.parse_timeline(recorded["body"], LOCAL)
    assert [s.platform_id for s in page.posts] == [s["uri"] for s in recorded["body"]] and page.items == 8
    assert page.oldest == min(s.created for s in page.posts) == page.posts[-1].created
    assert {s.author for s in page.posts} <= {"admin@localhost:3000", "mastodonpy_test_2@localhost:3000"}
    assert mastodon.next_link(recorded["_link"][0]) == next_url


def test_parsers_mastodon_mentions_are_not_links_and_html_becomes_text():
    statuses = recording(MASTODON / "test_public_tl__2.json")
    jeep = next(s for s in statuses if "jeep" in s["content"])
    post = mastodon.parse_status(jeep, LOCAL)
    assert post.text == "@mastodonpy_test beep beep I'm a jeep" and post.links == []
    assert html_links(jeep["content"]) == [] and html_to_text(jeep["content"]) == post.text
    assert html_links('<a href="https://x.example/a" class="mention hashtag">#a</a> <a href="https://y.example/">y</a>') \
        == ["https://y.example/"]


@pytest.mark.parametrize("header, expected", [('<https://m.example/t?max_id=9>; rel="next", <https://m.example/t?min_id=1>;'
                                               ' rel="prev"', "https://m.example/t?max_id=9"),
                                              ('<https://m.example/t?min_id=1>; rel="prev"', None), ("", None), (None, None)])
def test_parsers_mastodon_next_link_of_the_link_header(header, expected):
    assert mastodon.next_link(header) == expected


def test_parsers_mastodon_statuses_cards_boosts_replies_and_missing_ones():
    data = recording(MASTODON / "test_status_card__1.json")
    post = mastodon.parse_status(data, LOCAL)
    assert post.links == ["http://example.org/", "http://example.org/"]  # in the content and the card
    assert post.text == "http://example.org/"
    single = mastodon.parse_status(recording(MASTODON / "test_status__1.json"), LOCAL, pseudonymised=True)
    assert single.url == f"{LOCAL}/api/v1/statuses/117020583223442465" and single.text == "Toot!"
    assert single.author == "mastodonpy_test@localhost:3000"
    real = recording(MASTODON / "test_status__1.json")
    boost = {**copy.deepcopy(real), "id": "117020600000000009", "uri": f"{LOCAL}/users/admin/statuses/9/activity",
             "created_at": "2026-08-02T09:00:00.000Z", "content": "", "reblog": real}
    post = mastodon.parse_status(boost, LOCAL)
    assert post.platform_id == real["uri"] and post.text == "Toot!"  # the status boosted, stored once
    assert post.listed_at == datetime(2026, 8, 2, 9) and post.created == datetime(2026, 8, 1, 13, 53, 15, 378000)
    reply = mastodon.parse_status({**copy.deepcopy(real), "in_reply_to_id": "117020574694606796"}, LOCAL)
    assert reply.kind == "comment" and reply.reply_to == "117020574694606796" and reply.parent is None
    assert mastodon.parse_status(recording(MASTODON / "test_status_missing__0.json"), LOCAL) is None  # 404 body
    page = mastodon.parse_timeline([real, {"id": "1"}, "junk"], LOCAL)
    assert [s.platform_id for s in page.posts] == [real["uri"]] and page.skipped == 2 and page.items == 3


def test_parsers_mastodon_search_and_context_answers():
    for name in ("test_search__0.json", "test_search__2.json"):  # the recorded searches found no statuses
        page = mastodon.parse_search(recording(MASTODON / name), LOCAL)
        assert page.posts == [] and page.items == 0 and page.oldest is None
    found = mastodon.parse_search({"accounts": [], "statuses": recording(MASTODON / "test_public_tl__2.json")}, LOCAL)
    assert len(found.posts) == 8 and found.posts[0].text == "Toot, finally!"
    context = recording(MASTODON / "test_status_context__1.json")
    assert mastodon.parse_timeline(context["descendants"], LOCAL).posts == []
    with pytest.raises(ApiError, match="the search answer has no statuses list"):
        mastodon.parse_search(recording(MASTODON / "test_public_tl__2.json"), LOCAL)
    with pytest.raises(ApiError, match="the tag timeline is not a list of statuses"):
        mastodon.parse_timeline(context, LOCAL)


# -- Telegram (t.me/s/NAME previews in Telegram's markup, written by crawler/demo/replay/social.py) -----------

def _channel(before: int | None = 14):
    now = datetime(2026, 2, 14, 12, 0, tzinfo=timezone.utc)
    messages = [social.telegram_message("seedwatch", 10 + i, f'Seedance clip {i} <b>wow</b> <a href="/x{i}">x</a>',
                                        now - timedelta(hours=10 - i), views=f"{i + 1}.5K", reactions=("7", "1.2K"))
                for i in range(3)]
    messages.insert(1, social.telegram_message("seedwatch", 13, None, now - timedelta(hours=9, minutes=30)))
    return social.telegram_page("seedwatch", "Seed Watch", messages, before=before)


def test_parsers_telegram_channel_messages_newest_first_paging_and_pages_without_a_channel():
    page = telegram.parse_channel(_channel(), "https://t.me/s/seedwatch")
    assert [p.platform_id for p in page.posts] == ["seedwatch/12", "seedwatch/11", "seedwatch/13", "seedwatch/10"]
    newest = page.posts[0]
    assert newest.url == "https://t.me/seedwatch/12" and newest.author == "seedwatch" and newest.kind == "post"
    assert newest.text == "Seedance clip 2 wow x" and newest.links == ["https://t.me/x2"]
    assert newest.engagement == {"views": 3500, "likes": 1207} and newest.created == datetime(2026, 2, 14, 4, 0)
    photo = page.posts[2]
    assert photo.text is None and photo.engagement == {"views": 1200, "likes": None}  # a photo without caption
    assert page.next == "https://t.me/s/seedwatch?before=14" and page.items == 4
    last = telegram.parse_channel(_channel(before=None), "https://t.me/s/seedwatch")
    assert last.next is None and len(last.posts) == 4
    empty = telegram.parse_channel(social.telegram_page("quiet", "Quiet", []), "https://t.me/s/quiet")
    assert empty.posts == [] and empty.next is None
    page = '<html><body><div class="tgme_page"><div class="tgme_page_title">Telegram</div></div></body></html>'
    with pytest.raises(ApiError, match="not a Telegram channel preview"):
        telegram.parse_channel(page, "https://t.me/s/nosuchchannel")


@pytest.mark.parametrize("text, count", [("948", 948), ("1.2K", 1200), ("3M", 3_000_000), ("1,024", 1024),
                                         ("2.5b", 2_500_000_000), ("", None), (None, None), ("many", None)])
def test_parsers_telegram_short_counts(text, count):
    assert telegram.parse_count(text) == count


# -- YouTube: a real channel Atom feed, and the Data API v3 format written by crawler/demo/replay/social.py ------

def test_parsers_youtube_real_channel_feed_videos_with_statistics_and_a_broken_feed():
    videos = youtube.parse_channel_feed(YOUTUBE_FEED.read_bytes())
    assert [v.platform_id for v in videos] == [
        "5shykyfmb28", "xfFHnBQ6nQg", "faacIELjUeI", "hydLZJXG3Tk", "1lxNpMHhJFA", "PRU2ShMzQRg", "t4vkQAByALc",
        "C57obdJnxQo", "z3v4rIG8kQA", "RyRbsmmRKnE", "DVwHCGAr_OE", "8IP7Y5B2-Io", "ayFAQ2OoJaA", "otCe903imh0",
        "8ztbpW3THmI"]
    first = videos[0]
    assert first.kind == "video" and first.url == "https://www.youtube.com/watch?v=5shykyfmb28"
    assert first.author == "Google" and first.created == datetime(2015, 5, 4, 0, 1, 27)
    assert first.title == "The Google app: Questions Title" and first.text.startswith(first.title + "\n\nA question")
    assert first.engagement == {"views": "251497", "likes": "3546"}
    assert first.links == ["http://www.google.com/search/about/download"]
    assert sum(1 for v in videos if v.links) == 7 and all(v.author == "Google" for v in videos)
    with pytest.raises(FeedError, match="not a readable channel feed"):
        youtube.parse_channel_feed(b"<html><body>Oops</body></html>")


def test_parsers_youtube_search_ids_next_token_and_deleted_videos():
    when = datetime(2026, 2, 14, 12, 0, tzinfo=timezone.utc)
    videos = [social.youtube_video(f"vid{i:08d}", f"Seedance test {i}", f"Clip {i} https://s.example/{i}", when,
                                   views=1000 * (i + 1), likes=10 * i, comments=i) for i in range(3)]
    gone = social.youtube_video("gone0000000", "Since deleted", "", when)
    search = youtube.parse_search(social.youtube_search_page(videos + [gone], "CAIQAA"))
    assert search.ids == ["vid00000000", "vid00000001", "vid00000002", "gone0000000"] and search.next == "CAIQAA"
    assert youtube.parse_search(social.youtube_search_page([])) == youtube.SearchPage(ids=[], next=None)
    page = youtube.parse_videos(social.youtube_videos_page(videos), search.ids)
    assert [v.platform_id for v in page.posts] == search.ids[:3] and page.deleted == 1 and page.items == 4
    video = page.posts[2]
    assert video.engagement == {"views": "3000", "likes": "20", "replies": "2"} and video.author == "Seed Reviews"
    assert video.text == "Seedance test 2\n\nClip 2 https://s.example/2" and video.links == ["https://s.example/2"]
    assert video.created == datetime(2026, 2, 14, 12, 0) and video.lang is None
    assert youtube.parse_videos(None, ["vid00000000"]).deleted == 1
    with pytest.raises(ApiError, match="the YouTube search answer has no items list"):
        youtube.parse_search({"error": {"code": 403}})
