"""Batch writes inside one transaction: documents and what is derived from them, as Arrow batches.

Rows are dicts keyed by column name; the Arrow schema of each table comes from ``schema.TABLES``.
"""

from __future__ import annotations

from typing import Any, Sequence

import pyarrow as pa

from crawler.storage import corrections, stories
from crawler.storage.schema import ANALYSIS_COLUMNS, DERIVED, TABLES


def _upgrade(table: str) -> str:
    """A row known only from its feed entry is replaced when its page has been read since."""
    columns = ", ".join(f"{c} = excluded.{c}" for c in TABLES[table].column_names() if c != "id")
    return (f"ON CONFLICT (id) DO UPDATE SET {columns} "
            f"WHERE {table}.text_source = 'feed' AND excluded.text_source = 'page'")


_ON_CONFLICT = {"documents": _upgrade("documents"), "filtered": _upgrade("filtered"),
                "url_aliases": "ON CONFLICT DO NOTHING"}


def arrow(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def insert(con, table: str, rows: Sequence[dict[str, Any]], returning: str = "") -> list[tuple]:
    """Insert rows as one Arrow batch; in tables with a key, rows whose key is already there are skipped."""
    if not rows:
        return []
    schema = TABLES[table].arrow()
    con.register("batch", arrow(rows, schema))
    cols = ", ".join(schema.names)
    result = con.execute(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM batch {_ON_CONFLICT.get(table, '')} {returning}"
    ).fetchall()
    con.unregister("batch")  # not on failure: the transaction is then aborted and rolled back
    return result


def delete_derived(con, ids_sql: str) -> None:
    """Delete the entities, frames and actors of the documents that ``ids_sql`` selects."""
    for table in DERIVED:
        con.execute(f"DELETE FROM {table} WHERE doc_id IN ({ids_sql})")


def insert_derived(con, rows: dict[str, Sequence[dict[str, Any]]], only: set[str] | None = None) -> None:
    """Insert entities, frames and actors rows (those of the documents in ``only``, when given)."""
    for table in DERIVED:
        insert(con, table, [r for r in rows.get(table, ()) if only is None or r["doc_id"] in only])


def store(con, documents, entities, filtered, errors, aliases, engagement, frames, actors) -> set[str]:
    """One crawl batch; returns the ids of documents that were new (their derived rows are kept)."""
    clustered = stories.assign(con, documents, entities)  # each row gets its story_id
    new_ids = {row[0] for row in insert(con, "documents", documents, "RETURNING id")}
    if new_ids:  # upgraded rows: their old entities go, and a page now on topic leaves `filtered`
        con.register("stored_ids", pa.table({"id": sorted(new_ids)}))
        delete_derived(con, "SELECT id FROM stored_ids")
        con.execute("DELETE FROM filtered WHERE id IN (SELECT id FROM stored_ids)")
        con.unregister("stored_ids")
    insert_derived(con, {"entities": entities, "frames": frames, "actors": actors}, new_ids)
    insert(con, "filtered", filtered)
    insert(con, "url_aliases", aliases)
    if aliases:  # a row kept from a feed entry under a link that now leads to a read page is superseded
        con.register("alias_ids", pa.table({"id": sorted({a["alias_id"] for a in aliases})}))
        superseded = "SELECT d.id FROM documents d JOIN alias_ids a ON a.id = d.id WHERE d.text_source = 'feed'"
        delete_derived(con, superseded)
        con.execute(f"DELETE FROM documents WHERE id IN ({superseded})")
        con.unregister("alias_ids")
    insert(con, "errors", errors)
    stories.update(con, [d for d in documents if d["id"] in new_ids and d["id"] in clustered], frames)
    if engagement:
        schema = TABLES["engagement"].arrow()
        con.register("snapshots", arrow(engagement, schema))
        cols = ", ".join(schema.names)
        con.execute(f"INSERT INTO engagement ({cols}) SELECT {cols} FROM snapshots "
                    "WHERE doc_id IN (SELECT id FROM documents) ON CONFLICT DO NOTHING")
        con.unregister("snapshots")
    return new_ids


def replace_analysis(con, documents, entities, frames, actors) -> int:
    """New NLP results for stored documents: stance columns updated, derived rows replaced, then the
    documents' corrections (``corrections.apply``) applied again."""
    con.register("analysis", arrow(documents, TABLES["documents"].arrow(ANALYSIS_COLUMNS)))
    sets = ", ".join(f"{c} = analysis.{c}" for c in ANALYSIS_COLUMNS if c != "id")
    updated = con.execute(f"UPDATE documents SET {sets} FROM analysis WHERE documents.id = analysis.id "
                          "RETURNING documents.id").fetchall()
    delete_derived(con, "SELECT id FROM analysis")
    con.unregister("analysis")
    insert_derived(con, {"entities": entities, "frames": frames, "actors": actors})
    corrections.apply(con, [row[0] for row in updated])  # an analyst's correction wins over the new analysis
    return len(updated)


def record_run(con, run: dict[str, Any]) -> None:
    cols = TABLES["crawl_runs"].column_names()
    con.execute(f"INSERT OR REPLACE INTO crawl_runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [run.get(c) for c in cols])
