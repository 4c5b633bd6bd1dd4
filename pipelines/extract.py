"""Stage 3: the main text, title, author and date of fetched pages (trafilatura, htmldate), and the language.

A page whose extracted text is too short to be an article keeps the feed's title and summary as its
text (``text_source = 'feed'``), so a failed extraction loses nothing the feed gave; a page with no
feed entry behind it (``--page``) keeps whatever text it has.
"""

from __future__ import annotations

import trafilatura

from crawler.text.dates import to_utc
from crawler.items import Document
from crawler.text.language import count_words, detect_language

DATE_PARAMS = {"original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def extract_article(html: str, url: str | None = None, search_dates: bool = True) -> dict | None:
    """Text and metadata of an article page, or None when trafilatura finds no main text.

    ``search_dates`` lets htmldate look for a date in the page's text as well as in its markup: slow
    (it can call dateparser over every locale), so it is used only when the source gave no date.
    """
    result = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        date_extraction_params={**DATE_PARAMS, "extensive_search": search_dates},
    )
    if result is None or not result.text:
        return None
    return {"text": result.text, "title": result.title, "author": result.author, "date": result.date}


def topic_languages(settings) -> tuple[str, ...]:
    """The topic's languages, the priors of language detection (none when the topic cannot be read here)."""
    try:
        from crawler.topic import load_topic

        return tuple(load_topic(settings.get("SEEDTRACK_TOPIC")).languages)
    except Exception:  # noqa: BLE001  (the topic's own errors are reported by the stages that need it)
        return ()


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.min_words = crawler.settings.getint("EXTRACT_MIN_WORDS")
        self.max_chars = crawler.settings.getint("EXTRACT_MAX_CHARS")
        self.languages = topic_languages(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Document) -> Document:
        if item.html:
            if len(item.html) > self.max_chars:
                self.stats.inc_value("extract/truncated")
            html = item.html[: self.max_chars]
            extracted = extract_article(html, item.url, search_dates=item.published_at is None)
            item.html = None
            has_feed_text = bool(item.title or item.summary)
            if extracted and (count_words(extracted["text"]) >= self.min_words or not has_feed_text):
                item.text = extracted["text"]
                item.text_source = "page"
                item.title = item.title or extracted["title"]
                item.author = item.author or extracted["author"]
                item.published_at = item.published_at or to_utc(extracted["date"])
                self.stats.inc_value("extract/page")
            else:
                self.stats.inc_value("extract/empty")
        if item.text_source is None:
            item.text = item.text or "\n\n".join(part for part in (item.title, item.summary) if part) or None
            item.text_source = "feed"
            self.stats.inc_value("extract/feed_only")
        item.published_at = item.published_at or to_utc(item.seen_at)
        item.word_count = count_words(item.text)
        # The platform's language field (Bluesky, Mastodon ...) first, then the script, then the topic's languages
        item.lang = detect_language(item.text, hint=item.lang, priors=self.languages)
        return item
