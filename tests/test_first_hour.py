"""A new user's first hour: the README's install with the stock pip, loud failures, clean CLI errors.

Every error case asserts the exit code and that standard error names the problem in one line, without a
traceback; ``--traceback`` and ``SEEDTRACK_DEBUG=1`` bring the traceback back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from crawler.nlp.stance_models import minilm_available
from helpers import REPO, rows, run_cli, write_topic

QUIET = ("-q", "--set", "AUTOTHROTTLE_ENABLED=false")


def assert_clean_error(result, *words: str, code: int = 2) -> None:
    """Exit ``code``; stderr ends with one ``seedtrack: error:`` line naming ``words``; no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Unhandled error" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("seedtrack: error: "), result.stderr[-2000:]
    for word in words:
        assert word in last, (word, last)


@pytest.mark.slow
@pytest.mark.install
def test_install_readme_line_in_a_fresh_venv_with_the_stock_pip_runs_the_demo(tmp_path):
    """`python -m venv` + the README's `pip install .` (pip as ensurepip gives it, never upgraded), then the demo."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip, seedtrack = venv / "bin" / "pip", venv / "bin" / "seedtrack"
    stock = subprocess.run([str(pip), "--version"], capture_output=True, text=True, check=True).stdout
    bundled = subprocess.run([sys.executable, "-c", "import ensurepip; print(ensurepip.version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert f"pip {bundled} " in stock, stock
    source = tmp_path / "src"  # a copy of the tracked files, so the build leaves the checkout as it was
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-cf", str(tmp_path / "src.tar"), "--null", "-T", "-"], cwd=REPO, input=files, check=True)
    source.mkdir()
    subprocess.run(["tar", "-xf", str(tmp_path / "src.tar")], cwd=source, check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run([str(pip), "install", "."], cwd=source, capture_output=True, text=True, env=env,
                             timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    db = tmp_path / "demo.duckdb"
    demo = subprocess.run([str(seedtrack), "demo", "--db", str(db), "--articles", "12", "-q"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Traceback" not in demo.stderr
    assert rows(db, "SELECT count(*) AS n FROM documents WHERE kind = 'article' AND text_source = 'page'")[0]["n"] > 0


@pytest.mark.slow
def test_crawl_stops_with_one_line_when_a_pipeline_stage_cannot_be_imported(tmp_path):
    """The failure issue 9 found: jusText's import of lxml.html.clean failing under trafilatura."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "trafilatura.py").write_text(
        'raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean")\n')
    result = run_cli("demo", "--db", tmp_path / "demo.duckdb", "--articles", "12", "-q",
                     env={"PYTHONPATH": f"{broken}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert_clean_error(result, "pipelines.extract.ExtractPipeline", "lxml_html_clean", "pip install")


@pytest.mark.slow
def test_crawl_stops_with_one_line_when_a_component_cannot_be_built(tmp_path):
    """A stage whose from_crawler raises (a bad setting value, say): exit 2 naming the class and the problem."""
    (tmp_path / "badstage.py").write_text(textwrap.dedent("""
        class Stage:
            @classmethod
            def from_crawler(cls, crawler):
                raise ValueError("BADSTAGE_LIMIT must be positive")
        """))
    result = run_cli("crawl", "--feed", "http://127.0.0.1:9/feed.xml", "--db", tmp_path / "c.duckdb", *QUIET,
                     "--set", 'ITEM_PIPELINES={"badstage.Stage": 700}',
                     env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert_clean_error(result, "badstage.Stage", "BADSTAGE_LIMIT must be positive")


@pytest.mark.slow
def test_demo_fails_when_it_stores_no_documents(tmp_path):
    topic = write_topic(tmp_path / "nothing.toml", [{"name": "unused", "kind": "feed", "url": "http://127.0.0.1:9/f"}],
                        include=["zzzunmatchedterm"])
    result = run_cli("demo", "--db", tmp_path / "demo.duckdb", "--articles", "12", "-q", "--topic", topic)
    assert_clean_error(result, "stored no documents", code=1)


@pytest.mark.slow
def test_crawl_with_no_resolvable_host_says_the_machine_seems_offline(tmp_path):
    topic = write_topic(tmp_path / "offline.toml", [
        {"name": "a", "kind": "feed", "url": "https://feeds.nonexistent-host.invalid/a.xml"},
        {"name": "b", "kind": "feed", "url": "https://news.nonexistent-host.invalid/b.xml"},
    ])
    result = run_cli("crawl", "--topic", topic, "--db", tmp_path / "c.duckdb", *QUIET,
                     "--set", "RETRY_TIMES=0")
    assert_clean_error(result, "offline", "seedtrack demo", code=1)


def _not_duckdb(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("these are notes, not a database\n")
    return path


def _bad_topic(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[topic\nname = 'x'\n")
    return path


@pytest.mark.parametrize("args, words", [
    (lambda t: ("tag", t / "missing.txt"), ["missing.txt", "No such file"]),
    (lambda t: ("tag", t), [str("tmp"), "directory"]),
    (lambda t: ("crawl", "--db", t / "c.duckdb", "--set", "NLP_STANCE_MODEL=bogus"), ["NLP_STANCE_MODEL", "textcat"]),
    (lambda t: ("tag", "--set", "NLP_STANCE_MODEL=bogus", "-"), ["NLP_STANCE_MODEL", "textcat"]),
    (lambda t: ("eval", "--set", "NLP_BATCH_SIZE=many"), ["NLP_BATCH_SIZE", "whole number"]),
    (lambda t: ("retag", "--db", t / "r.duckdb", "--set", "NLP_ENABLED=perhaps"), ["NLP_ENABLED", "boolean"]),
    (lambda t: ("crawl", "--db", t / "c.duckdb", "--set", "NLP_WORKER=2"), ["unknown setting", "NLP_WORKERS"]),
    (lambda t: ("crawl", "--db", t / "c.duckdb", "--set", "ITEM_PIPELINES=stages"), ["ITEM_PIPELINES", "JSON"]),
    (lambda t: ("crawl", "--db", t / "c.duckdb", "--set", "NOEQUALS"), ["NAME=VALUE"]),
    (lambda t: ("sql", "SELEC 1", "--db", _not_duckdb(t)), ["not a DuckDB database"]),
    (lambda t: ("status", "--db", _not_duckdb(t)), ["not a DuckDB database"]),
    (lambda t: ("export", "documents", "-o", t / "o.csv", "--db", t), ["directory"]),
    (lambda t: ("crawl", "--db", "/proc/seedtrack/none.duckdb", "--feed", "http://127.0.0.1:9/f.xml"), ["cannot create"]),
    (lambda t: ("sources", "--topic", _bad_topic(t)), ["bad.toml:1", "invalid TOML"]),
    (lambda t: ("tag", "--topic", _bad_topic(t), "-"), ["bad.toml:1", "invalid TOML"]),
    (lambda t: ("crawl", "--topic", t / "none.toml"), ["none.toml"]),
    (lambda t: ("crawl", "--feed", "ftp://example.com/feed", "--db", t / "c.duckdb"), ["not an http(s) URL"]),
    (lambda t: ("eval", "--dataset", "no-such-set"), ["no-such-set"]),
], ids=["tag-missing-file", "tag-directory", "crawl-bad-choice", "tag-bad-choice", "eval-bad-int", "retag-bad-bool",
        "unknown-setting", "bad-dict-setting", "set-without-equals", "sql-not-duckdb", "status-not-duckdb",
        "export-db-directory", "crawl-uncreatable-db", "sources-malformed-topic", "tag-malformed-topic",
        "crawl-missing-topic", "crawl-not-http", "eval-unknown-dataset"])
def test_cli_expected_errors_are_one_clean_line(tmp_path, args, words):
    result = run_cli(*args(tmp_path), stdin="Seedance 2.0 is here.", timeout=120)
    assert_clean_error(result, *words)


def test_cli_sql_errors_are_clean_on_a_real_database(tmp_path):
    db = tmp_path / "s.duckdb"
    from crawler.storage import Database

    Database(db).migrate()
    for sql, word in (("SELEC 1", "syntax error"), ("SELECT * FROM no_such_table", "no_such_table")):
        assert_clean_error(run_cli("sql", sql, "--db", db), word)
    assert_clean_error(run_cli("export", "bogus", "-o", tmp_path / "o.csv", "--db", db), "bogus", "documents")


def test_cli_traceback_flag_and_debug_variable_show_the_traceback(tmp_path):
    for args, env in ((("--traceback", "tag", tmp_path / "missing.txt"), None),
                      (("tag", tmp_path / "missing.txt"), {"SEEDTRACK_DEBUG": "1"})):
        result = run_cli(*args, env=env)
        assert result.returncode != 0
        assert "Traceback" in result.stderr and "FileNotFoundError" in result.stderr


@pytest.mark.skipif(minilm_available(), reason="the minilm extra is installed here, so the model would load")
def test_cli_tag_honours_set_like_crawl(tmp_path):
    """--set NLP_STANCE_MODEL reaches tag's tagger: asking for MiniLM without its extra says how to get it."""
    result = run_cli("tag", "--set", "NLP_STANCE_MODEL=minilm", "-", stdin="Seedance 2.0 is here.")
    assert_clean_error(result, "minilm", "pip install")
