"""Stage 4: keep only documents about the topic; the others are marked and recorded in ``filtered``."""

from __future__ import annotations

from crawler.items import Document
from crawler.text.terms import RelevanceMatcher
from crawler.topic import load_topic


class RelevancePipeline:
    def __init__(self, crawler, matcher: RelevanceMatcher):
        self.crawler = crawler
        self.stats = crawler.stats
        self.matcher = matcher

    @classmethod
    def from_crawler(cls, crawler):
        topic = load_topic(crawler.settings.get("SEEDTRACK_TOPIC"))
        return cls(crawler, RelevanceMatcher(topic.terms, topic.exclude))

    def process_item(self, item: Document) -> Document:
        verdict = self.matcher.check(item.title, item.summary, item.text)
        if verdict.relevant:
            item.relevance = verdict.reason
            item.matched_terms = verdict.terms
            self.stats.inc_value("relevance/kept")
        else:
            item.filtered_reason = verdict.reason
            self.stats.inc_value("relevance/filtered")
        return item
