"""Stage 5: entities, stance, frames and actors of English and Chinese documents, in batches off the crawl's thread.

Each item waits (without blocking the reactor) until its batch is tagged: a batch goes to the NLP
runner when it holds ``NLP_BATCH_SIZE`` texts or its first text has waited ``NLP_MAX_WAIT`` seconds.
Documents in other languages, and off-topic ones, pass straight through with ``analysed = False``.
Each analysed document carries ``nlp_version`` (``TaggerSpec.version``), so ``seedtrack retag`` can find
the documents analysed with an older topic or model.
If tagging fails the documents are still stored with ``analysed = false`` and each one is recorded in
``errors``; a missing model stops the crawl before it starts.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy.exceptions import NotConfigured

from crawler.items import Document
from crawler.topic import load_topic

logger = logging.getLogger(__name__)

class NlpPipeline:
    def __init__(self, crawler, runner, batch_size: int, max_wait: float, languages: tuple[str, ...], version: str):
        self.crawler = crawler
        self.stats = crawler.stats
        self.runner = runner
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.languages = languages
        self.version = version
        self._pending: list[tuple[Document, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NLP_ENABLED"):
            raise NotConfigured("NLP_ENABLED is off")
        # spaCy (and what it imports) loads only when the stage is on: a crawl without NLP starts faster
        from crawler.nlp.model import installed_model
        from crawler.nlp.runner import shared_runner
        from crawler.nlp.stance_models import STANCE_MODELS
        from crawler.nlp.tagger import LANGUAGES, TaggerSpec

        installed_model(settings.get("NLP_MODEL"))  # fail at start-up, not batch by batch
        if settings.get("NLP_STANCE_MODEL") not in STANCE_MODELS:
            raise ValueError(f"NLP_STANCE_MODEL must be one of {', '.join(STANCE_MODELS)}")
        topic = load_topic(settings.get("SEEDTRACK_TOPIC"))
        spec = TaggerSpec.from_topic(topic, settings.get("NLP_MODEL"), settings.get("NLP_STANCE_MODEL"),
                                     settings.getint("NLP_BATCH_SIZE"))
        runner = shared_runner(spec, settings.getint("NLP_WORKERS"))
        languages = tuple(lang for lang in topic.languages if lang in LANGUAGES)
        return cls(crawler, runner, settings.getint("NLP_BATCH_SIZE"), settings.getfloat("NLP_MAX_WAIT"), languages,
                   spec.version())

    def open_spider(self) -> None:
        self.runner.warm_up()  # the model loads while the first pages download

    async def process_item(self, item: Document) -> Document:
        if item.filtered_reason or not item.text or item.lang not in self.languages:
            self.stats.inc_value("nlp/skipped")
            return item
        done = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_wait, self._flush)
        await done
        return item

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._tag(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _tag(self, batch: list[tuple[Document, asyncio.Future]]) -> None:
        try:
            results = await asyncio.wrap_future(
                self.runner.submit([item.text for item, _ in batch], [item.lang for item, _ in batch])
            )
        except Exception as exc:
            logger.exception("NLP failed on a batch of %d documents; they are stored unanalysed", len(batch))
            self.stats.inc_value("nlp/failed", len(batch))
            for item, _done in batch:
                self.crawler.spider.record_error(item.url, f"NLP failed, stored unanalysed: {exc!r}")
            results = None
        for index, (item, done) in enumerate(batch):
            if results is not None and results[index] is not None:
                result = results[index]
                item.entities = result.pop("entities")
                item.reception = {**result, "nlp_version": self.version}
                item.analysed = True
                self.stats.inc_value("nlp/analysed")
            if not done.done():
                done.set_result(None)

    def close_spider(self) -> None:
        self._flush()

