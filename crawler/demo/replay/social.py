"""Social endpoints of the replay site, in each platform's real response format (sample data, not real posts).

The writers (``reddit_listing``, ``reddit_thread``, ``algolia_page``, ``bluesky_page``, ``mastodon_status``)
return JSON-ready objects shaped like the platforms' answers; ``build_social(rng, records)`` uses them to
write Reddit search pages and comment trees, Hacker News Algolia pages, Bluesky ``searchPosts`` pages and
a Mastodon tag timeline about the site's articles, each paged in two, and returns the files, the routes
and the sources to crawl. Tests use the same writers for their own cases.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from .pages import COMMENTERS

BASE = "__BASE_URL__"
POST_LINES = [
    "Seedance 2.0 coverage from {outlet}: {title}",
    "Worth reading on Seedance: {title}",
    "{outlet} on ByteDance's Seedance 2.0 video model",
    "So Seedance 2.0 is everywhere this week. {title}",
]
REPLY_LINES = [
    "The motion consistency in these clips is honestly unsettling.",
    "Studios are going to fight this in court, no doubt about it.",
    "Tried it yesterday: great at camera moves, still bad at hands.",
    "Who owns the likeness of an actor once a model can do this?",
    "The pricing will decide more than the demos do.",
    "Has anyone compared it with the other video models side by side?",
]


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


# -- Reddit -----------------------------------------------------------------------------------------

def reddit_post(pid: str, title: str, author: str, created: datetime, *, url: str | None = None,
                selftext: str = "", subreddit: str = "aivideo", score: int = 1, comments: int = 0) -> dict:
    """A ``t3`` thing as Reddit's listings give it (the fields seedtrack reads and their neighbours)."""
    is_self = url is None
    return {"kind": "t3", "data": {
        "id": pid, "name": f"t3_{pid}", "title": title, "author": author, "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}", "selftext": selftext, "selftext_html": None,
        "is_self": is_self, "url": url or f"https://www.reddit.com/r/{subreddit}/comments/{pid}/",
        "domain": f"self.{subreddit}" if is_self else url.split("/")[2], "created_utc": float(_epoch(created)),
        "permalink": f"/r/{subreddit}/comments/{pid}/{title.lower().replace(' ', '_')[:40]}/", "score": score,
        "ups": score, "upvote_ratio": 0.97, "num_comments": comments, "over_18": False, "stickied": False,
    }}


def reddit_comment(cid: str, post_id: str, parent: str, author: str, body: str, created: datetime,
                   replies: list[dict] = (), subreddit: str = "aivideo", score: int = 1) -> dict:
    """A ``t1`` thing with its replies listing ("" when it has none, as Reddit writes it)."""
    return {"kind": "t1", "data": {
        "id": cid, "name": f"t1_{cid}", "link_id": f"t3_{post_id}", "parent_id": parent, "author": author,
        "body": body, "body_html": f'<div class="md"><p>{body}</p>\n</div>', "created_utc": float(_epoch(created)),
        "subreddit": subreddit, "permalink": f"/r/{subreddit}/comments/{post_id}/_/{cid}/", "score": score,
        "replies": reddit_listing(list(replies)) if replies else "",
    }}


def reddit_listing(children: list[dict], after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"modhash": "", "dist": len(children), "children": children,
                                        "after": after, "before": None}}


def reddit_thread(post: dict, comments: list[dict]) -> list[dict]:
    """``/comments/ID.json``: the post's listing, then its comment tree."""
    return [reddit_listing([post]), reddit_listing(comments)]


# -- Hacker News (Algolia) ----------------------------------------------------------------------------

def algolia_story(oid: int, title: str, url: str | None, author: str, created: datetime, points: int = 1,
                  comments: int = 0, story_text: str | None = None) -> dict:
    return {"objectID": str(oid), "story_id": oid, "title": title, "url": url, "author": author, "points": points,
            "story_text": story_text, "num_comments": comments, "created_at": _iso(created),
            "created_at_i": _epoch(created), "updated_at": _iso(created),
            "_tags": ["story", f"author_{author}", f"story_{oid}"], "children": []}


def algolia_comment(oid: int, story: dict, parent: int, author: str, html: str | None, created: datetime) -> dict:
    return {"objectID": str(oid), "comment_text": html, "author": author, "points": None, "parent_id": parent,
            "story_id": story["story_id"], "story_title": story["title"], "story_url": story["url"],
            "created_at": _iso(created), "created_at_i": _epoch(created), "updated_at": _iso(created),
            "_tags": ["comment", f"author_{author}", f"story_{story['story_id']}"]}


