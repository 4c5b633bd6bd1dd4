"""Feed, search-feed and sitemap writers of the replay site.

Each writer takes article records (see site.py) and returns the document text.
Absolute URLs use the ``__BASE_URL__`` placeholder; the Google News and Bing
feeds use ``{{gnews:/path}}``, ``{{gnewsid:/path}}`` and ``{{bing:/path}}``,
which the replay server expands (they need the real port inside an encoding).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape as html_escape
from xml.sax.saxutils import escape, quoteattr

from .compose import local_time
from .pages import DISCLAIMER

BASE = "__BASE_URL__"
GOOGLE_QUERY = "q=Seedance&amp;hl=en-US&amp;gl=US&amp;ceid=US:en"
BING_SEARCH = "https://www.bing.com:443/news/search?q=Seedance&amp;format=rss"


def _cdata(html: str) -> str:
    return "<![CDATA[" + html.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _gmt(when: datetime) -> str:
    return format_datetime(when.astimezone(timezone.utc), usegmt=True)


def _rfc822(a: dict, style: int) -> str:
    """RFC 822 dates in the zone styles seen in the wild."""
    local, abbr = local_time(a["outlet"], a["published"])
    if style == 1:
        return _gmt(a["published"])
    if style == 2:
        return format_datetime(a["published"]).replace("-0000", "+0000")
    if style == 3:
        return local.strftime("%a, %d %b %Y %H:%M:%S ") + abbr
    return format_datetime(local)


def _latest(items: list[dict]) -> datetime:
    return max((a["published"] for a in items), default=datetime(2026, 2, 12, tzinfo=timezone.utc))


def rss2(source: dict, outlet: dict, items: list[dict], relative: set[str], encoding: str = "UTF-8") -> str:
    """RSS 2.0 with CDATA descriptions, dc:creator, mixed date zones and link forms."""
    name = source["name"]
    out = [f'<?xml version="1.0" encoding="{encoding}"?>',
           '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:atom="http://www.w3.org/2005/Atom">', "<channel>",
           f"<title>{escape(outlet['name'])}</title>", f"<link>{BASE}/</link>",
           f"<description>{escape(outlet['tagline'])} · {DISCLAIMER}</description>",
           f"<language>{'zh-cn' if outlet['lang'] == 'zh' else 'en-us'}</language>",
           f"<lastBuildDate>{_gmt(_latest(items))}</lastBuildDate>",
           f'<atom:link href="{BASE}{source["path"]}" rel="self" type="application/rss+xml"/>']
    for i, a in enumerate(items):
        link = a["links"][name]
        href = link if a["slug"] in relative else BASE + link
        out += ["<item>", f"<title>{escape(a['title'])}</title>", f"<link>{escape(href)}</link>",
                f'<guid isPermaLink="false">{name}:{a["slug"]}</guid>']
        if not a.get("no_feed_date"):
            out.append(f"<pubDate>{_rfc822(a, i % 4)}</pubDate>")
        out += [f"<dc:creator>{escape(a['author'])}</dc:creator>",
                f"<category>{escape(a['section'])}</category>",
                f"<description>{_cdata('<p>' + html_escape(a['paragraphs'][0]) + '</p>')}</description>",
                "</item>"]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def atom(source: dict, outlet: dict, items: list[dict]) -> str:
    """Atom 1.0 with xml:base and relative links."""
    name = source["name"]
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{BASE}/" xml:lang="en">',
           f"<title>{escape(outlet['name'])}</title>",
           f"<subtitle>{escape(outlet['tagline'])} · {DISCLAIMER}</subtitle>",
           f"<id>tag:{name}.example,2026:feed</id>",
           f'<link rel="self" href="{source["final_path"].lstrip("/")}"/>',
           '<link rel="alternate" type="text/html" href="./"/>',
           f"<updated>{_latest(items).isoformat().replace('+00:00', 'Z')}</updated>"]
    for a in items:
        published = local_time(a["outlet"], a["published"])[0].isoformat()
        out += ["<entry>", f"<title>{escape(a['title'])}</title>",
                f'<link rel="alternate" type="text/html" href={quoteattr(a["links"][name].lstrip("/"))}/>',
                f"<id>tag:{name}.example,2026:{a['slug']}</id>",
                f"<published>{published}</published>", f"<updated>{published}</updated>",
                f"<author><name>{escape(a['author'])}</name></author>",
                f'<summary type="html">{escape("<p>" + html_escape(a["paragraphs"][0]) + "</p>")}</summary>',
                "</entry>"]
    out += ["</feed>", ""]
    return "\n".join(out)


def rdf(source: dict, outlet: dict, items: list[dict]) -> str:
    """RSS 1.0 (RDF) with dc:date."""
    name = source["name"]
    urls = [BASE + a["links"][name] for a in items]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
           f'<channel rdf:about="{BASE}{source["path"]}">', f"<title>{escape(outlet['name'])}</title>",
           f"<link>{BASE}/</link>", f"<description>{escape(outlet['tagline'])} · {DISCLAIMER}</description>",
           "<dc:language>en</dc:language>",
           f"<dc:date>{local_time(outlet, _latest(items))[0].isoformat()}</dc:date>",
           "<items><rdf:Seq>", *(f"<rdf:li rdf:resource={quoteattr(u)}/>" for u in urls),
           "</rdf:Seq></items>", "</channel>"]
    for a, url in zip(items, urls):
        out += [f"<item rdf:about={quoteattr(url)}>", f"<title>{escape(a['title'])}</title>",
                f"<link>{escape(url)}</link>", f"<description>{escape(a['paragraphs'][0])}</description>",
                f"<dc:date>{local_time(a['outlet'], a['published'])[0].isoformat()}</dc:date>",
                f"<dc:creator>{escape(a['author'])}</dc:creator>",
                f"<dc:subject>{escape(a['section'])}</dc:subject>", "</item>"]
    out += ["</rdf:RDF>", ""]
    return "\n".join(out)


def _gnews_anchor(a: dict) -> str:
    return (f'<a href="{{{{gnews:{a["canonical_path"]}}}}}" target="_blank">{html_escape(a["title"], quote=False)}'
            f'</a>&nbsp;&nbsp;<font color="#6f6f6f">{html_escape(a["outlet"]["name"], quote=False)}</font>')


def google_news(items: list[dict], clusters: dict[str, list[dict]]) -> str:
    """A Google News search RSS ("Seedance"), in Google's one-line format."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
            'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
            '<title>"Seedance" - Google News</title>'
            f'<link>https://news.google.com/search?{GOOGLE_QUERY}</link><language>en-US</language>'
            '<webMaster>news-webmaster@google.com</webMaster>'
            f'<copyright>{DISCLAIMER}. Shaped like a Google News search feed.</copyright>'
            f'<lastBuildDate>{_gmt(_latest(items))}</lastBuildDate>'
            f'<description>Google News · {DISCLAIMER}</description>')
    parts = [head]
    for a in items:
        related = clusters.get(a["slug"], [])
        if related:
            desc = "<ol>" + "".join(f"<li>{_gnews_anchor(r)}</li>" for r in [a, *related]) + "</ol>"
        else:
            desc = _gnews_anchor(a)
        path = a["canonical_path"]
        parts.append(f"<item><title>{escape(a['title'] + ' - ' + a['outlet']['name'])}</title>"
                     f"<link>{{{{gnews:{path}}}}}</link>"
                     f'<guid isPermaLink="false">{{{{gnewsid:{path}}}}}</guid>'
                     f"<pubDate>{_gmt(a['published'])}</pubDate><description>{escape(desc)}</description>"
                     f'<source url="{BASE}">{escape(a["outlet"]["name"])}</source></item>')
    parts.append("</channel></rss>")
    return "".join(parts)


