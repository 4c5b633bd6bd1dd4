"""The import rules of the tree, read from the source (every import statement, at any depth, transitively).

- duckdb is imported only by ``crawler/storage/``, and SQL is written only there (the demo's example queries,
  printed for the user to run, excepted);
- spiders import no storage, not even through another module;
- nothing under ``crawler/`` imports ``pipelines``;
- runtime modules (a crawl, ``tag``, ``retag``) import no training code;
- no runtime module is over 400 lines; no test module imports another test module.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from helpers import REPO

PACKAGES = ("crawler", "pipelines")
MAX_LINES = 400
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|VIEW|INDEX))\b",
                 re.IGNORECASE | re.DOTALL)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (REPO / package).rglob("*.py")}


def is_training(name: str) -> bool:
    return name == "crawler.training" or name.startswith("crawler.training.")


@lru_cache(maxsize=None)
def imports_of(name: str) -> frozenset[str]:
    """Modules ``name`` imports anywhere in its code (absolute names, packages included)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    return frozenset(found)


def reachable(name: str) -> set[str]:
    """Every project module ``name`` imports, directly or through others (a module's packages too)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        for imported in imports_of(current):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in MODULES and candidate not in seen:
                    seen.add(candidate)
                    todo.append(candidate)
    return seen


def test_architecture_duckdb_only_in_storage():
    users = {name for name in MODULES if any(i == "duckdb" or i.startswith("duckdb.") for i in imports_of(name))}
    assert users and all(name.startswith("crawler.storage") for name in users), sorted(users)


def test_architecture_sql_only_in_storage():
    writers = []
    for name, path in MODULES.items():
        if name.startswith("crawler.storage") or name.startswith("crawler.demo"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                writers.append(f"{name}:{node.lineno}")
    assert not writers, writers


def test_architecture_spiders_import_no_storage():
    spiders = [name for name in MODULES if name.startswith("crawler.spiders")]
    assert len(spiders) >= 12
    for name in spiders:
        assert not {m for m in reachable(name) if m.startswith("crawler.storage")}, name


def test_architecture_crawler_imports_no_pipelines():
    for name in MODULES:
        if name.startswith("crawler"):
            assert not {i for i in imports_of(name) if i == "pipelines" or i.startswith("pipelines.")}, name


def test_architecture_runtime_imports_no_training_code():
    # the command line imports training inside `seedtrack eval` only (the next test runs it)
    runtime = [name for name in MODULES if not is_training(name) and not name.startswith(("crawler.cli", "crawler.__main__"))]
    for name in runtime:
        assert not {m for m in reachable(name) if is_training(m)}, name


def test_architecture_crawl_tag_and_retag_load_no_training_module():
    """What a crawl, ``tag`` and ``retag`` import at run time, in a fresh interpreter."""
    code = ("import sys, crawler.cli, crawler.app.runner, crawler.app.retag, crawler.nlp.tagger, crawler.nlp.tagging, "
            "pipelines.nlp, pipelines.store; "
            "print(sorted(m for m in sys.modules if m.startswith('crawler.training')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not is_training(n)))
def test_architecture_runtime_module_is_short(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(REPO)} has {lines} lines"


def test_architecture_no_test_imports_another_test_module():
    for path in (REPO / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[-1].startswith("test_")], path.name
