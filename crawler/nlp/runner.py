"""Runs the tagger off the crawl's thread: in worker processes (the default) or in one thread.

A crawl must not wait on NLP, the slowest stage, so batches are tagged in a process pool whose
workers each load the model once (``workers >= 1``). ``workers = 0`` tags in a thread of the crawl
process instead, which starts faster and suits small crawls and tests. Runners are shared per
process and configuration, so several spiders of one crawl share one pool and one model.
"""

from __future__ import annotations

import atexit
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Sequence

from crawler.nlp.tagger import Tagger

_worker_tagger: Tagger | None = None
_thread_taggers: dict[tuple, Tagger] = {}


def _init_worker(entities: tuple, model: str | None, batch_size: int) -> None:
    global _worker_tagger
    _worker_tagger = Tagger(entities, model, batch_size)


def _tag_in_worker(texts: Sequence[str]) -> list[list[dict[str, Any]]]:
    assert _worker_tagger is not None, "worker initialiser did not run"
    return _worker_tagger.tag(texts)


def thread_tagger(entities: tuple, model: str | None, batch_size: int) -> Tagger:
    """The process's tagger for this configuration, loaded on first use."""
    key = (entities, model, batch_size)
    if key not in _thread_taggers:
        _thread_taggers[key] = Tagger(entities, model, batch_size)
    return _thread_taggers[key]


class NlpRunner:
    def __init__(self, entities: tuple, model: str | None = None, workers: int = 1, batch_size: int = 32):
        self.entities, self.model, self.workers, self.batch_size = entities, model, workers, batch_size
        self._executor: Executor | None = None

    def _get_executor(self) -> Executor:
        if self._executor is None:
            if self.workers > 0:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self.entities, self.model, self.batch_size),
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedtrack-nlp")
        return self._executor

    def submit(self, texts: Sequence[str]) -> Future:
        """Tag a batch; the future's result is one entity list per text, in order."""
        executor = self._get_executor()
        if self.workers > 0:
            return executor.submit(_tag_in_worker, list(texts))
        return executor.submit(lambda: thread_tagger(self.entities, self.model, self.batch_size).tag(texts))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None


_runners: dict[tuple, NlpRunner] = {}


def shared_runner(entities: tuple, model: str | None, workers: int, batch_size: int) -> NlpRunner:
    key = (entities, model, workers, batch_size)
    if key not in _runners:
        _runners[key] = NlpRunner(entities, model, workers, batch_size)
    return _runners[key]


@atexit.register
def _close_runners() -> None:
    for runner in _runners.values():
        runner.close()
