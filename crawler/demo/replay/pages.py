"""HTML templates of the replay site: article pages in three outlet layouts.

Each page wraps the ``<article>`` in real-world boilerplate (cookie banner, nav,
share buttons, newsletter box, comments, related links, a "Most read" sidebar,
footer) so that text extraction has something to throw away. Pages hold the
``__BASE_URL__`` placeholder, which the replay server replaces when serving.
"""

from __future__ import annotations

import json
import posixpath
import random
import struct
import zlib
from html import escape
from urllib.parse import quote

from .compose import Composer, local_time, mentions_topic

DISCLAIMER = "Sample data written for the seedtrack demo — not real news"
COMMENTERS = ["filmbuff_88", "Jordan K.", "pixelpusher", "M. Alvarez", "quietviewer", "render_farm", "kiwi_dev"]
ZH_COMMENTERS = ["网友小林", "科技迷", "影迷阿杰", "路人甲"]
_ZH_LABELS = {"most_read": "最多阅读 Most read", "related": "相关文章", "comments": "评论",
              "newsletter": "订阅我们的新闻简报", "share": "分享到", "by": "作者：",
              "cookie": "本网站使用 Cookie 来改善您的体验。", "accept": "接受"}
_EN_LABELS = {"most_read": "Most read", "related": "Related coverage", "comments": "Comments",
              "newsletter": "Sign up for {outlet} newsletters", "share": "Share", "by": "By ",
              "cookie": "We use cookies to improve your experience and to show you relevant ads.",
              "accept": "Accept all"}


def human_date(a: dict) -> str:
    local, abbr = local_time(a["outlet"], a["published"])
    layout = a["outlet"]["layout"]
    if a["lang"] == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    if layout == "ledger":
        hour = local.hour % 12 or 12
        return f"{local:%B} {local.day}, {local.year} at {hour}:{local:%M} {'a.m.' if local.hour < 12 else 'p.m.'} {abbr}"
    if layout == "circuit":
        return f"{local:%b} {local.day}, {local.year}"
    return f"{local.day} {local:%b %Y %H:%M} {abbr}"


def iso_local(a: dict) -> str:
    return local_time(a["outlet"], a["published"])[0].isoformat()


