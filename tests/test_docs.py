"""The README documents every command, option, setting, table and column (fails when one is added silently)."""

from __future__ import annotations

import re

import duckdb
import pytest

from crawler import settings
from crawler.cli import build_parser
from crawler.storage import Database
from helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PROJECT_SETTINGS = [name for name in vars(settings) if re.match(r"^(SEEDTRACK|NLP|STORE|FEED|EXTRACT|BACKOFF|SCHEDULE|CONDITIONAL|PRIVATE|HOSTLIMIT)_", name)]


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_docs_readme_documents_command_and_options(command):
    assert f"`{command} " in README or f"`{command}`" in README
    for action in subcommands()[command]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in README, f"{command} {option} is not in README.md"


@pytest.mark.parametrize("name", PROJECT_SETTINGS)
def test_docs_readme_documents_setting(name):
    assert f"`{name}`" in README


def test_docs_readme_documents_tables_and_columns(tmp_path):
    db = Database(tmp_path / "schema.duckdb")
    db.migrate()
    con = duckdb.connect(str(db.path), read_only=True)
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_name != 'schema_version'"
    ).fetchall()
    con.close()
    assert columns
    for table, column in columns:
        assert f"`{table}`" in README, table
        assert f"`{column}`" in README, f"{table}.{column}"
