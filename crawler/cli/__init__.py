"""The ``seedtrack`` command line: crawl, load, demo, sql, export, sources, schedule, status, tag, eval, retag, restory, alerts, report. A thin layer over the library modules."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.storage import DEFAULT_DB, Database
from crawler.errors import UserError
from crawler.cli.analysis import add_commands as add_analysis_commands
from crawler.cli.corrections import add_command as add_correct_command
from crawler.cli.output import FORMATS, write_rows
from crawler.app.overrides import parse_overrides, project_scrapy_settings
from crawler.nlp.stance_models import STANCE_MODELS
from crawler.topic import Source, load_topic


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.app.runner import OFFLINE_HINT, crawl_settings, format_summary, run_crawl

    topic = load_topic(args.topic)
    if args.serve:
        if not args.redis:
            raise UserError("--serve waits for the runs `seedtrack schedule --redis URL` hands out: pass --redis URL")
        return serve_runs(args, topic)
    sources = adhoc_sources(args.feed, args.page) if (args.feed or args.page) else select_sources(topic, args.source)
    overrides = parse_overrides(args.set)
    if args.redis:
        overrides["REDIS_URL"] = args.redis
    else:
        Database(args.db).migrate()
    settings = crawl_settings(topic, args.db, overrides)
    if args.log_level:
        settings.set("LOG_LEVEL", args.log_level, priority="cmdline")
    results = run_crawl(topic, sources, settings, progress=None if args.quiet else sys.stderr)
    print(format_summary(results))
    if args.redis:
        print(f"pushed to the item stream on {args.redis}; `seedtrack load` writes it to {Path(args.db).resolve()}")
    else:
        print(f"database: {Path(args.db).resolve()}")
    failed = [r for r in results if r.status not in ("ok", "partial")]
    if results and len(failed) == len(results):
        if all(r.offline for r in results):
            print(f"seedtrack: error: {OFFLINE_HINT}", file=sys.stderr)
        return 1
    return 0


def serve_runs(args: argparse.Namespace, topic) -> int:
    """``crawl --redis URL --serve``: crawl each run `schedule --redis` hands out, until stopped."""
    from crawler.distributed.keys import Keys, connect
    from crawler.distributed.serve import serve_runs as serve

    settings = project_scrapy_settings(parse_overrides(args.set))
    settings.set("SEEDTRACK_DB", str(args.db), priority="cmdline")
    sources = [s.name for s in select_sources(topic, args.source)]
    crawl_args = ["--db", str(args.db), "--redis", args.redis, *(["--topic", args.topic] if args.topic else [])]
    for pair in args.set or []:
        crawl_args += ["--set", pair]
    return serve(connect(args.redis), Keys.from_settings(settings), sources, crawl_args)


def cmd_load(args: argparse.Namespace) -> int:
    from crawler.distributed.keys import Keys, connect
    from crawler.distributed.loader import run_loader
    from crawler.distributed.worker import client

    settings = project_scrapy_settings(parse_overrides(args.set))
    settings.set("SEEDTRACK_DB", str(args.db), priority="cmdline")
    settings.set("REDIS_URL", args.redis, priority="cmdline")
    connect(args.redis)
    keys = Keys.from_settings(settings)

    def progress(totals) -> None:
        if not args.quiet:
            print(f"load: {totals.messages} messages, {totals.documents} new documents, {totals.rows} rows",
                  file=sys.stderr, flush=True)

    totals = run_loader(client(settings), keys, Database(args.db), settings.getint("LOAD_BATCH_MESSAGES"),
                        settings.getfloat("REFETCH_FAILED_DAYS"), args.until_idle, progress)
    print(f"loaded {totals.messages} messages ({totals.rows} rows, {totals.documents} new documents"
          f"{f', {totals.skipped} committed before' if totals.skipped else ''}"
          f"{f', {totals.refused} rows refused (see errors)' if totals.refused else ''}) "
          f"from {keys.items} into {Path(args.db).resolve()}")
    return 0


def select_sources(topic, names: list[str] | None) -> list[Source]:
    if names:
        return [topic.source(name) for name in dict.fromkeys(names)]
    return [source for source in topic.sources if source.enabled]


def adhoc_sources(feeds: list[str] | None, pages: list[str] | None) -> list[Source]:
    """Sources for --feed and --page: one per feed, one for all pages."""
    from crawler.text.urls import is_http_url, url_domain

    for url in [*(feeds or []), *(pages or [])]:
        if not is_http_url(url):
            raise UserError(f"not an http(s) URL: {url}")
    sources = [
        Source(name=f"feed-{index}-{url_domain(url)}", kind="feed", url=url, options={"follow": "all"})
        for index, url in enumerate(feeds or [], 1)
    ]
    if pages:
        sources.append(Source(name="pages", kind="page", url=pages[0], options={"urls": list(pages[1:])}))
    return sources


def demo_articles(value: str) -> int:
    from crawler.demo.replay.site import MIN_ARTICLES

    if not value.isdigit() or int(value) < MIN_ARTICLES:
        raise argparse.ArgumentTypeError(f"takes a whole number of at least {MIN_ARTICLES}, not {value!r}")
    return int(value)


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo import run_demo

    return run_demo(args.db, articles=args.articles, quiet=args.quiet, topic_path=args.topic)


def cmd_sql(args: argparse.Namespace) -> int:
    sql = sys.stdin.read() if args.query == "-" else args.query
    params = {name: value for name, value in args.param or []}
    columns, rows = Database(args.db).query(sql, params or None)
    write_rows(columns, rows, args.format, sys.stdout)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from crawler.storage.exports import export

    count = export(Database(args.db), args.name, args.output, args.format, args.since, args.until)
    print(f"wrote {count} rows of {args.name} to {args.output}", file=sys.stderr)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    topic = load_topic(args.topic)
    rows = [(s.name, s.kind, s.cron or s.interval, "yes" if s.enabled else "no", s.url) for s in topic.sources]
    write_rows(("name", "kind", "every", "enabled", "url"), rows, args.format, sys.stdout)
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from crawler.app.scheduler import run_schedule

    topic = load_topic(args.topic)
    overrides = parse_overrides(args.set)
    if args.redis:
        from crawler.distributed.keys import connect

        connect(args.redis)
        overrides["REDIS_URL"] = args.redis
    return run_schedule(topic, args.db, overrides, args.resume or [])


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.app.status import database_summary, source_status

    database = Database(args.db)
    columns, rows, notes = source_status(database)
    write_rows(columns, rows, args.format, sys.stdout)
    if args.format == "table":
        print("\n".join([*notes, database_summary(database)]))
    if args.redis:
        from crawler.app.status import frontier_summary

        print(frontier_summary(args.redis, args.db))
    return 0


def tagger_spec(args: argparse.Namespace):
    """The crawl's tagger configuration (settings NLP_MODEL, NLP_STANCE_MODEL, NLP_BATCH_SIZE, with ``--set``
    applied as a crawl applies it), for this topic."""
    from crawler.nlp.tagger import TaggerSpec

    settings = project_scrapy_settings(parse_overrides(args.set))
    return TaggerSpec.from_topic(load_topic(args.topic), settings.get("NLP_MODEL"),
                                 args.stance_model or settings.get("NLP_STANCE_MODEL"), settings.getint("NLP_BATCH_SIZE"))


def cmd_tag(args: argparse.Namespace) -> int:
    import json

    from crawler.nlp.tagger import Tagger
    from crawler.nlp.tagging import InputError, read_jsonl, tag_records

    spec = tagger_spec(args)
    source = sys.stdin if args.file in (None, "-") else open(args.file, encoding="utf-8")
    with source:
        try:
            records = read_jsonl(source) if args.jsonl else [{"text": source.read()}]
        except InputError as exc:
            raise UserError(f"{args.file or 'stdin'}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise UserError(f"{args.file or 'stdin'}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    tagger = Tagger(spec)
    for result in tag_records(tagger, records):
        print(json.dumps(result, ensure_ascii=False, indent=None if args.jsonl else 2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from crawler.training.datasets import EVAL_SETS, DatasetMissing
    from crawler.training.evaluation import format_report
    from crawler.nlp.tagger import Tagger
    from crawler.training.evaluation import evaluate
    from crawler.nlp.targets import TargetFinder

    spec = tagger_spec(args)
    tagger, finder = Tagger(spec), TargetFinder.from_topic(load_topic(args.topic))
    names, missing = args.dataset or list(EVAL_SETS), []
    print(f"stance model: {tagger.pipeline('en').get_pipe('seedtrack_reception').model.name}")
    for name in names:
        try:
            print(format_report(evaluate(tagger, finder, name, args.limit, args.newsmtsc)))
        except DatasetMissing as exc:
            if args.dataset:
                raise UserError(str(exc)) from None
            missing.append(str(exc))
    for problem in missing:
        print(f"skipped {problem}", file=sys.stderr)
    return 0


def cmd_retag(args: argparse.Namespace) -> int:
    from crawler.app.retag import retag

    def progress(done: int, todo: int, seconds: float) -> None:
        if not args.quiet:
            print(f"retag: {done}/{todo} documents, {done / seconds if seconds else 0:.1f}/s", file=sys.stderr)

    spec = tagger_spec(args)
    database = Database(args.db)
    database.migrate()
    result = retag(database, spec, args.batch_size, args.all, progress)
    print(f"retagged {result.done} of {result.todo} documents in {result.seconds:.1f} s"
          if result.todo else "every document is already tagged with this topic and model (use --all to redo)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seedtrack", description=__doc__.split(":")[0] + ".")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error (or set SEEDTRACK_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(sub: argparse.ArgumentParser, default: Path = DEFAULT_DB) -> None:
        sub.add_argument("--db", type=Path, default=default, help=f"DuckDB file (default {default})")

    crawl = commands.add_parser("crawl", help="crawl the topic's sources (or --feed/--page URLs) into the database")
    crawl.add_argument("--topic", help="topic file (default: the shipped Seedance topic)")
    with_db(crawl)
    crawl.add_argument("--source", action="append", metavar="NAME", help="crawl only this source (repeatable)")
    crawl.add_argument("--feed", action="append", metavar="URL", help="crawl this RSS/Atom feed instead (repeatable)")
    crawl.add_argument("--page", action="append", metavar="URL", help="crawl this article page instead (repeatable)")
    crawl.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting for this run")
    crawl.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="Scrapy log level")
    crawl.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    crawl.add_argument("--redis", metavar="URL", help="crawl as one worker of the frontier on this Redis "
                       "(redis://HOST:PORT/DB): rows go to its item stream for `seedtrack load`")
    crawl.add_argument("--serve", action="store_true", help="with --redis: wait for the runs `seedtrack schedule "
                       "--redis` hands out and crawl each (of the topic's sources, or those of --source), until stopped")
    crawl.set_defaults(func=cmd_crawl)

    load = commands.add_parser("load", help="write the item stream of `crawl --redis` workers into the database")
    load.add_argument("--redis", metavar="URL", required=True, help="the workers' Redis (redis://HOST:PORT/DB)")
    with_db(load)
    load.add_argument("--until-idle", type=float, metavar="SECONDS",
                      help="exit after this long with nothing to load (default: run until SIGINT/SIGTERM)")
    load.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting (REDIS_PREFIX ...)")
    load.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    load.set_defaults(func=cmd_load)

    demo = commands.add_parser("demo", help="crawl a bundled replay site on 127.0.0.1 (no internet needed)")
    with_db(demo, Path("data") / "demo.duckdb")
    demo.add_argument("--articles", type=demo_articles, default=60,
                      help="articles on the replay site (default 60, at least 12)")
    demo.add_argument("--topic", help="topic file whose terms and entities the demo applies (default: the shipped one)")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    demo.set_defaults(func=cmd_demo)

    sql = commands.add_parser("sql", help="run read-only SQL on the database")
    sql.add_argument("query", help="the SQL, or - to read it from standard input")
    with_db(sql)
    sql.add_argument("--format", choices=FORMATS, default="table")
    sql.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="named parameter used as $NAME in the query (repeatable)")
    sql.set_defaults(func=cmd_sql)

    exp = commands.add_parser("export", help="write a table or view to CSV, Parquet or JSON")
    exp.add_argument("name", help="documents, entities, timeline, crawl_runs, filtered, errors or engagement")
    with_db(exp)
    exp.add_argument("--format", choices=("csv", "parquet", "json"), default="csv")
    exp.add_argument("--since", metavar="YYYY-MM-DD", help="first day included")
    exp.add_argument("--until", metavar="YYYY-MM-DD", help="last day included")
    exp.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    exp.set_defaults(func=cmd_export)

    src = commands.add_parser("sources", help="list the topic's sources")
    src.add_argument("--topic", help="topic file (default: the shipped Seedance topic)")
    src.add_argument("--format", choices=FORMATS, default="table")
    src.set_defaults(func=cmd_sources)

    sch = commands.add_parser("schedule", help="crawl each source at its interval or cron, until stopped")
    sch.add_argument("--topic", help="topic file (default: the shipped Seedance topic)")
    with_db(sch)
    sch.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting for the daemon and its crawls")
    sch.add_argument("--redis", metavar="URL", help="hand each run to the workers serving this Redis "
                     "(`seedtrack crawl --redis URL --serve`) instead of crawling here")
    sch.add_argument("--resume", action="append", metavar="NAME", help="resume a source paused after failures (repeatable)")
    sch.set_defaults(func=cmd_schedule)

    st = commands.add_parser("status", help="per source: last run, outcome, counts, next run, failures")
    with_db(st)
    st.add_argument("--format", choices=FORMATS, default="table")
    st.add_argument("--redis", metavar="URL", help="also show the distributed crawl on this Redis: workers, "
                    "queue depth, the loader's lag")
    st.set_defaults(func=cmd_status)

    def with_tagger(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--topic", help="topic file (default: the shipped Seedance topic)")
        sub.add_argument("--stance-model", choices=STANCE_MODELS,
                         help="stance classifier (default: the NLP_STANCE_MODEL setting)")
        sub.add_argument("--set", action="append", metavar="NAME=VALUE",
                         help="override a setting (NLP_MODEL, NLP_STANCE_MODEL, NLP_BATCH_SIZE ...), as crawl does")

    tag = commands.add_parser("tag", help="tag text: stance, frames, entities, actors (JSON out)")
    tag.add_argument("file", nargs="?", metavar="FILE|-", help="text file, or - / nothing for standard input")
    tag.add_argument("--jsonl", action="store_true", help='input lines are JSON objects with a "text" field')
    with_tagger(tag)
    tag.set_defaults(func=cmd_tag)

    ev = commands.add_parser("eval", help="score the tagger on the labelled sets")
    ev.add_argument("--dataset", action="append", metavar="NAME|FILE",
                    help="reception, reception-zh, newsmtsc-rw, newsmtsc-mt, reception-train or newsmtsc-train, "
                         "or FILE.jsonl: your own labelled lines {text, stance, frames} "
                         "(repeatable; default: the four test sets)")
    ev.add_argument("--limit", type=int, metavar="N", help="score only the first N examples of each set")
    ev.add_argument("--newsmtsc", type=Path, metavar="DIR", help="folder with NewsMTSC's jsonl files")
    with_tagger(ev)
    ev.set_defaults(func=cmd_eval)

    rt = commands.add_parser("retag", help="analyse stored documents again after a model or topic change")
    with_db(rt)
    with_tagger(rt)
    rt.add_argument("--all", action="store_true", help="redo every document, not only those tagged differently")
    rt.add_argument("--batch-size", type=int, default=64, help="documents per batch and transaction (default 64)")
    rt.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    rt.set_defaults(func=cmd_retag)
    add_analysis_commands(commands)
    add_correct_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.traceback or os.environ.get("SEEDTRACK_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("seedtrack: interrupted", file=sys.stderr)
        return 130
    except (UserError, OSError) as exc:
        if debug:
            raise
        print(f"seedtrack: error: {describe(exc)}", file=sys.stderr)
        return 2


def describe(exc: BaseException) -> str:
    """One line for the user; file errors name the file (``FILE: No such file or directory``)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
