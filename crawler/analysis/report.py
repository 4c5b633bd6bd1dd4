"""``seedtrack report``: one self-contained HTML file (no scripts, no CDN; styles and SVG charts inline) that
opens offline, mails as an attachment and prints.

It shows the period and the database it came from, volume over time by stance with the spikes marked,
the controversy index by frame, the top stories (first outlet, spread, outlets, stance), the actors for
and against with their quotes, the source and platform mix, and the engagement of posts over time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

from crawler.analysis.charts import PALETTE, STANCE_COLOURS, hbars, lines, stacked_bars
from crawler.storage import Database
from crawler.storage.alerts import report_data

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e3e6eb;padding-bottom:4px}
.meta{color:#667;font-size:13px}.cards{display:flex;gap:12px;margin:16px 0}.card{flex:1;background:#f4f6fa;
border-radius:8px;padding:10px 14px}.card b{display:block;font-size:24px}.grid{display:grid;grid-template-columns:1fr 1fr;
gap:20px}table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 6px;
border-bottom:1px solid #eceff3;vertical-align:top}th{color:#556}.favor{color:#2e9d5b}.against{color:#d64541}
.neutral{color:#6b7a99}blockquote{margin:2px 0;color:#555;font-style:italic}.empty{color:#889;font-style:italic}
svg.chart{display:block;max-width:100%;height:auto}@media print{body{margin:0}h2{break-after:avoid}}
"""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _daily(rows: list[dict], keys: tuple[str, ...]) -> tuple[list[date], dict[str, list]]:
    """Every day from the first row's to the last's, and each key's value per day (0 on days without a row)."""
    by_day = {row["day"]: row for row in rows}
    days = _days(rows[0]["day"], rows[-1]["day"])
    return days, {key: [(by_day.get(d) or {}).get(key, 0) for d in days] for key in keys}


def _stance(row: dict[str, Any]) -> str:
    counts = {k: row.get(k) or 0 for k in ("favor", "against", "neutral")}
    top = max(counts, key=counts.get) if any(counts.values()) else "neutral"
    mean = row.get("mean_stance")
    return (f'<span class="{top}">{counts["favor"]} for / {counts["against"]} against / {counts["neutral"]} neutral'
            + (f" (mean {mean:+.2f})" if mean is not None else "") + "</span>")


def _empty(what: str) -> str:
    return f'<p class="empty">No {what} in this period.</p>'


def volume_chart(data: dict[str, list[dict]]) -> str:
    volume = data["volume"]
    if not volume:
        return _empty("documents")
    days, series = _daily(volume, ("against", "neutral", "favor", "unscored"))
    markers = {}
    for spike in data["spikes"]:
        markers[spike["day"]] = f"{spike['scope']} {spike['kind'].replace('_', ' ')}, score {spike['score']}"
    return stacked_bars(days, series, STANCE_COLOURS, markers, "documents a day by stance, spikes marked")


def frames_chart(data: dict[str, list[dict]]) -> str:
    frames = data["frames"]
    if not frames:
        return _empty("frames")
    colours = [f"hsl({int(120 - 120 * (r['controversy'] or 0))},60%,45%)" for r in frames]
    return hbars([f"{r['frame']} ({r['documents']})" for r in frames], [r["controversy"] or 0 for r in frames],
                 colours, "controversy index by frame", top=1.0, fmt="{:.2f}")


def mix_chart(data: dict[str, list[dict]]) -> str:
    mix = data["mix"]
    if not mix:
        return _empty("documents")
    return hbars([f"{r['outlet']} ({r['kind']})" for r in mix], [r["documents"] for r in mix], PALETTE,
                 "documents by source and platform")


def engagement_chart(data: dict[str, list[dict]]) -> str:
    rows = data["engagement"]
    if not rows:
        return _empty("posts with engagement")
    days, series = _daily(rows, ("likes", "reposts", "replies"))
    return lines(days, series, {"likes": "#3a6fd8", "reposts": "#e08a1e", "replies": "#a44fb7"},
                 "engagement of posts by the day they were posted")


