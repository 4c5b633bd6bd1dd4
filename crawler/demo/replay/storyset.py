"""Story cases for the replay site: one wire story syndicated on four outlets, independent write-ups of one
event, distinct stories, all on one spike day.

``add_story_cases(root)`` adds them to a built replay site (``build_site``): outlet N's RSS feed is
``/wire/feed-N.rss`` with relative links to its pages under ``/wire/oN/``. Serve the site once per outlet on
its own loopback address (outlet N on ``127.0.0.N``, ``OUTLET_HOSTS``) so each outlet has its own host, as
syndicated copies do. Every copy of the wire story has its own URL, title, dateline and boilerplate; the
independent write-ups share the facts and names but not the wording. Sample data written for seedtrack,
not real news. Returns the cases (also written to ``root/_stories.json``).
"""

from __future__ import annotations

import json
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Iterator

SPIKE_DAY = datetime(2026, 3, 24, tzinfo=timezone.utc)
OUTLET_HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
OUTLETS = ("Harbor Ledger", "Midwest Wire Review", "Cinema Post Daily", "Northern Tech Gazette")

WIRE = [
    "Three Hollywood studios sued ByteDance in federal court in Los Angeles on Tuesday, accusing the company "
    "of training its Seedance 2.0 video model on thousands of their films without permission.",
    "The complaint, filed by Paragon Pictures, Lumen Bay Studios and Orchard Hill Entertainment, asks for "
    "damages of at least $450 million and an order stopping ByteDance from distributing Seedance 2.0 in the "
    "United States until the training data is disclosed.",
    "Lawyers for the studios said the model reproduces recognisable scenes, characters and camera moves from "
    "at least 1,200 copyrighted titles, and attached 37 side-by-side comparisons of clips to the filing.",
    "A ByteDance spokesperson said the company respects intellectual property, that Seedance 2.0 was trained "
    "on licensed and publicly available material, and that it would defend itself vigorously in court.",
    "The lawsuit is the largest copyright case brought against a video generation model so far. Legal "
    "scholars said it could decide whether training on films counts as fair use under American law.",
    "Judge Miriam Okafor scheduled a first hearing for April 14. The studios asked for expedited discovery of "
    "the datasets ByteDance used between 2024 and 2026 to build the Seedance family of models.",
    "Shares of several streaming companies rose after the filing, and the Motion Picture Association said "
    "it supported the studios in their effort to protect the work of actors, writers and crews.",
]
TITLES = [
    "Studios sue ByteDance over Seedance 2.0 training data",
    "Hollywood studios file $450 million lawsuit against ByteDance's Seedance 2.0",
    "Paragon, Lumen Bay and Orchard Hill take ByteDance to court over Seedance 2.0",
    "UPDATE 2-Three studios sue ByteDance, say Seedance 2.0 copied 1,200 films",
]
EVENT = [  # one event, three independent write-ups
    ("EU opens inquiry into ByteDance's Seedance 2.0 over deepfake safeguards", [
        "The European Commission opened a formal inquiry into ByteDance's Seedance 2.0 on Tuesday under the Digital "
        "Services Act, Commissioner Henrika Vaalgren announced in Brussels.",
        "Vaalgren said investigators would examine whether Seedance 2.0 watermarks synthetic videos and stops "
        "deepfakes of real people, after complaints from 14 national regulators.",
        "ByteDance could face fines of up to 6 percent of its global turnover if the inquiry finds breaches. The "
        "company said it would cooperate fully with the Commission."]),
    ("Brussels targets Seedance 2.0 in Digital Services Act probe", [
        "Henrika Vaalgren, the EU commissioner for digital affairs, said on Tuesday that Brussels had started "
        "proceedings against ByteDance over its Seedance 2.0 video generator.",
        "The Digital Services Act probe follows complaints by 14 national regulators that deepfakes made with "
        "Seedance 2.0 spread without watermarks on social networks across the bloc.",
        "Penalties under the act reach 6 percent of worldwide turnover. A ByteDance representative said the firm "
        "was ready to work with the Commission on safeguards."]),
    ("Vaalgren: Commission will test Seedance 2.0 watermarking and deepfake rules", [
        "European regulators want answers from ByteDance. Commissioner Henrika Vaalgren told reporters in Brussels "
        "that the Commission's Digital Services Act team had opened an inquiry into Seedance 2.0.",
        "At issue are watermarks on synthetic videos and protections against deepfakes of real people, which 14 "
        "national regulators say Seedance 2.0 lacks.",
        "If breaches are found, ByteDance risks a fine of as much as 6 percent of global turnover; the company "
        "promised to cooperate."]),
]
DISTINCT = [
    ("Seedance 2.0 arrives in CapCut with a one-tap storyboard mode", [
        "CapCut users can now turn a written storyboard into a ten-shot clip with Seedance 2.0, the editing app "
        "said in its spring release notes.",
        "The storyboard mode keeps characters consistent across shots and exports vertical video for short-form "
        "platforms. Early testers praised the lip sync but said hands still look odd."]),
    ("Tallinn film school builds its animation course around Seedance 2.0", [
        "Students at a film academy in Tallinn will use Seedance 2.0 for previsualisation in a new animation "
        "course, the school's dean said.",
        "The academy negotiated a classroom licence and plans to compare hand-drawn animatics with generated ones "
        "in a semester-long study of 40 students."]),
    ("Benchmark: Seedance 2.0 leads motion coherence tests at Kyoto lab", [
        "A robotics and vision laboratory at a Kyoto university ranked Seedance 2.0 first for motion coherence "
        "among eight video models in a benchmark of 3,000 prompts.",
        "The researchers measured limb continuity, physics plausibility and camera stability, and published "
        "their scoring code so other labs can repeat the test."]),
]


def _page(title: str, paragraphs: list[str], outlet: str, n: int, published: datetime, dateline: str = "",
          trailer: str = "") -> str:
    related = "".join(f'<li><a href="/wire/o{n}/more-{i}.html">More from {escape(outlet)} #{i}</a></li>' for i in range(3))
    body = "".join(f"<p>{escape((dateline if i == 0 else '') + p)}</p>" for i, p in enumerate(paragraphs))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | {escape(outlet)}</title>'
            f'<meta property="article:published_time" content="{published:%Y-%m-%dT%H:%M:%SZ}"></head><body>'
            f'<header><nav><a href="/">{escape(outlet)}</a> <a href="/wire/o{n}/tech.html">Tech</a> '
            f'<a href="/wire/o{n}/film.html">Film</a></nav><div class="ad">Advertisement</div></header>'
            f"<article><h1>{escape(title)}</h1><p class=byline>By {escape(outlet)} staff</p>{body}"
            + (f"<p>{escape(trailer)}</p>" if trailer else "") +
            f'</article><aside><h2>Related</h2><ul>{related}</ul><p>Sign up for the {escape(outlet)} newsletter.</p>'
            f"</aside><footer>© 2026 {escape(outlet)}. All rights reserved. Sample data written for the seedtrack "
            "demo — not real news.</footer></body></html>")


def _feed(n: int, items: list[tuple[str, str, datetime, str]]) -> str:
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
                      f"<pubDate>{format_datetime(when)}</pubDate><description>{escape(summary)}</description></item>"
                      for t, link, when, summary in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(OUTLETS[n - 1])}</title>'
            f"<link>/</link><description>Sample data written for seedtrack</description>{entries}</channel></rss>")


def add_story_cases(root: Path) -> dict:
    """Write the story pages and the four outlets' feeds into a built replay site; returns the cases."""
    root = Path(root)
    feeds: dict[int, list] = {n: [] for n in range(1, 5)}
    cases: dict = {"spike_day": SPIKE_DAY.date().isoformat(), "wire": [], "event": [], "distinct": [],
                   "outlet_hosts": list(OUTLET_HOSTS), "outlets": list(OUTLETS)}

    def put(kind: str, n: int, slug: str, title: str, paragraphs: list[str], when: datetime, **extra) -> None:
        path = f"/wire/o{n}/{slug}.html"
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_page(title, paragraphs, OUTLETS[n - 1], n, when, **extra), encoding="utf-8")
        feeds[n].append((title, path, when, paragraphs[0][:160]))
        cases[kind].append({"outlet": n, "host": OUTLET_HOSTS[n - 1], "path": path, "title": title})

    base = SPIKE_DAY + timedelta(hours=9)
    variants = [
        {"paragraphs": WIRE},
        {"paragraphs": WIRE, "dateline": "LOS ANGELES, March 24 (Wire) - ", "trailer": "(Reporting by Dana Whitfield; "
                                                                                       "editing by Paul Merriman)"},
        {"paragraphs": WIRE[:-1], "trailer": "Editor's note: this story has been updated with ByteDance's comment."},
        {"paragraphs": WIRE[:3] + [WIRE[3].replace("vigorously", "firmly")] + WIRE[4:], "dateline": "(Wire) - "},
    ]
    for n, (title, variant) in enumerate(zip(TITLES, variants), 1):
        put("wire", n, f"studios-sue-bytedance-{n}", title, when=base + timedelta(hours=n), **variant)
    for n, (title, paragraphs) in enumerate(EVENT, 1):
        put("event", n, f"eu-inquiry-{n}", title, paragraphs, base + timedelta(hours=2 + 2 * n))
    for n, (title, paragraphs) in enumerate(DISTINCT, 1):
        put("distinct", n, f"story-{n}", title, paragraphs, base + timedelta(hours=3 * n))
    for n, items in feeds.items():
        (root / f"wire/feed-{n}.rss").write_text(_feed(n, sorted(items, key=lambda i: i[2], reverse=True)),
                                                 encoding="utf-8")
    cases["sources"] = [{"name": f"wire-{n}", "kind": "feed", "host": OUTLET_HOSTS[n - 1], "path": f"/wire/feed-{n}.rss"}
                        for n in feeds]
    (root / "_stories.json").write_text(json.dumps(cases, indent=1), encoding="utf-8")
    return cases


@contextmanager
def serve_story_site(root: Path, articles: int = 40) -> Iterator[tuple[list, dict, dict]]:
    """Build the replay site with its story cases in ``root`` and serve it on each outlet's host:
    yields (servers, the site's manifest, the story cases); ``servers[0]`` is the site's own 127.0.0.1."""
    from .server import ReplayServer
    from .site import build_site

    manifest = build_site(root, articles=articles)
    cases = add_story_cases(root)
    with ExitStack() as stack:
        yield [stack.enter_context(ReplayServer(root, host=host)) for host in OUTLET_HOSTS], manifest, cases


def story_sources(servers: list, cases: dict) -> list[dict]:
    """``[[source]]`` tables (as dicts) of the four outlets' feeds on their servers."""
    return [{"name": s["name"], "kind": "feed", "url": servers[i].url + s["path"], "download_delay": 0,
             "follow": "all"} for i, s in enumerate(cases["sources"])]
