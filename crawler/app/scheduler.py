"""The ``seedtrack schedule`` daemon: an APScheduler job per source, each run a ``seedtrack crawl`` process.

Twisted's reactor cannot be restarted, so every crawl is its own process (``python -m crawler crawl
--source NAME``); the daemon only starts them, waits for them and writes their output to its log.
Jobs live in the database's ``schedule`` table (``DuckDBJobStore``), so a restart keeps each source's
next run; a new source runs at once, a changed interval or cron starts afresh. Runs missed while the
daemon was down are coalesced into one; a source never runs twice at once (``max_instances=1``).
After ``SCHEDULE_ERROR_BUDGET`` failed runs in a row a source is paused until ``--resume NAME``.
SIGINT or SIGTERM stops the daemon cleanly: each running crawl gets SIGTERM (Scrapy's graceful stop:
the batch in hand is written and the run recorded as ``shutdown``), and the daemon exits once they have
(a crawl still running after ``SCHEDULE_STOP_TIMEOUT`` is killed: a killed crawl loses no committed row).
With ``REDIS_URL`` set (``schedule --redis``) a run is handed to the workers serving that Redis
(``distributed/serve.py``) instead of started here.
"""

from __future__ import annotations

import fcntl
import logging
import logging.handlers
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.compat import restore_job
from crawler.storage import Database, DatabaseError, jobs
from crawler.app.overrides import project_scrapy_settings
from crawler.topic import Source, Topic

logger = logging.getLogger("seedtrack.schedule")
_daemon: "ScheduleDaemon | None" = None  # the process's daemon, called by the stored jobs


def run_source(name: str) -> None:
    """The function every stored job calls (by reference, so the job store can persist it)."""
    if _daemon is None:
        raise RuntimeError("no schedule daemon in this process")
    _daemon.run(name)