def algolia_page(hits: list[dict], page: int, pages: int, query: str, per_page: int = 100) -> dict:
    return {"hits": hits, "nbHits": len(hits) + per_page * (pages - 1), "page": page, "nbPages": pages,
            "hitsPerPage": per_page, "exhaustiveNbHits": True, "exhaustiveTypo": True,
            "exhaustive": {"nbHits": True, "typo": True}, "query": query,
            "params": f"query={query}&tags=%28story%2Ccomment%29&hitsPerPage={per_page}&page={page}",
            "processingTimeMS": 1, "processingTimingsMS": {"_request": {"roundTrip": 12}}, "serverTimeMS": 2}


# -- Bluesky --------------------------------------------------------------------------------------------

def bluesky_post(did: str, handle: str, rkey: str, text: str, created: datetime, *, link: str | None = None,
                 reply_to: str | None = None, likes: int = 0, reposts: int = 0, replies: int = 0) -> dict:
    """An ``app.bsky.feed.defs#postView`` (a link becomes a facet, a reply gets ``record.reply``)."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso(created), "langs": ["en"], "text": text}
    if link:
        record["text"] = f"{text} {link}"
        start = len(text.encode()) + 1
        record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}],
                             "index": {"byteStart": start, "byteEnd": start + len(link.encode())}}]
    if reply_to:
        record["reply"] = {"parent": {"cid": "bafyreib" + rkey, "uri": reply_to},
                           "root": {"cid": "bafyreib" + rkey, "uri": reply_to}}
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "bafyreia" + rkey,
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0], "labels": [],
                       "createdAt": "2024-01-01T00:00:00.000Z"},
            "record": record, "replyCount": replies, "repostCount": reposts, "likeCount": likes, "quoteCount": 0,
            "indexedAt": _iso(created), "labels": []}


def bluesky_page(posts: list[dict], cursor: str | None = None) -> dict:
    page: dict[str, Any] = {"posts": posts, "hitsTotal": len(posts)}
    if cursor:
        page["cursor"] = cursor
    return page


# -- Mastodon -------------------------------------------------------------------------------------------

def mastodon_status(sid: str, instance: str, username: str, html: str, created: datetime, *,
                    card_url: str | None = None, reply_to: str | None = None, tags: list[str] = ("seedance",),
                    favourites: int = 0, reblogs: int = 0, replies: int = 0) -> dict:
    """A Mastodon ``Status`` entity as ``/api/v1/timelines/tag/TAG`` returns it (a local account)."""
    account = {"id": "1" + sid[-6:], "username": username, "acct": username, "display_name": username,
               "url": f"{instance}/@{username}", "uri": f"{instance}/users/{username}", "bot": False}
    return {"id": sid, "created_at": _iso(created), "in_reply_to_id": reply_to,
            "in_reply_to_account_id": "1" if reply_to else None, "sensitive": False, "spoiler_text": "",
            "visibility": "public", "language": "en", "uri": f"{instance}/users/{username}/statuses/{sid}",
            "url": f"{instance}/@{username}/{sid}", "replies_count": replies, "reblogs_count": reblogs,
            "favourites_count": favourites, "edited_at": None, "content": html, "reblog": None, "account": account,
            "media_attachments": [], "mentions": [],
            "tags": [{"name": t, "url": f"{instance}/tags/{t}"} for t in tags], "emojis": [],
            "card": {"url": card_url, "title": "", "type": "link"} if card_url else None, "poll": None}


# -- Telegram ------------------------------------------------------------------------------------------

def telegram_message(channel: str, mid: int, html: str | None, created: datetime, views: str = "1.2K",
                     reactions: tuple[str, ...] = ()) -> str:
    """One message of a ``t.me/s/NAME`` preview (``html`` None: a photo without caption)."""
    text = f'<div class="tgme_widget_message_text js-message_text" dir="auto">{html}</div>' if html is not None else (
        f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{mid}" '
        'style="width:800px;background-image:url(\'https://cdn4.cdn-telegram.org/file/x.jpg\')"></a>')
    spans = "".join(f'<span class="tgme_reaction"><i class="emoji"><b>👍</b></i>{count}</span>' for count in reactions)
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel}/{mid}" data-view="eyJjIjotMTAw">
<div class="tgme_widget_message_user"><a href="https://t.me/{channel}"><i class="tgme_widget_message_user_photo bgcolor0" data-content="S"></i></a></div>
<div class="tgme_widget_message_bubble"><i class="tgme_widget_message_bubble_tail"></i>
<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{channel}"><span dir="auto">{channel}</span></a></div>
{text}
{'<div class="tgme_widget_message_reactions js-message_reactions">' + spans + '</div>' if spans else ''}
<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">
<span class="tgme_widget_message_views">{views}</span><span class="copyonclick" data-copy="https://t.me/{channel}/{mid}"></span>
<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{channel}/{mid}"><time datetime="{created.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S+00:00')}" class="time">{created:%H:%M}</time></a></span>
</div></div></div></div></div>"""


