"""Storage: the one package that knows DuckDB.

``Database`` (connections, lock waits, migrations, batch writes, read-only queries), the schema with
each table declared once (``schema``), the process's writer thread (``writer``), and the queries the rest
of seedtrack needs: crawl state (``state``), the scheduler's job table (``jobs``), status and retag reads
(``queries``) and exports (``exports``). Nothing outside this package imports duckdb or writes SQL,
except the user's own query in ``seedtrack sql``.
"""

from crawler.storage.database import DEFAULT_DB, Database, DatabaseError

__all__ = ["DEFAULT_DB", "Database", "DatabaseError"]