def trigger_for(source: Source):
    if source.cron:
        minute, hour, day, month, weekday = source.cron.split()
        return CronTrigger(minute=minute, hour=hour, day=day.replace("?", "*"), month=month,
                           day_of_week=cron_weekdays(weekday), timezone=timezone.utc)
    return IntervalTrigger(seconds=source.interval_seconds, timezone=timezone.utc)


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 and 7 are Sunday) in APScheduler 3's terms, which number Monday 0:
    numbers become day names (names mean the same in both)."""
    if field in ("*", "?"):
        return "*"
    days = []
    for token in field.split(","):
        base, _, step = token.partition("/")
        if not re.fullmatch(r"\*|\d+(-\d+)?", base):
            days.append(token)
            continue
        low, _, high = base.replace("*", "0-6").partition("-")
        last = int(high) if high else (6 if step else int(low))
        days += [_CRON_DAYS[day % 7] for day in range(int(low), last + 1, int(step or 1))]
    return ",".join(dict.fromkeys(days))


def naive_utc(when: datetime | None) -> datetime | None:
    return when.astimezone(timezone.utc).replace(tzinfo=None) if when is not None else None


class DuckDBJobStore(MemoryJobStore):
    """APScheduler jobs kept in memory and written through to the ``schedule`` table on every change."""

    def __init__(self, database: Database):
        super().__init__()
        self.database = database

    def start(self, scheduler, alias) -> None:
        super().start(scheduler, alias)
        for source, state in jobs.stored_jobs(self.database):
            try:
                job_state = pickle.loads(state)  # noqa: S301 (written by this daemon into the user's own file)
                job_state["jobstore"] = self
                job = restore_job(Job, job_state, scheduler, alias)
            except Exception as exc:  # e.g. written by another APScheduler version: scheduled afresh
                logger.warning("stored schedule of %s unreadable (%s); it is scheduled afresh", source, exc)
                continue
            super().add_job(job)

    def add_job(self, job) -> None:
        super().add_job(job)
        self._save(job)

    def update_job(self, job) -> None:
        super().update_job(job)
        self._save(job)

    def remove_job(self, job_id) -> None:
        super().remove_job(job_id)
        self._write(jobs.remove_jobs, job_id)

    def remove_all_jobs(self) -> None:
        super().remove_all_jobs()
        self._write(jobs.remove_jobs)

    def shutdown(self) -> None:
        super().remove_all_jobs()  # only forgets them in memory: the table keeps the schedule

    def _save(self, job) -> None:
        state = pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)
        self._write(jobs.save_job, job.id, str(job.trigger), naive_utc(job.next_run_time), state)

    def _write(self, write, *args) -> None:
        """Write through; a failure is logged and the jobs in memory stay right (an exception here would end
        APScheduler's thread: the daemon would live on and run nothing). The next change writes them again."""
        try:
            write(self.database, *args)
        except DatabaseError as exc:
            logger.error("could not save the schedule to %s (%s); it is kept in memory and saved with the next "
                         "change", self.database.path, exc)


def setup_logging(log_file: Path, max_bytes: int, backups: int) -> None:
    """The daemon's log: stderr and a rotating file (the daemon is the file's only writer)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = [logging.StreamHandler(sys.stderr),
                logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")]
    for handler in handlers:
        handler.setFormatter(formatter)
    for name in ("seedtrack", "apscheduler"):
        log = logging.getLogger(name)
        log.setLevel(logging.INFO)
        for handler in handlers:
            log.addHandler(handler)


class ScheduleDaemon:
    def __init__(self, topic: Topic, db: Path, overrides: Mapping[str, str] = ()):
        self.topic, self.db, self.overrides = topic, Path(db), dict(overrides)
        self.settings = project_scrapy_settings(self.overrides)
        self.database = Database(self.db)
        self.sources = {s.name: s for s in topic.sources if s.enabled}
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            jobstores={"default": DuckDBJobStore(self.database)},
            executors={"default": ThreadPoolExecutor(self.settings.getint("SCHEDULE_MAX_CRAWLS"))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone.utc,
        )

    # -- the daemon's life --------------------------------------------------------------------------

    def serve(self, resume: list[str] = ()) -> int:
        """Run until SIGINT or SIGTERM; returns the exit status."""
        global _daemon
        lock = self._lock_database()
        _daemon = self
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, _frame: self.stop(signal.Signals(signum).name))
        self.scheduler.start(paused=True)
        self.sync_jobs(resume)
        self.scheduler.resume()
        logger.info("scheduling %d sources of %s into %s; log in %s", len(self.sources), self.topic.path,
                    self.db, self.log_file())
        while not self.stopping.wait(1.0):
            pass
        self.scheduler.pause()
        with self._lock:
            running = dict(self.children)
        for name, child in running.items():
            logger.info("asking the running crawl of %s (pid %d) to finish its batch and stop", name, child.pid)
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.getfloat("SCHEDULE_STOP_TIMEOUT")
        for name, child in running.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("%s: crawl (pid %d) still running after SCHEDULE_STOP_TIMEOUT: killed; the next run "
                             "completes what it had not written", name, child.pid)
                child.kill()
        self.scheduler.shutdown(wait=True)
        logger.info("stopped")
        _daemon = None
        lock.close()
        return 0

    def stop(self, why: str = "stop") -> None:
        if not self.stopping.is_set():
            logger.info("%s received: stopping", why)
        self.stopping.set()

    def log_file(self) -> Path:
        return Path(self.settings.get("SCHEDULE_LOG_FILE") or self.db.parent / "seedtrack.log")

    def _lock_database(self):
        """One daemon per database file: a second one would run every source twice."""
        path = self.db.with_name(self.db.name + ".schedule.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 (held for the daemon's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise SystemExit(f"seedtrack: error: another `seedtrack schedule` (pid {handle.read().strip() or '?'}) "
                             f"is running on {self.db}; stop it first") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def sync_jobs(self, resume: list[str] = ()) -> None:
        """Make the stored jobs match the topic: keep each unchanged one's next run, add new, drop removed."""
        for job in self.scheduler.get_jobs():
            if job.id not in self.sources:
                logger.info("%s is no longer an enabled source of the topic: unscheduled", job.id)
                job.remove()
        for name, source in self.sources.items():
            trigger = trigger_for(source)
            job = self.scheduler.get_job(name)
            if job is not None and str(job.trigger) == str(trigger):
                if job.next_run_time is None and name in resume:
                    self._set_health(name, failures=0, paused_reason=None)
                    job.modify(next_run_time=datetime.now(timezone.utc))
                    logger.info("%s resumed", name)
                continue
            self.scheduler.add_job(run_source, trigger, args=[name], id=name, name=name, replace_existing=True,
                                   next_run_time=datetime.now(timezone.utc))
            self._set_health(name, failures=0, paused_reason=None)
        for name in resume:
            if name not in self.sources:
                raise SystemExit(f"seedtrack: error: --resume {name}: not an enabled source of {self.topic.path}")

    # -- one run ------------------------------------------------------------------------------------

    def run(self, name: str) -> None:
        """In an executor thread: crawl one source in its own process, then account for the outcome."""
        if self.stopping.is_set():
            return
        if self.settings.get("REDIS_URL"):
            self._hand_off(name)
            return
        command = [sys.executable, "-m", "crawler", "crawl", "--topic", self.topic.path, "--db", str(self.db),
                   "--source", name, "-q"]
        for key, value in self.overrides.items():
            command += ["--set", f"{key}={value}"]
        with self._lock:
            if self.stopping.is_set():
                return
            # its own session: a Ctrl-C in the terminal reaches the daemon, which stops each crawl once
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     errors="replace", start_new_session=True)
            self.children[name] = child
        logger.info("%s: crawl started (pid %d)", name, child.pid)
        crawl_log = logging.getLogger(f"seedtrack.crawl.{name}")
        for line in child.stdout:
            if line.strip():
                crawl_log.info("%s", line.rstrip())
        code = child.wait()
        with self._lock:
            self.children.pop(name, None)
        if self.stopping.is_set():
            logger.info("%s: crawl stopped for shutdown (exit %d)", name, code)
            return
        try:
            self._account(name, code)
        except DatabaseError as exc:
            logger.error("%s: could not record the outcome of its crawl (exit %d): %s", name, code, exc)

    def _hand_off(self, name: str) -> None:
        from crawler.distributed.keys import Keys
        from crawler.distributed.serve import hand_off
        from crawler.distributed.worker import client

        settings = self.settings.copy()
        settings.set("SEEDTRACK_DB", str(self.db), priority="cmdline")
        try:
            run = hand_off(client(settings), Keys.from_settings(settings), name)
        except Exception as exc:  # noqa: BLE001 - Redis down: a failed run, counted against the error budget
            logger.error("%s: could not hand the run to the workers: %s", name, exc)
            self._account(name, 1)
            return
        logger.info("%s: run %s handed to the workers", name, run)
        self._account(name, 0)

    def _account(self, name: str, code: int) -> None:
        failures = self._failures(name)
        if code == 0:
            logger.info("%s: crawl finished", name)
            self._set_health(name, failures=0, paused_reason=None)
            self._check_alerts(name)
            return
        failures += 1
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        budget = self.settings.getint("SCHEDULE_ERROR_BUDGET")
        logger.warning("%s: crawl failed (%s), %d in a row", name, how, failures)
        if budget and failures >= budget:
            reason = f"paused after {failures} failed runs in a row (last: {how}); resume with --resume {name}"
            logger.error("%s: %s", name, reason)
            self.scheduler.pause_job(name)
            self._set_health(name, failures=failures, paused_reason=reason)
        else:
            self._set_health(name, failures=failures, paused_reason=None)

    def _check_alerts(self, name: str) -> None:
        """After a crawl, when the topic file has [alerts]: send the spikes not sent yet (as `seedtrack alerts`)."""
        from crawler.analysis.alerts import channels_of, rules_of, send_alerts

        if not channels_of(self.topic):
            return
        try:
            sent = send_alerts(self.database, channels_of(self.topic), rules=rules_of(self.topic))
            logger.info("%s: alerts checked after its crawl, %d sent", name, len(sent))
        except Exception as exc:  # an unreachable webhook or mail server must not stop the daemon
            logger.error("%s: alerts after its crawl failed: %s", name, exc)

    def _failures(self, name: str) -> int:
        return jobs.failures(self.database, name) or 0

    def _set_health(self, name: str, failures: int, paused_reason: str | None) -> None:
        jobs.set_health(self.database, name, failures, paused_reason)


def run_schedule(topic: Topic, db: Path, overrides: Mapping[str, str] = (), resume: list[str] = ()) -> int:
    daemon = ScheduleDaemon(topic, db, overrides)
    daemon.database.migrate()
    settings = daemon.settings
    setup_logging(daemon.log_file(), settings.getint("SCHEDULE_LOG_MAX_BYTES"), settings.getint("SCHEDULE_LOG_BACKUPS"))
    return daemon.serve(list(resume))