def telegram_page(channel: str, title: str, messages: list[str], before: int | None = None) -> str:
    """A ``t.me/s/NAME`` channel preview: messages oldest first, a link to older ones (``?before=ID``)."""
    more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}?before={before}" '
            f'class="tme_messages_more js-messages_more" data-before="{before}"></a></div>') if before else ""
    prev = f'<link rel="prev" href="/s/{channel}?before={before}">' if before else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title} – Telegram</title>
<meta property="og:title" content="{title}"><link rel="canonical" href="https://t.me/s/{channel}">{prev}</head>
<body class="widget_frame_base tgme_webpreview_body"><main class="tgme_main"><div class="tgme_container">
<div class="tgme_channel_info"><div class="tgme_channel_info_header"><div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>
<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div></div></div>
<section class="tgme_channel_history js-message_history">{more}
{chr(10).join(messages)}
</section></div></main></body></html>
"""


# -- YouTube -------------------------------------------------------------------------------------------

def youtube_video(vid: str, title: str, description: str, created: datetime, channel: str = "Seed Reviews",
                  views: int = 0, likes: int = 0, comments: int = 0) -> dict:
    """A ``youtube#video`` resource with ``snippet`` and ``statistics`` (counts are strings, as the API sends)."""
    snippet = {"publishedAt": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "channelId": "UC" + channel.replace(" ", "")[:20].ljust(22, "x"), "title": title,
               "description": description, "channelTitle": channel, "liveBroadcastContent": "none",
               "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{vid}/default.jpg", "width": 120, "height": 90}}}
    return {"kind": "youtube#video", "etag": "e" + vid, "id": vid, "snippet": snippet,
            "statistics": {"viewCount": str(views), "likeCount": str(likes), "favoriteCount": "0",
                           "commentCount": str(comments)}}


def youtube_search_page(videos: list[dict], next_token: str | None = None) -> dict:
    """A ``youtube#searchListResponse`` for ``search?part=snippet&type=video``."""
    page: dict[str, Any] = {
        "kind": "youtube#searchListResponse", "etag": "s", "regionCode": "US",
        "pageInfo": {"totalResults": len(videos), "resultsPerPage": 50},
        "items": [{"kind": "youtube#searchResult", "etag": "r" + v["id"],
                   "id": {"kind": "youtube#video", "videoId": v["id"]}, "snippet": v["snippet"]} for v in videos]}
    if next_token:
        page["nextPageToken"] = next_token
    return page


def youtube_videos_page(videos: list[dict]) -> dict:
    return {"kind": "youtube#videoListResponse", "etag": "v", "items": videos,
            "pageInfo": {"totalResults": len(videos), "resultsPerPage": len(videos)}}


def youtube_channel_feed(channel_id: str, title: str, videos: list[dict]) -> str:
    """A channel's ``feeds/videos.xml`` Atom feed (yt: and media: namespaces, as YouTube serves it)."""
    from xml.sax.saxutils import escape

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" '
           'xmlns="http://www.w3.org/2005/Atom">',
           f' <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={channel_id}"/>',
           f" <id>yt:channel:{channel_id}</id>", f" <yt:channelId>{channel_id}</yt:channelId>",
           f" <title>{escape(title)}</title>"]
    for v in videos:
        sn, st = v["snippet"], v["statistics"]
        out += [" <entry>", f"  <id>yt:video:{v['id']}</id>", f"  <yt:videoId>{v['id']}</yt:videoId>",
                f"  <yt:channelId>{channel_id}</yt:channelId>", f"  <title>{escape(sn['title'])}</title>",
                f'  <link rel="alternate" href="https://www.youtube.com/watch?v={v["id"]}"/>',
                f"  <author><name>{escape(title)}</name><uri>https://www.youtube.com/channel/{channel_id}</uri></author>",
                f"  <published>{sn['publishedAt'].replace('Z', '+00:00')}</published>",
                "  <media:group>", f"   <media:title>{escape(sn['title'])}</media:title>",
                f"   <media:description>{escape(sn['description'])}</media:description>",
                f'   <media:community><media:starRating count="{st["likeCount"]}" average="5.00" min="1" max="5"/>'
                f'<media:statistics views="{st["viewCount"]}"/></media:community>', "  </media:group>", " </entry>"]
    return "\n".join(out + ["</feed>", ""])


