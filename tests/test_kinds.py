"""The registry of source kinds: every kind's spider, its options and its URL options."""

from __future__ import annotations

import pytest

from crawler.downloadermiddlewares.privateaddress import user_hosts
from crawler.spiders import spider_class
from crawler.spiders.kinds import KINDS, source_urls
from crawler.topic import TopicError, load_topic
from helpers import write_topic


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kinds_each_kind_names_its_spider(kind):
    spider = spider_class(kind)
    assert spider.kind == kind and spider.name == kind


def test_kinds_url_options_of_every_kind_are_hosts_the_user_named(tmp_path):
    topic = load_topic(write_topic(tmp_path / "t.toml", [
        {"name": "masto", "kind": "mastodon", "url": "https://mastodon.social",
         "instances": ["http://10.1.2.3:3000", "https://fosstodon.org"]},
        {"name": "red", "kind": "reddit", "url": "https://www.reddit.com", "oauth_url": "http://192.168.7.7"},
        {"name": "yt", "kind": "youtube", "url": "https://www.googleapis.com", "feeds_url": "http://127.0.0.5:8080"},
        {"name": "sky", "kind": "bluesky", "url": "https://public.api.bsky.app", "auth_url": "http://172.16.0.9"},
    ]))
    assert {"10.1.2.3", "fosstodon.org", "192.168.7.7", "127.0.0.5", "172.16.0.9"} <= user_hosts(topic, None)
    assert source_urls("page", "https://a.example/x", {"urls": ["https://b.example/y"]}) == \
        ["https://a.example/x", "https://b.example/y"]


def test_kinds_an_option_of_another_kind_is_refused(tmp_path):
    with pytest.raises(TopicError, match="unknown key 'subreddits' for a feed source"):
        load_topic(write_topic(tmp_path / "t.toml", [
            {"name": "f", "kind": "feed", "url": "https://a.example/feed.xml", "subreddits": ["x"]}]))