def _head(a: dict, labels: dict) -> str:
    o, title = a["outlet"], escape(a["title"])
    url = f"__BASE_URL__{a['canonical_path']}"
    desc = escape(a["paragraphs"][0][:160])
    meta = ""
    if a["date_markup"] == "meta":
        meta = (f'<meta property="article:published_time" content="{iso_local(a)}">\n'
                f'<meta name="author" content="{escape(a["author"])}">\n')
    if a["date_markup"] == "jsonld":
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a["title"],
              "datePublished": iso_local(a), "mainEntityOfPage": url,
              "author": {"@type": "Person", "name": a["author"]},
              "publisher": {"@type": "Organization", "name": o["name"]}}
    else:
        ld = {"@context": "https://schema.org", "@type": "WebSite", "name": o["name"], "url": "__BASE_URL__/"}
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if a['lang'] == 'zh' else 'en'}">
<head>
<meta charset="{a['charset']}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {escape(o['name'])}</title>
<link rel="canonical" href="{url}">
<meta name="description" content="{desc}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:url" content="{url}">
<meta property="og:site_name" content="{escape(o['name'])}">
<meta property="og:image" content="__BASE_URL__/static/og.png">
{meta}<link rel="alternate" type="application/rss+xml" title="{escape(o['name'])}" href="{a['feed_path']}">
<link rel="stylesheet" href="/static/site.css">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"pageType": "article"}});</script>
</head>
<body class="{o['layout']}">
<div id="cookie-banner" class="cookie-banner" role="dialog"><p>{labels['cookie']}</p>
<button type="button">{labels['accept']}</button> <button type="button">Manage preferences</button></div>
"""


def _nav(a: dict) -> str:
    o = a["outlet"]
    items = "".join(f'<li><a href="/?section={quote(s)}">{escape(s)}</a></li>' for s in o["sections"])
    return (f'<header class="masthead"><a class="logo" href="/">{escape(o["name"])}</a>'
            f'<p class="tagline">{escape(o["tagline"])}</p>\n<nav class="primary-nav"><ul>{items}'
            f'<li><a href="/private/account.html">My account</a></li></ul></nav></header>\n')


def _link_list(links: list[tuple[str, str]], ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    items = "".join(f'<li><a href="{escape(href)}">{escape(t)}</a></li>' for t, href in links)
    return f"<{tag}>{items}</{tag}>"


def _share(a: dict, labels: dict) -> str:
    url = quote(f"__BASE_URL__{a['canonical_path']}", safe="_")
    text = quote(a["title"])
    return (f'<div class="share-buttons"><span>{labels["share"]}</span> '
            f'<a class="share-x" href="https://x.com/intent/post?url={url}&amp;text={text}">X</a> '
            f'<a class="share-fb" href="https://www.facebook.com/sharer/sharer.php?u={url}">Facebook</a> '
            f'<a class="share-li" href="https://www.linkedin.com/sharing/share-offsite/?url={url}">LinkedIn</a> '
            f'<a class="share-mail" href="mailto:?subject={text}">Email</a></div>\n')


def _newsletter(a: dict, labels: dict) -> str:
    return (f'<section class="newsletter-box"><h2>{labels["newsletter"].format(outlet=escape(a["outlet"]["name"]))}</h2>'
            '<form action="/?newsletter=1" method="post"><input type="email" name="email" placeholder="you@example.com">'
            '<button type="submit">Sign up</button></form><p class="fine-print">You can unsubscribe at any time.</p></section>\n')


def _comments(a: dict, labels: dict) -> str:
    names = ZH_COMMENTERS if a["lang"] == "zh" else COMMENTERS
    items = "".join(f'<li class="comment"><span class="comment-author">{escape(names[i % len(names)])}</span>'
                    f'<p>{escape(c)}</p></li>' for i, c in enumerate(a["comments"]))
    return (f'<section id="comments" class="comments"><h2>{labels["comments"]} ({len(a["comments"])})</h2>'
            f'<ol class="comment-list">{items}</ol></section>\n')


def _footer(a: dict) -> str:
    o = a["outlet"]
    return (f'<footer class="site-footer"><ul class="footer-links"><li><a href="/?page=about">About</a></li>'
            f'<li><a href="/?page=privacy">Privacy</a></li><li><a href="{a["feed_path"]}">RSS</a></li></ul>'
            f'<p>© 2026 {escape(o["name"])}. All rights reserved.</p>'
            f'<p class="disclaimer">{DISCLAIMER}. {escape(o["name"])} is an invented outlet.</p></footer>\n'
            '<script src="/static/consent.js" async></script>\n</body>\n</html>\n')


def _date_html(a: dict) -> str:
    if a["date_markup"] == "time":
        return f'<time datetime="{iso_local(a)}">{human_date(a)}</time>'
    return f'<span class="date">{human_date(a)}</span>'


def _body(a: dict, ad_after: int | None = None) -> str:
    out = []
    for i, p in enumerate(a["paragraphs"]):
        out.append(f"<p>{escape(p)}</p>")
        if ad_after is not None and i == ad_after:
            out.append('<div class="ad-slot" aria-hidden="true">Advertisement</div>')
    return "\n".join(out)


def render_article(a: dict) -> str:
    """The full HTML page of one article record (see site.py for its keys)."""
    labels = dict(_ZH_LABELS if a["lang"] == "zh" else _EN_LABELS)
    byline = (f'<p class="byline">{labels["by"]}<a rel="author" href="/?author={quote(a["author"])}">'
              f'{escape(a["author"])}</a> · {_date_html(a)}</p>')
    sidebar = (f'<aside class="sidebar most-read"><h2>{labels["most_read"]}</h2>'
               f'{_link_list(a["most_read"], ordered=True)}</aside>\n')
    related = f'<section class="related"><h2>{labels["related"]}</h2>{_link_list(a["related"])}</section>\n'
    head, nav = _head(a, labels), _nav(a)
    title = escape(a["title"])
    layout = a["outlet"]["layout"]
    if layout == "ledger":
        main = (f'<div class="layout"><main>\n<article class="story">\n<header><p class="kicker">'
                f'{escape(a["section"])}</p><h1>{title}</h1>\n{byline}</header>\n{_share(a, labels)}'
                f'<div class="story-body">\n{_body(a)}\n</div>\n</article>\n{_newsletter(a, labels)}'
                f'{related}{_comments(a, labels)}</main>\n{sidebar}</div>\n')
    elif layout == "circuit":
        main = (f'<div class="page">\n{sidebar}<main id="content">\n<article>\n<h1 class="headline">{title}</h1>\n'
                f'{byline}\n{_body(a, ad_after=2)}\n</article>\n{_share(a, labels)}{related}'
                f'{_newsletter(a, labels)}{_comments(a, labels)}</main>\n</div>\n')
    else:
        main = (f'<main class="wire">\n<article itemscope itemtype="https://schema.org/NewsArticle">\n'
                f'<h1>{title}</h1>\n{byline}\n<div class="article-body">\n{_body(a)}\n</div>\n</article>\n'
                f'{_share(a, labels)}{related}{_comments(a, labels)}</main>\n{sidebar}{_newsletter(a, labels)}')
    return head + nav + main + _footer(a)


def render_error(outlet: dict, status: int) -> str:
    msg = {404: "Page not found", 500: "Internal server error"}.get(status, "Error")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{msg} | {escape(outlet["name"])}'
            f'</title></head><body><h1>{status} {msg}</h1><p>Sorry, this page is not available.</p>'
            f'<p class="disclaimer">{DISCLAIMER}.</p></body></html>\n')


def render_index(latest: list[tuple[str, str]], feeds: list[tuple[str, str]]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>seedtrack replay site</title>'
            f'</head><body><h1>seedtrack replay site</h1><p class="disclaimer">{DISCLAIMER}. '
            'All outlets are invented.</p>\n<h2>Latest</h2>' + _link_list(latest) +
            '\n<h2>Feeds</h2>' + _link_list(feeds) + '\n</body></html>\n')


def add_boilerplate(rng: random.Random, records: list[dict]) -> None:
    """Most-read sidebar, related links and comments of every served page."""
    ok = [a for a in records if a["status"] == 200]
    en_off = [a for a in ok if a["lang"] == "en" and not a["on_topic"]]
    en_on = [a for a in ok if a["lang"] == "en" and a["on_topic"]]
    seed_titles = [a for a in en_on if "seedance" in a["title"].lower()]
    zh_off = [a for a in ok if a["lang"] == "zh" and not a["on_topic"]]
    en_ok = en_off + en_on

    def pick(pool: list[dict], k: int, me: dict) -> list[dict]:
        return [a for a in rng.sample(pool, min(k + 1, len(pool))) if a is not me][:k]

    def href(me: dict, other: dict) -> str:
        layout = me["outlet"]["layout"]
        if layout == "ledger":
            return "__BASE_URL__" + other["canonical_path"]
        if layout == "circuit":
            return other["canonical_path"]
        return posixpath.relpath(other["canonical_path"], posixpath.dirname(me["canonical_path"]))

    composer = Composer(rng)
    for a in ok:
        if a["on_topic"]:
            most = pick(en_ok + [x for x in ok if x["lang"] == "zh"] if a["lang"] == "zh" else en_ok, 5, a)
            related = pick(en_on, 3, a)
        else:
            clean = en_off + zh_off
            most = pick(clean, 5, a)
            if a["term_only_in_boilerplate"]:
                most = pick(seed_titles, rng.randint(1, 2), a) + most[:3]
                rng.shuffle(most)
            related = pick(clean, 3, a)
        a["most_read"] = [(x["title"], href(a, x)) for x in most]
        a["related"] = [(x["title"], href(a, x)) for x in related]
        a["comments"] = composer.comments(a["on_topic"], a["lang"], rng.randint(0, 4))
        if not a["on_topic"]:
            text = " ".join([a["title"], *a["paragraphs"], *a["comments"], *(t for t, _ in a["related"])])
            sidebar = mentions_topic(" ".join(t for t, _ in a["most_read"]))
            if mentions_topic(text) or sidebar != a["term_only_in_boilerplate"]:
                raise RuntimeError(f"off-topic page {a['slug']} breaks its term_only_in_boilerplate label")


def og_png() -> bytes:
    """A 1x1 PNG for og:image and GDELT's socialimage."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = zlib.compress(b"\x00\x33\x66\x99")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", raw) + chunk(b"IEND", b"")