# -- the demo's social sources ------------------------------------------------------------------------

def build_social(rng: random.Random, records: list[dict]) -> tuple[dict[str, Any], dict[str, dict], list[dict]]:
    """(files, routes, sources) of the replay site's social endpoints, about its on-topic articles."""
    on = [a for a in records if a["on_topic"] and a["lang"] == "en" and a["status"] == 200]
    picked = sorted(rng.sample(on, min(8, len(on))), key=lambda a: a["published"], reverse=True)
    files: dict[str, Any] = {}
    routes: dict[str, dict] = {}

    def line(a: dict) -> str:
        return rng.choice(POST_LINES).format(outlet=a["outlet"]["name"], title=a["title"])

    def later(a: dict, hours: int) -> datetime:
        return a["published"] + timedelta(hours=hours, minutes=rng.randrange(60))

    # Reddit: two search pages, a comment tree per post (one comment deleted)
    posts = []
    for i, a in enumerate(picked):
        pid = f"s{i:02d}dm"
        post = reddit_post(pid, line(a), rng.choice(COMMENTERS).replace(" ", "_"), later(a, 1),
                           url=BASE + a["canonical_path"], score=rng.randrange(5, 900), comments=3)
        c1, c2, c3 = (f"c{i:02d}{n}dm" for n in "abc")
        tree = [reddit_comment(c1, pid, f"t3_{pid}", "render_farm", rng.choice(REPLY_LINES), later(a, 2), [
                    reddit_comment(c2, pid, f"t1_{c1}", "quietviewer", rng.choice(REPLY_LINES), later(a, 3))]),
                reddit_comment(c3, pid, f"t3_{pid}", "[deleted]", "[deleted]", later(a, 4))]
        files[f"/_social/reddit/comments-{pid}.json"] = reddit_thread(post, tree)
        routes[f"/comments/{pid}.json"] = {"file": f"_social/reddit/comments-{pid}.json"}
        posts.append(post)
    half = len(posts) // 2
    files["/_social/reddit/search-1.json"] = reddit_listing(posts[:half], after=posts[half - 1]["data"]["name"])
    files["/_social/reddit/search-2.json"] = reddit_listing(posts[half:])
    routes["/search.json"] = {"file": "_social/reddit/search-1.json"}
    routes[f"/search.json?q=Seedance&sort=new&limit=100&raw_json=1&after={posts[half - 1]['data']['name']}"] = {
        "file": "_social/reddit/search-2.json"}

    # Hacker News: stories linking to articles, with comments; two pages
    hits = []
    for i, a in enumerate(picked[:6]):
        story = algolia_story(47100000 + i * 10, a["title"], BASE + a["canonical_path"], "throwaway_" + str(i),
                              later(a, 1), points=rng.randrange(3, 400), comments=2)
        hits += [algolia_comment(story["story_id"] + 1, story, story["story_id"], "dang_fan",
                                 f"<p>{rng.choice(REPLY_LINES)}</p>", later(a, 2)), story]
    hits.sort(key=lambda h: h["created_at_i"], reverse=True)
    files["/_social/hn/page-0.json"] = algolia_page(hits[: len(hits) // 2], 0, 2, "Seedance")
    files["/_social/hn/page-1.json"] = algolia_page(hits[len(hits) // 2:], 1, 2, "Seedance")
    routes["/api/v1/search_by_date"] = {"file": "_social/hn/page-0.json"}
    routes["/api/v1/search_by_date?query=Seedance&tags=%28story%2Ccomment%29&hitsPerPage=100&page=1"] = {
        "file": "_social/hn/page-1.json"}

    # Bluesky: posts with link facets and replies; two pages by cursor
    views = []
    for i, a in enumerate(picked):
        did = f"did:plc:demo{i:020d}"
        post = bluesky_post(did, f"creator{i}.bsky.social", f"3ldemo{i:05d}", line(a), later(a, 1),
                            link=BASE + a["canonical_path"], likes=rng.randrange(200), reposts=rng.randrange(40),
                            replies=1)
        reply = bluesky_post(f"did:plc:reply{i:019d}", f"viewer{i}.bsky.social", f"3lreply{i:04d}",
                             rng.choice(REPLY_LINES) + " #Seedance", later(a, 2), reply_to=post["uri"])
        views += [reply, post]
    files["/_social/bluesky/page-1.json"] = bluesky_page(views[: len(views) // 2], cursor="demo-page-2")
    files["/_social/bluesky/page-2.json"] = bluesky_page(views[len(views) // 2:])
    routes["/xrpc/app.bsky.feed.searchPosts"] = {"file": "_social/bluesky/page-1.json"}
    routes["/xrpc/app.bsky.feed.searchPosts?q=Seedance&sort=latest&limit=100&cursor=demo-page-2"] = {
        "file": "_social/bluesky/page-2.json"}

    # Mastodon: the #seedance tag timeline, two pages linked by the Link header
    statuses = []
    for i, a in enumerate(picked):
        sid = str(115900000000000000 + i * 1000)
        statuses.append(mastodon_status(
            sid, BASE, rng.choice(["ana", "tomas", "lee", "noor"]),
            f'<p>{line(a)} <a href="{BASE}{a["canonical_path"]}" rel="nofollow noopener" target="_blank">'
            f'link</a> <a href="{BASE}/tags/seedance" class="mention hashtag" rel="tag">#<span>seedance</span></a></p>',
            later(a, 1), card_url=BASE + a["canonical_path"], favourites=rng.randrange(60),
            reblogs=rng.randrange(20), replies=0))
    statuses.sort(key=lambda s: s["created_at"], reverse=True)
    half = len(statuses) // 2
    files["/_social/mastodon/tag-1.json"] = statuses[:half]
    files["/_social/mastodon/tag-2.json"] = statuses[half:]
    routes["/api/v1/timelines/tag/seedance"] = {"file": "_social/mastodon/tag-1.json", "headers": {
        "Link": f'<{BASE}/api/v1/timelines/tag/seedance?limit=40&max_id={statuses[half - 1]["id"]}>; rel="next"'}}
    routes[f"/api/v1/timelines/tag/seedance?limit=40&max_id={statuses[half - 1]['id']}"] = {
        "file": "_social/mastodon/tag-2.json"}

    # Telegram: a channel preview, older messages behind ?before=
    oldest_first = list(reversed(picked))
    messages = [telegram_message("seedance_watch", 100 + 2 * i, f'{line(a)} <a href="{BASE}{a["canonical_path"]}" '
                                 f'target="_blank" rel="noopener">{a["outlet"]["name"]}</a>', later(a, 1),
                                 views=f"{rng.randrange(2, 90)}.{rng.randrange(10)}K", reactions=(str(rng.randrange(300)),))
                for i, a in enumerate(oldest_first)]
    messages.insert(2, telegram_message("seedance_watch", 103, None, later(oldest_first[1], 2)))  # a photo, no text
    files["/_social/telegram/page-1.html"] = telegram_page("seedance_watch", "Seedance Watch", messages[4:], before=106)
    files["/_social/telegram/page-2.html"] = telegram_page("seedance_watch", "Seedance Watch", messages[:4])
    routes["/s/seedance_watch"] = {"file": "_social/telegram/page-1.html"}
    routes["/s/seedance_watch?before=106"] = {"file": "_social/telegram/page-2.html"}

    # YouTube: a channel's Atom feed (the keyless way in)
    videos = [youtube_video(f"dm{i:09d}", line(a), f"{a['title']}\nRead more: {BASE}{a['canonical_path']}",
                            later(a, 5), views=rng.randrange(1000, 90000), likes=rng.randrange(900))
              for i, a in enumerate(picked[:5])]
    files["/_social/youtube/channel.xml"] = youtube_channel_feed("UCseedancedemo0000000000", "Seed Reviews", videos)
    routes["/feeds/videos.xml"] = {"file": "_social/youtube/channel.xml", "content_type": "application/atom+xml"}

    sources = [
        {"name": "youtube", "kind": "youtube", "path": "", "items": len(videos)},
        {"name": "telegram", "kind": "telegram", "path": "", "items": len(picked)},
        {"name": "reddit", "kind": "reddit", "path": "", "items": len(posts)},
        {"name": "hackernews", "kind": "hackernews", "path": "", "items": len(hits)},
        {"name": "bluesky", "kind": "bluesky", "path": "", "items": len(views)},
        {"name": "mastodon", "kind": "mastodon", "path": "", "items": len(statuses)},
    ]
    return files, routes, sources