def bing_news(items: list[dict]) -> str:
    """A Bing News search RSS ("Seedance") with apiclick.aspx redirect links."""
    parts = ['<?xml version="1.0" encoding="utf-8" ?>'
             f'<rss version="2.0" xmlns:News="{BING_SEARCH}"><channel><title>Seedance - BingNews</title>'
             f'<link>{BING_SEARCH}</link><description>Search results · {DISCLAIMER}</description>'
             f'<image><url>http://www.bing.com/s/a/bing_p.ico</url><title>Seedance</title>'
             f'<link>{BING_SEARCH}</link></image>'
             f'<copyright>{DISCLAIMER}. Shaped like a Bing News search feed.</copyright>']
    for a in items:
        snippet = a["paragraphs"][0]
        snippet = snippet if len(snippet) <= 220 else snippet[:217].rsplit(" ", 1)[0] + " …"
        parts.append(f"<item><title>{escape(a['title'])}</title><link>{{{{bing:{a['canonical_path']}}}}}</link>"
                     f"<description>{escape(snippet)}</description><pubDate>{_gmt(a['published'])}</pubDate>"
                     f"<News:Source>{escape(a['outlet']['name'])}</News:Source></item>")
    parts.append("</channel></rss>")
    return "".join(parts)


def gdelt_artlist(items: list[dict]) -> str:
    """A GDELT DOC 2.0 ``mode=artlist&format=json`` response."""
    rows = []
    for a in items:
        seen = a["published"].astimezone(timezone.utc)
        seen = seen.replace(minute=seen.minute - seen.minute % 15, second=0)
        rows.append({"url": BASE + a["canonical_path"], "url_mobile": "", "title": a["title"],
                     "seendate": seen.strftime("%Y%m%dT%H%M%SZ"), "socialimage": f"{BASE}/static/og.png",
                     "domain": "127.0.0.1", "language": "Chinese" if a["lang"] == "zh" else "English",
                     "sourcecountry": a["outlet"]["country"]})
    return json.dumps({"articles": rows}, ensure_ascii=False, indent=1) + "\n"


def news_sitemap(items: list[dict]) -> str:
    """A Google News sitemap."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">']
    for a in items:
        keywords = "Seedance 2.0, ByteDance, AI video" if a["on_topic"] else a["section"]
        out.append(f"<url><loc>{BASE}{a['canonical_path']}</loc><news:news><news:publication>"
                   f"<news:name>{escape(a['outlet']['name'])}</news:name>"
                   f"<news:language>{'zh-cn' if a['lang'] == 'zh' else 'en'}</news:language></news:publication>"
                   f"<news:publication_date>{local_time(a['outlet'], a['published'])[0].isoformat()}"
                   f"</news:publication_date><news:title>{escape(a['title'])}</news:title>"
                   f"<news:keywords>{escape(keywords)}</news:keywords></news:news></url>")
    out += ["</urlset>", ""]
    return "\n".join(out)


def sitemap_index(paths: list[str], lastmod: datetime) -> str:
    stamp = lastmod.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    body = "".join(f"<sitemap><loc>{BASE}{p}</loc><lastmod>{stamp}</lastmod></sitemap>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>\n')


ROBOTS = f"""# {DISCLAIMER}
User-agent: *
Disallow: /private/

Sitemap: {BASE}/sitemap.xml
"""