def stories_table(data: dict[str, list[dict]]) -> str:
    if not data["stories"]:
        return _empty("stories")
    rows = []
    for s in data["stories"]:
        link = f'<a href="{escape(s["first_url"] or "")}">{escape(s["title"] or "(untitled)")}</a>'
        first = f"{escape(s['first_outlet'] or '')}<br><span class=meta>{s['first_seen']:%Y-%m-%d %H:%M}</span>"
        rows.append(f"<tr><td>{link}</td><td>{first}</td><td>{s['spread_hours']:.0f} h</td><td>{s['outlets']}</td>"
                    f"<td>{s['documents']}</td><td>{_stance(s)}</td></tr>")
    return ("<table><tr><th>story</th><th>first seen</th><th>spread</th><th>outlets</th><th>documents</th>"
            "<th>stance</th></tr>" + "".join(rows) + "</table>")


def actors_table(data: dict[str, list[dict]]) -> str:
    cells = []
    for stance, heading in (("favor", "for"), ("against", "against")):
        rows = [a for a in data["actors"] if a["stance"] == stance][:8]
        items = "".join(f"<tr><td><b class={stance}>{escape(a['actor'])}</b> ({a['mentions']})"
                        f"<blockquote>{escape((a['quote'] or '')[:240])}</blockquote></td></tr>" for a in rows)
        cells.append(f"<div><h3>{heading}</h3>" + (f"<table>{items}</table>" if rows else _empty("actors")) + "</div>")
    return '<div class="grid">' + "".join(cells) + "</div>"


def spikes_table(data: dict[str, list[dict]]) -> str:
    if not data["spikes"]:
        return _empty("spikes")
    rows = "".join(
        f"<tr><td>{s['period']:%Y-%m-%d %H:%M}</td><td>{s['scope']}</td><td>{s['kind'].replace('_', ' ')}</td>"
        f"<td>{s['value']:g} (baseline {s['baseline']:.2f})</td><td>{s['score']}</td>"
        f"<td>{escape('; '.join(t for t in s['titles'] if t)[:200])}</td></tr>" for s in data["spikes"])
    return ("<table><tr><th>period</th><th>scope</th><th>kind</th><th>value</th><th>score</th><th>stories</th></tr>"
            + rows + "</table>")


def render(data: dict[str, list[dict]], db: Path, since: str | None, until: str | None) -> str:
    period = data["period"][0]
    first, last = period["first"], period["last"]
    span = f"{first} to {last}" if first else "no documents"
    asked = f" (asked: {since or 'start'} to {until or 'end'})" if since or until else ""
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cards = "".join(f'<div class="card"><b>{value}</b>{name}</div>' for name, value in (
        ("documents", period["documents"]), ("stories", period["stories"]), ("spikes", len(data["spikes"])),
        ("frames", len(data["frames"]))))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>seedtrack report {escape(span)}</title><style>{CSS}</style></head><body>
<h1>seedtrack report</h1>
<p class="meta">Period {escape(span)}{escape(asked)} &middot; database {escape(str(db.resolve()))} &middot; made {made}</p>
<div class="cards">{cards}</div>
<h2>Volume over time by stance</h2>{volume_chart(data)}
<h2>Spikes</h2>{spikes_table(data)}
<h2>Top stories</h2>{stories_table(data)}
<div class="grid"><div><h2>Controversy by frame</h2>{frames_chart(data)}</div>
<div><h2>Source and platform mix</h2>{mix_chart(data)}</div></div>
<h2>Actors for and against</h2>{actors_table(data)}
<h2>Engagement of posts over time</h2>{engagement_chart(data)}
</body></html>
"""


def write_report(db: Path, output: Path, since: str | None = None, until: str | None = None) -> Path:
    with Database(db).reading() as con:
        data = report_data(con, since, until)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(data, Path(db), since, until), encoding="utf-8")
    return output
