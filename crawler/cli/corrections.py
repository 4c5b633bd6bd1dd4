"""``seedtrack correct DOC_ID --stance against [--frame copyright ...]``: an analyst's correction of a document.

The correction is stored in the ``corrections`` table and written into ``documents`` and ``frames`` at once
(``crawler.storage.corrections``), so every table, view and export shows it; ``retag`` applies it again
after re-analysing, and ``python -m crawler.training.train ... --with-corrections DB`` trains on it.
"""

from __future__ import annotations

import argparse
import json

from crawler.nlp.labels import LABELS
from crawler.storage import DEFAULT_DB, Database


def cmd_correct(args: argparse.Namespace) -> int:
    from crawler.storage.corrections import record

    frames = None if args.frame is None else [f for f in args.frame if f]
    if args.no_frames:
        frames = []
    with Database(args.db).writing() as con:
        result = record(con, args.doc_id, args.stance, frames, args.note)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def add_command(commands) -> None:
    from pathlib import Path

    sub = commands.add_parser("correct", help="record an analyst's stance and frames of a document (wins over the model)")
    sub.add_argument("doc_id", metavar="DOC_ID", help="the document's id (documents.id)")
    sub.add_argument("--stance", choices=LABELS, help="the document's stance: against, neutral or favor")
    sub.add_argument("--frame", action="append", metavar="NAME", help="a frame of the document (repeatable; "
                     "the list replaces the model's frames)")
    sub.add_argument("--no-frames", action="store_true", help="the document has no frame")
    sub.add_argument("--note", metavar="TEXT", help="why (kept with the correction)")
    sub.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    sub.set_defaults(func=cmd_correct)
