"""Tests for crawler.storage.exports (DuckDB COPY to CSV, Parquet, JSON) and crawler.cli.output.write_rows."""

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from crawler.storage import Database, DatabaseError
from crawler.storage.exports import EXPORTS, export
from crawler.cli.output import write_rows

TRICKY_TITLE = 'He said "no", then, later,\nleft'


def document(doc_id: str, published_at: datetime | None, **fields) -> dict:
    row = {
        "id": doc_id, "url": f"https://news.example/{doc_id}", "source": "verge-ai", "source_kind": "feed",
        "kind": "article", "title": f"Story {doc_id}", "text": "Seedance 2.0", "text_source": "feed",
        "site": "news.example", "published_at": published_at, "fetched_at": datetime(2026, 2, 20, 9, 0),
        "lang": "en", "analysed": False, "matched_terms": ["Seedance"], "word_count": 2, "run_id": "run-1",
    }
    row.update(fields)
    return row


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "seedtrack.duckdb")
    database.store(
        documents=[
            document("a", datetime(2026, 2, 11, 23, 59, 59)),  # the day before the range
            document("b", datetime(2026, 2, 12, 0, 0, 0), title=TRICKY_TITLE, matched_terms=["Seedance", "即梦"]),
            document("c", datetime(2026, 2, 13, 23, 59, 59, 999999), title="Comma, inside"),  # last instant of until
            document("d", datetime(2026, 2, 14, 0, 0, 0)),  # the day after
            document("e", None),  # fetched 2026-02-20
        ],
        entities=[{"doc_id": "b", "text": "ByteDance", "label": "ORG", "norm": "ByteDance", "start_char": 0,
                   "end_char": 9}],
        filtered=[{"id": "f", "url": "https://news.example/f", "source": "variety", "reason": "no topic term",
                   "seen_at": datetime(2026, 2, 12, 12, 0), "run_id": "run-1"}],
    )
    return database


def test_export_csv_rfc4180(db, tmp_path):
    path = tmp_path / "out" / "documents.csv"
    assert export(db, "documents", path, "csv") == 5
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 6  # header + 5 rows, every record ends with CRLF (the LF in a title stays)
    assert raw.endswith(b"\r\n")
    assert raw.split(b"\r\n", 1)[0] == b",".join(name.encode() for name in _columns(db))
    assert b'"He said ""no"", then, later,\nleft"' in raw  # quotes doubled, field quoted, LF kept inside
    assert b'"Comma, inside"' in raw
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, records = rows[0], rows[1:]
    assert header == _columns(db)
    by_id = {r[header.index("id")]: dict(zip(header, r)) for r in records}
    assert [r[0] for r in records] == ["a", "b", "c", "d", "e"]  # ordered by date
    assert by_id["b"]["title"] == TRICKY_TITLE
    assert by_id["c"]["title"] == "Comma, inside"
    assert by_id["b"]["published_at"] == "2026-02-12 00:00:00"
    assert by_id["e"]["published_at"] == ""  # NULL is an empty field
    assert by_id["b"]["analysed"] == "false"


def _columns(db: Database) -> list[str]:
    return db.query("SELECT * FROM documents LIMIT 0")[0]


def test_export_parquet_round_trip(db, tmp_path):
    path = tmp_path / "documents.parquet"
    assert export(db, "documents", path, "parquet") == 5
    table = pq.read_table(path)
    assert table.column_names == _columns(db)
    rows = {row["id"]: row for row in table.to_pylist()}
    assert rows["b"]["title"] == TRICKY_TITLE
    assert rows["b"]["matched_terms"] == ["Seedance", "即梦"]
    assert rows["b"]["published_at"] == datetime(2026, 2, 12)
    assert rows["e"]["published_at"] is None


def test_export_json_array(db, tmp_path):
    path = tmp_path / "documents.json"
    assert export(db, "documents", path, "json") == 5
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == 5
    assert data[1]["id"] == "b"
    assert data[1]["title"] == TRICKY_TITLE
    assert data[1]["matched_terms"] == ["Seedance", "即梦"]
    assert data[4]["published_at"] is None


@pytest.mark.parametrize(
    ("since", "until", "ids"),
    [
        ("2026-02-12", "2026-02-13", ["b", "c"]),  # inclusive at both ends, to the last microsecond
        ("2026-02-12", None, ["b", "c", "d", "e"]),  # e has no published_at: its fetch day counts
        (None, "2026-02-12", ["a", "b"]),
        ("2026-02-13", "2026-02-13", ["c"]),
        ("2026-02-15", "2026-02-19", []),
    ],
)
def test_export_since_until_inclusive(db, tmp_path, since, until, ids):
    path = tmp_path / "range.json"
    assert export(db, "documents", path, "json", since=since, until=until) == len(ids)
    assert [row["id"] for row in json.loads(path.read_text(encoding="utf-8"))] == ids


