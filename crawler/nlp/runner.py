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

from crawler.nlp.tagger import Tagger, TaggerSpec

_worker_tagger: Tagger | None = None
_thread_taggers: dict[TaggerSpec, Tagger] = {}


def _init_worker(spec: TaggerSpec) -> None:
    global _worker_tagger
    _worker_tagger = Tagger(spec)


def _analyse_in_worker(texts: Sequence[str], langs: Sequence[str]) -> list[dict[str, Any] | None]:
    assert _worker_tagger is not None, "worker initialiser did not run"
    return _worker_tagger.analyse(texts, langs)


def thread_tagger(spec: TaggerSpec) -> Tagger:
    """The process's tagger for this configuration, loaded on first use."""
    if spec not in _thread_taggers:
        _thread_taggers[spec] = Tagger(spec)
    return _thread_taggers[spec]


class NlpRunner:
    def __init__(self, spec: TaggerSpec, workers: int = 1):
        self.spec, self.workers = spec, workers
        self._executor: Executor | None = None

    def _get_executor(self) -> Executor:
        if self._executor is None:
            if self.workers > 0:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self.spec,),
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedtrack-nlp")
        return self._executor

    def submit(self, texts: Sequence[str], langs: Sequence[str]) -> Future:
        """Analyse a batch; the future's result is one ``Tagger.analyse`` result per text, in order."""
        executor = self._get_executor()
        if self.workers > 0:
            return executor.submit(_analyse_in_worker, list(texts), list(langs))
        return executor.submit(lambda: thread_tagger(self.spec).analyse(texts, langs))

    def warm_up(self) -> Future:
        """Start the worker and load the model now (an empty batch), so the first real batch does not wait."""
        return self.submit([], [])

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None


_runners: dict[tuple[TaggerSpec, int], NlpRunner] = {}


def shared_runner(spec: TaggerSpec, workers: int) -> NlpRunner:
    key = (spec, workers)
    if key not in _runners:
        _runners[key] = NlpRunner(spec, workers)
    return _runners[key]


@atexit.register
def _close_runners() -> None:
    for runner in _runners.values():
        runner.close()
