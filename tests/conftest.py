"""Shared fixtures (the replay site served on 127.0.0.1 for the whole session, the tagger) and the ``slow`` mark.

A test is marked ``slow`` when it, or a fixture it uses, runs seedtrack in another process or runs a whole
crawl (``run_cli``, ``subprocess``, a schedule daemon, ``run_crawl``, ``run_demo``): the quick lane,
``pytest -m "not slow"``, leaves those out; CI and the README's test command run everything.
"""

from __future__ import annotations

import inspect
import re

import pytest

from crawler.demo.replay.server import ReplayServer
from crawler.demo.replay.site import build_site


@pytest.fixture(scope="session")
def replay(tmp_path_factory):
    """(server, manifest) of a 40-article replay site, served for the whole test session."""
    root = tmp_path_factory.mktemp("replay-site")
    manifest = build_site(root, articles=40)
    with ReplayServer(root) as server:
        yield server, manifest


@pytest.fixture(scope="session")
def tagger():
    """The crawl's tagger for the shipped topic, with the fastest stance model (textcat); loaded once."""
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.topic import load_topic

    return Tagger(TaggerSpec.from_topic(load_topic(), stance_model="textcat"))


SLOW_CALLS = re.compile(r"\b(run_cli|subprocess\.\w+|Daemon|run_crawl|run_demo|crawl_process)\(")


def _runs_processes(function) -> bool:
    try:
        return bool(SLOW_CALLS.search(inspect.getsource(function)))
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("slow"):
            continue
        functions = [getattr(item, "function", None)]
        manager = item.session._fixturemanager
        for name in getattr(item, "fixturenames", ()):
            for definition in manager.getfixturedefs(name, item) or ():
                if not definition.func.__module__.startswith(("_pytest", "pytest")):
                    functions.append(definition.func)
        if any(f is not None and _runs_processes(f) for f in functions):
            item.add_marker(pytest.mark.slow)