def test_export_timeline_range(db, tmp_path):
    path = tmp_path / "timeline.csv"
    assert export(db, "timeline", path, "csv", since="2026-02-12", until="2026-02-13") == 2
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["day"], r["documents"]) for r in rows] == [("2026-02-12", "1"), ("2026-02-13", "1")]


def test_export_entities_and_filtered(db, tmp_path):
    assert export(db, "entities", tmp_path / "e.json", "json", since="2026-02-12", until="2026-02-12") == 1
    assert export(db, "entities", tmp_path / "e2.json", "json", since="2026-02-13") == 0
    assert export(db, "filtered", tmp_path / "f.json", "json", until="2026-02-12") == 1
    assert json.loads((tmp_path / "f.json").read_text())[0]["reason"] == "no topic term"


@pytest.mark.parametrize(("since", "until", "option"),
                         [("12/02/2026", None, "--since"), (None, "2026-02-30", "--until"), ("yesterday", None, "--since")])
def test_export_bad_date_raises(db, tmp_path, since, until, option):
    with pytest.raises(DatabaseError, match=f"{option} takes a date as YYYY-MM-DD"):
        export(db, "documents", tmp_path / "x.csv", "csv", since=since, until=until)
    assert not (tmp_path / "x.csv").exists()


def test_export_unknown_name_lists_choices(db, tmp_path):
    with pytest.raises(DatabaseError, match="cannot export 'articles'") as info:
        export(db, "articles", tmp_path / "x.csv")
    for name in EXPORTS:
        assert name in str(info.value)


def test_export_unknown_format_lists_choices(db, tmp_path):
    with pytest.raises(DatabaseError, match="csv, parquet, json"):
        export(db, "documents", tmp_path / "x.xlsx", "xlsx")


def test_export_missing_database(tmp_path):
    with pytest.raises(DatabaseError, match="no database at"):
        export(Database(tmp_path / "none.duckdb"), "documents", tmp_path / "x.csv")


def test_export_path_with_quote(db, tmp_path):
    path = tmp_path / "it's here" / "documents.csv"
    assert export(db, "documents", path, "csv") == 5
    assert path.exists()


# -- crawler.cli.output.write_rows -------------------------------------------------------------------------------

COLUMNS = ["day", "title", "terms", "score", "note"]
ROWS = [
    (date(2026, 2, 12), TRICKY_TITLE, ["Seedance", "即梦"], Decimal("1.5"), None),
    (datetime(2026, 2, 13, 8, 30), "plain", [], 2, ""),
]


def test_write_rows_csv():
    out = io.StringIO(newline="")
    write_rows(COLUMNS, ROWS, "csv", out)
    text = out.getvalue()
    assert text.startswith("day,title,terms,score,note\r\n")
    assert text.count("\r\n") == 3
    assert '"He said ""no"", then, later,\nleft"' in text
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == COLUMNS
    assert parsed[1][:2] == ["2026-02-12", TRICKY_TITLE]
    assert parsed[1][3:] == ["1.5", ""]  # Decimal as a number, None as an empty field
    assert parsed[2][0] == "2026-02-13T08:30:00"


def test_write_rows_json():
    out = io.StringIO()
    write_rows(COLUMNS, ROWS, "json", out)
    data = json.loads(out.getvalue())
    assert data[0] == {"day": "2026-02-12", "title": TRICKY_TITLE, "terms": ["Seedance", "即梦"], "score": 1.5,
                       "note": None}
    assert data[1]["day"] == "2026-02-13T08:30:00"
    assert "即梦" in out.getvalue()  # not escaped


def test_write_rows_table():
    out = io.StringIO()
    write_rows(["id", "title"], [("a", "x" * 100), ("bb", TRICKY_TITLE), ("c", None)], "table", out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["id", "title"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2] == "a   " + "x" * 59 + "…"  # long cells cut to 60 characters
    assert lines[3] == 'bb  He said "no", then, later, left'  # whitespace folded: one line per row
    assert lines[4] == "c"
    assert lines[5] == "(3 rows)"


@pytest.mark.parametrize(("count", "footer"), [(0, "(0 rows)"), (1, "(1 row)"), (2, "(2 rows)")])
def test_write_rows_table_footer(count, footer):
    out = io.StringIO()
    write_rows(["n"], [(i,) for i in range(count)], "table", out)
    assert out.getvalue().splitlines()[-1] == footer


def test_write_rows_unknown_format():
    with pytest.raises(ValueError, match="table, csv, json"):
        write_rows(["a"], [], "xml", io.StringIO())
