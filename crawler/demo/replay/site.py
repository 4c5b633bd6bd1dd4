"""Build the seedtrack replay site: sample news pages, feeds and search feeds.

``build_site(root, articles=40, seed=2026)`` writes a static site that
``crawler.demo.replay.server.ReplayServer`` serves on 127.0.0.1, and returns the
manifest (also written to ``root/_manifest.json``) that says what a crawler
should find there. All content is sample data written for the seedtrack demo,
not real news; the outlets are invented. Feeds hold all of their items (a
2,000-article site gives feeds of several hundred entries); nothing is split.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import feeds
from .compose import Composer, load_outlets
from .social import build_social
from .pages import DISCLAIMER, add_boilerplate, og_png, render_article, render_error, render_index

MIN_ARTICLES = 12
START = datetime(2026, 2, 12, tzinfo=timezone.utc)
END = datetime(2026, 4, 1, tzinfo=timezone.utc)
SITEMAP_SINCE = datetime(2026, 3, 17, tzinfo=timezone.utc)
UTM = "?utm_source=rss&utm_medium=feed"
EN_PREFIXES = ["Analysis: ", "Explainer: ", "Update: ", "Opinion: ", "Exclusive: ", "Watch: "]
EN_SUFFIXES = [", analysts say", " as debate grows", ": what to know", ", explained", " this week",
               ", report says", " amid scrutiny", ", sources say"]
ZH_PREFIXES = ["深度｜", "观察｜", "快评｜", "独家｜"]
ZH_SUFFIXES = ["（附视频）", "｜业内解读", "，网友热议", "｜一线调查"]
FEED_SOURCES = [
    {"name": "circuit-daily", "kind": "feed", "format": "rss", "path": "/feeds/circuit-daily.rss"},
    {"name": "frame-ledger", "kind": "feed", "format": "atom", "path": "/frame-ledger/feed",
     "final_path": "/feeds/frame-ledger.atom"},
    {"name": "pacific-tech", "kind": "feed", "format": "rdf", "path": "/feeds/pacific-tech.rdf"},
    {"name": "silicon-watch", "kind": "feed", "format": "rss", "path": "/feeds/silicon-watch.xml",
     "encoding": "gb18030"},
]
SEARCH_SOURCES = [
    {"name": "google-news", "kind": "google_news", "path": "/rss/search?q=Seedance&hl=en-US&gl=US&ceid=US:en"},
    {"name": "bing-news", "kind": "bing_news", "path": "/news/search?q=Seedance&format=rss"},
    {"name": "gdelt", "kind": "gdelt",
     "path": "/api/v2/doc/doc?query=Seedance&mode=artlist&format=json&maxrecords=250&sort=datedesc"},
    {"name": "sitemap", "kind": "sitemap", "path": "/sitemap.xml", "final_path": "/sitemap-news.xml"},
]


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("’", "")).strip("-")
    return slug[:80].rsplit("-", 1)[0] if len(slug) > 80 else slug


def _plan(rng: random.Random, n: int) -> tuple[list[dict], dict[str, dict]]:
    """Kinds, outlets, dates and text of ``n`` articles (before sources)."""
    n_zh, n_off = max(1, round(n * 0.05)), max(2, round(n * 0.25))
    zh_off = n_zh // 4
    kinds = ["zh"] * (n_zh - zh_off) + ["zh_off"] * zh_off + ["off"] * n_off + ["on"] * (n - n_zh - n_off)
    rng.shuffle(kinds)
    on = [i for i, k in enumerate(kinds) if k == "on"]
    off = [i for i, k in enumerate(kinds) if k == "off"]
    case_idx = dict(zip(["redirect", "canonical", "page_404", "page_500", "two_feeds"], rng.sample(on, 5)))
    forced = {"redirect": "pacific-tech", "canonical": "circuit-daily", "page_404": "circuit-daily",
              "page_500": "frame-ledger", "two_feeds": "frame-ledger"}
    forced = {case_idx[c]: key for c, key in forced.items()}
    flagged = set(rng.sample(off, max(1, round(len(off) * 0.4))))
    outlets = {o["key"]: o for o in load_outlets()}
    composer = Composer(rng)
    titles, slugs, records = set(), set(), []
    for i, kind in enumerate(kinds):
        lang = "zh" if kind.startswith("zh") else "en"
        key = "silicon-watch" if lang == "zh" else forced.get(i) or rng.choices(
            ["frame-ledger", "circuit-daily", "pacific-tech"], weights=(35, 35, 30))[0]
        outlet = outlets[key]
        on_topic = kind in ("on", "zh")
        text = composer.on_topic(lang) if on_topic else composer.off_topic(lang, outlet["offtopic"])
        for _ in range(16):
            if text["title"] not in titles:
                break
            prefixes, suffixes = (ZH_PREFIXES, ZH_SUFFIXES) if lang == "zh" else (EN_PREFIXES, EN_SUFFIXES)
            style = rng.randrange(3)
            text["title"] = ((rng.choice(prefixes) if style != 1 else "") + composer.headline(lang, text["headline_key"])
                             + (rng.choice(suffixes) if style != 0 else ""))
        else:
            text["title"] += f" ({i})"
        titles.add(text["title"])
        span = (END - START) if not (on_topic and rng.random() < 0.35) else timedelta(days=10)
        published = START + timedelta(minutes=rng.randrange(int(span.total_seconds() // 60)))
        slug = slugify(text["title"]) if lang == "en" else f"zh-{(text['angles'] or ['keji'])[0]}-{i}"
        while slug in slugs:
            slug += f"-{rng.randint(2, 99)}"
        slugs.add(slug)
        path = f"/{published:%Y/%m}/{slug}.html"
        records.append({
            **text, "index": i, "slug": slug, "lang": lang, "outlet": outlet, "on_topic": on_topic,
            "term_only_in_boilerplate": i in flagged, "published": published, "path": path,
            "canonical_path": path, "author": rng.choice(outlet["authors"]),
            "section": rng.choice(outlet["sections"]), "date_markup": rng.choice(["meta", "jsonld", "time"]),
            "status": 200, "charset": "utf-8", "links": {},
            "feed_path": next(s.get("final_path", s["path"]) for s in FEED_SOURCES if s["name"] == key),
        })
    cases = {c: records[i] for c, i in case_idx.items()}
    cases["page_404"]["status"], cases["page_500"]["status"] = 404, 500
    return records, cases


def _sources(rng: random.Random, records: list[dict], cases: dict) -> dict[str, list[dict]]:
    """Fill each record's ``links`` (source -> path as linked) and return source -> items."""
    en_feeds = ["frame-ledger", "circuit-daily", "pacific-tech"]
    for a in records:
        a["links"][a["outlet"]["key"]] = a["path"]
        if a["lang"] == "en" and a["status"] == 200 and rng.random() < 0.3:
            a["links"][rng.choice([f for f in en_feeds if f != a["outlet"]["key"]])] = a["path"]
    two = cases["two_feeds"]
    two["links"]["circuit-daily"] = two["path"]
    redirect = cases["redirect"]
    redirect["path"] = f"/story/{400000 + redirect['index'] * 7919 % 100000}"
    redirect["links"]["pacific-tech"] = redirect["path"]
    canonical = cases["canonical"]
    canonical["path"] = canonical["links"]["circuit-daily"] = canonical["canonical_path"] + UTM + "&utm_campaign=seedance"
    for a in records:
        link = a["links"].get("circuit-daily")
        if link and "?" not in link and a is not cases["page_404"] and rng.random() < 0.3:
            a["links"]["circuit-daily"] = link + UTM
            if a["path"] == link:
                a["path"] = link + UTM
    ok = [a for a in records if a["status"] == 200]
    on_en = [a for a in ok if a["on_topic"] and a["lang"] == "en"]
    items = {s["name"]: [] for s in FEED_SOURCES + SEARCH_SOURCES}
    items["google-news"] = on_en + [a for a in ok if a["term_only_in_boilerplate"]][:2]
    items["bing-news"] = [a for a in on_en if rng.random() < 0.5] or on_en[:1]
    items["gdelt"] = [a for a in on_en if rng.random() < 0.4] + [a for a in ok if a["lang"] == "zh" and a["on_topic"]]
    items["sitemap"] = [a for a in ok if a["published"] >= SITEMAP_SINCE or a is two]
    for name in ("google-news", "bing-news", "gdelt", "sitemap"):
        for a in items[name]:
            a["links"][name] = a["canonical_path"]
    for a in records:
        for name in a["links"]:
            if name in items and name in {s["name"] for s in FEED_SOURCES}:
                items[name].append(a)
    for name in items:
        items[name].sort(key=lambda a: (a["published"], a["slug"]), reverse=True)
    return items


