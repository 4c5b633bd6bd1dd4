"""Shared fixtures: the replay site served on 127.0.0.1 for the whole session."""

from __future__ import annotations

import pytest

from crawler.replay.server import ReplayServer
from crawler.replay.site import build_site


@pytest.fixture(scope="session")
def replay(tmp_path_factory):
    """(server, manifest) of a 40-article replay site, served for the whole test session."""
    root = tmp_path_factory.mktemp("replay-site")
    manifest = build_site(root, articles=40)
    with ReplayServer(root) as server:
        yield server, manifest


@pytest.fixture(scope="session")
def tagger():
    """The crawl's tagger for the shipped topic, with the shipped default stance model; loaded once."""
    from crawler.nlp.tagger import Tagger, TaggerSpec
    from crawler.topic import load_topic

    return Tagger(TaggerSpec.from_topic(load_topic(), stance_model="textcat"))
