"""The commands that read the timeline: ``restory``, ``alerts`` and ``report`` (registered by ``add_commands``)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from crawler.errors import UserError
from crawler.storage import DEFAULT_DB, Database


def cmd_restory(args: argparse.Namespace) -> int:
    from crawler.stories import StoryConfig
    from crawler.stories.config import EMBEDDINGS
    from crawler.storage.daily import refresh
    from crawler.storage.stories import restory, uses_embeddings

    with Database(args.db).writing() as con:
        embeddings = uses_embeddings(con) if args.embeddings is None else args.embeddings
        documents, stories = restory(con, StoryConfig(**EMBEDDINGS) if embeddings else StoryConfig())
        refresh(con)  # every document's story may have changed: every day's timeline.stories
    print(f"{documents} documents in {stories} stories"
          f" ({'with sentence embeddings' if embeddings else 'by their terms'}; later crawls cluster the same way)")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from crawler.analysis.alerts import channels_of, rules_of, send_alerts
    from crawler.topic import load_topic

    topic = load_topic(args.topic)
    channels = channels_of(topic, args.webhook)
    if not channels and not args.dry_run:
        raise UserError("no alert channel: pass --webhook URL, or add an [alerts] table (webhook, email_to, smtp) "
                        "to the topic file; --dry-run lists the spikes that would be sent")
    sent = send_alerts(Database(args.db), channels, dry_run=args.dry_run, rules=rules_of(topic))
    if not args.dry_run:
        print(f"sent {len(sent)} alerts" + (": " + ", ".join(f"{s} ({c})" for s, c in sent) if sent else
                                           " (no spike not sent yet)"))
    return 0


def day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {value!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from crawler.analysis.report import write_report

    path = write_report(args.db, args.output, args.since, args.until)
    print(f"report: {path.resolve()}")
    return 0


def add_commands(commands) -> None:
    """Add restory, alerts and report to the ``seedtrack`` subcommands."""
    def with_db(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")

    rs = commands.add_parser("restory", help="cluster every stored document into stories again")
    with_db(rs)
    how = rs.add_mutually_exclusive_group()
    how.add_argument("--embeddings", action="store_true", default=None,
                     help="match stories by the shipped sentence encoder too, from now on (more precise; about "
                          "15-30 ms more a document on 2 cores)")
    how.add_argument("--terms-only", dest="embeddings", action="store_false",
                     help="match stories by their terms alone, from now on (the default of a new database)")
    rs.set_defaults(func=cmd_restory, embeddings=None)

    al = commands.add_parser("alerts", help="send each spike not sent yet: webhook (Slack JSON) and e-mail")
    with_db(al)
    al.add_argument("--topic", help="topic file whose [alerts] table says where to send (default: the shipped one)")
    al.add_argument("--webhook", metavar="URL", help="POST each new spike as Slack-compatible JSON to this URL")
    al.add_argument("--dry-run", action="store_true", help="print the spikes that would be sent; send and record nothing")
    al.set_defaults(func=cmd_alerts)

    rp = commands.add_parser("report", help="write a self-contained HTML report (charts inline, opens offline)")
    with_db(rp)
    rp.add_argument("--since", type=day, metavar="YYYY-MM-DD", help="first day included")
    rp.add_argument("--until", type=day, metavar="YYYY-MM-DD", help="last day included")
    rp.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")
    rp.set_defaults(func=cmd_report)