def _manifest_entry(a: dict) -> dict:
    return {
        "slug": a["slug"], "path": a["path"], "canonical_path": a["canonical_path"], "title": a["title"],
        "author": a["author"], "outlet": a["outlet"]["name"], "outlet_key": a["outlet"]["key"],
        "published_at": a["published"].strftime("%Y-%m-%dT%H:%M:%SZ"), "lang": a["lang"],
        "on_topic": a["on_topic"], "term_only_in_boilerplate": a["term_only_in_boilerplate"],
        "topic": a["topic"], "angles": a["angles"], "stance": a["stance"], "in": list(a["links"]),
        "links": a["links"], "status": a["status"], "date_markup": a["date_markup"],
        "charset": a["charset"], "summary": a["paragraphs"][0], "paragraphs": a["paragraphs"],
    }


def build_site(root: Path, articles: int = 40, seed: int = 2026) -> dict:
    """Write the replay site into ``root`` and return its manifest."""
    root = Path(root)
    if articles < MIN_ARTICLES:
        raise ValueError(f"build_site needs at least {MIN_ARTICLES} articles to hold every case, got {articles}")
    if (root / "_manifest.json").exists():
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty and holds no replay site (_manifest.json); pick an empty folder")
    rng = random.Random(seed)
    records, cases = _plan(rng, articles)
    zh_pages = [a for a in records if a["lang"] == "zh" and a["on_topic"]]
    if zh_pages:
        zh_pages[0]["charset"] = "gb18030"
    items = _sources(rng, records, cases)
    circuit = items["circuit-daily"]
    undated = next((a for a in circuit if a["status"] == 200 and all(a is not c for c in cases.values())),
                   cases["canonical"])
    undated["no_feed_date"] = True
    relative = [a["slug"] for a in circuit[1::4] if "?" not in a["links"]["circuit-daily"]]
    add_boilerplate(rng, records)
    clusters = {a["slug"]: [b] for a, b in zip(items["google-news"][::3], items["google-news"][1::3])}

    routes = {
        "/frame-ledger/feed": {"status": 301, "location": "/feeds/frame-ledger.atom"},
        "/feeds/frame-ledger.atom": {"gzip": True},
        "/feeds/silicon-watch.xml": {"charset": "gb18030", "content_type": "application/rss+xml"},
        "/rss/search": {"file": "_src/google-news.xml", "content_type": "application/xml", "template_links": True},
        "/news/search": {"file": "_src/bing-news.xml", "content_type": "text/xml", "template_links": True},
        "/api/v2/doc/doc": {"file": "_src/gdelt-artlist.json"},
        cases["redirect"]["path"]: {"status": 301, "location": "__BASE_URL__" + cases["redirect"]["canonical_path"]},
    }
    for a in (cases["page_404"], cases["page_500"]):
        routes[a["canonical_path"]] = {"status": a["status"], "body": render_error(a["outlet"], a["status"])}
    files: dict[str, str | bytes] = {}
    for a in records:
        if a["status"] == 200:
            files[a["canonical_path"]] = render_article(a)
            if a["charset"] != "utf-8":
                routes[a["canonical_path"]] = {"charset": a["charset"]}
    sources = [dict(s) for s in FEED_SOURCES + SEARCH_SOURCES]
    outlets = {o["key"]: o for o in load_outlets()}
    for s in sources:
        s["items"] = len(items[s["name"]])
        if s["kind"] == "feed":
            s["outlet"] = outlets[s["name"]]["name"]
    src = {s["name"]: s for s in sources}
    files["/feeds/circuit-daily.rss"] = feeds.rss2(src["circuit-daily"], outlets["circuit-daily"], circuit, set(relative))
    files["/feeds/frame-ledger.atom"] = feeds.atom(src["frame-ledger"], outlets["frame-ledger"], items["frame-ledger"])
    files["/feeds/pacific-tech.rdf"] = feeds.rdf(src["pacific-tech"], outlets["pacific-tech"], items["pacific-tech"])
    files["/feeds/silicon-watch.xml"] = feeds.rss2(
        src["silicon-watch"], outlets["silicon-watch"], items["silicon-watch"], set(), encoding="GB18030")
    files["/_src/google-news.xml"] = feeds.google_news(items["google-news"], clusters)
    files["/_src/bing-news.xml"] = feeds.bing_news(items["bing-news"])
    files["/_src/gdelt-artlist.json"] = feeds.gdelt_artlist(items["gdelt"])
    files["/sitemap-news.xml"] = feeds.news_sitemap(items["sitemap"])
    files["/sitemap.xml"] = feeds.sitemap_index(["/sitemap-news.xml"], max(a["published"] for a in records))
    files["/robots.txt"] = feeds.ROBOTS
    latest = sorted((a for a in records if a["status"] == 200), key=lambda a: a["published"], reverse=True)[:30]
    files["/index.html"] = render_index([(a["title"], a["canonical_path"]) for a in latest],
                                        [(s["name"], s["path"]) for s in sources])
    files["/private/account.html"] = f"<!DOCTYPE html><html><body><h1>Account</h1><p>{DISCLAIMER}.</p></body></html>\n"
    files["/static/og.png"] = og_png()
    files["/static/site.css"] = "body{font-family:sans-serif;max-width:70rem;margin:auto}\n"
    files["/static/consent.js"] = "/* cookie consent stub */\n"
    social_files, social_routes, social_sources = build_social(random.Random(seed + 1), records)
    files.update({path: body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=1)
                  for path, body in social_files.items()})
    routes.update(social_routes)

    in_two = [a for a in records if len([s for s in a["links"] if s in outlets]) >= 2]
    manifest = {
        "generator": "crawler.demo.replay.site", "note": DISCLAIMER, "seed": seed, "article_count": articles,
        "base_url_placeholder": "__BASE_URL__", "sources": sources, "social_sources": social_sources,
        "articles": [_manifest_entry(a) for a in sorted(records, key=lambda a: (a["published"], a["slug"]))],
        "cases": {
            "redirect": {"slug": cases["redirect"]["slug"], "from": cases["redirect"]["path"], "status": 301,
                         "to": cases["redirect"]["canonical_path"], "source": "pacific-tech"},
            "canonical_differs": {"slug": cases["canonical"]["slug"], "feed_link": cases["canonical"]["path"],
                                  "canonical_path": cases["canonical"]["canonical_path"], "source": "circuit-daily"},
            "page_404": {"slug": cases["page_404"]["slug"], "path": cases["page_404"]["path"], "source": "circuit-daily"},
            "page_500": {"slug": cases["page_500"]["slug"], "path": cases["page_500"]["path"], "source": "frame-ledger"},
            "two_feeds_and_sitemap": {"slug": cases["two_feeds"]["slug"], "canonical_path": cases["two_feeds"]["path"],
                                      "sources": list(cases["two_feeds"]["links"])},
            "missing_date": {"slug": undated["slug"], "source": "circuit-daily"},
            "term_only_in_boilerplate": sorted(a["slug"] for a in records if a["term_only_in_boilerplate"]),
            "search_false_positives": {"source": "google-news", "slugs": [
                a["slug"] for a in items["google-news"] if not a["on_topic"]]},
            "relative_links": {"source": "circuit-daily", "slugs": relative,
                               "note": "frame-ledger links are all relative to xml:base"},
            "utm_links": {"source": "circuit-daily", "slugs": [
                a["slug"] for a in circuit if "utm_" in a["links"]["circuit-daily"]]},
            "gzip_redirect_feed": {"from": "/frame-ledger/feed", "to": "/feeds/frame-ledger.atom",
                                   "status": 301, "gzip": True},
            "non_utf8": {"feed": "/feeds/silicon-watch.xml", "charset": "gb18030",
                         "page": zh_pages[0]["canonical_path"] if zh_pages else None},
            "in_two_feeds": sorted(a["slug"] for a in in_two),
        },
    }
    for path, body in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            target.write_bytes(body)
        else:
            target.write_text(body, encoding="utf-8")
    (root / "_routes.json").write_text(json.dumps(routes, ensure_ascii=False, indent=1), encoding="utf-8")
    (root / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest
