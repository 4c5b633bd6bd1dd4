"""``seedtrack report`` on a real crawl (NLP on) of the replay site with its story cases and social platforms,
rendered in a real headless browser (Debian's ``chromium``, installed by ``.ci/run``): the file is
self-contained, its SVG charts exist, and the screenshot shows them drawn (many colours in the chart area)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from crawler.demo import DEMO_SOCIAL_OPTIONS
from crawler.demo.replay.storyset import serve_story_site, story_sources
from helpers import run_cli, site_sources, write_topic

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def social_sources(base: str, manifest: dict) -> list[dict]:
    return [{"name": e["name"], "kind": e["kind"], "url": base, "queries": ["Seedance"], "download_delay": 0,
             **DEMO_SOCIAL_OPTIONS.get(e["kind"], {}), **({"feeds_url": base} if e["kind"] == "youtube" else {})}
            for e in manifest["social_sources"]]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    with serve_story_site(tmp / "site") as (servers, manifest, cases):
        sources = (site_sources(servers[0], manifest) + story_sources(servers, cases)
                   + social_sources(servers[0].url, manifest))
        topic = write_topic(tmp / "topic.toml", sources)
        db = tmp / "report.duckdb"
        result = run_cli("crawl", "--topic", topic, "--db", db, "-q", "--set", "AUTOTHROTTLE_ENABLED=false",
                         "--set", "ENGAGEMENT_DAYS=3650", timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    out = tmp / "out" / "report.html"
    result = run_cli("report", "--db", db, "-o", out)
    assert result.returncode == 0, result.stderr
    return out, cases


def test_report_is_self_contained_with_its_charts(report):
    out, cases = report
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r'<(link|img|iframe)\b', html)  # nothing fetched
    assert not re.search(r"\bsrc=|@import|url\(", html)  # no CDN: nothing is loaded, links are the stories' own
    assert html.count("href=") == html.count("<a href=")
    assert html.count("<svg") >= 4
    assert html.count('class="bar"') > 30 and 'class="line"' in html  # bars by stance, engagement lines
    assert 'class="spike"' in html and f"spike {cases['spike_day']}" in html  # the spike day marked
    for heading in ("Volume over time by stance", "Controversy by frame", "Top stories", "Actors for and against",
                    "Source and platform mix", "Engagement of posts over time"):
        assert heading in html
    assert cases["wire"][0]["title"] in html and "report.duckdb" in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium package)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    from PIL import Image

    out, _ = report
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1100,1400",
                    out.as_uri()], capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1100, 1400)
    chart = image.crop((40, 180, 1060, 560))  # the volume chart's area
    colours = chart.getcolors(maxcolors=1 << 20)
    assert len(colours) > 40, "the volume chart is not drawn"
    stance = {(46, 157, 91), (214, 69, 65), (140, 150, 168)}  # favor, against, neutral bars
    assert len(stance & {c for _, c in colours}) >= 2
    whole = image.getcolors(maxcolors=1 << 22)
    assert len(whole) > 200  # not a blank page
