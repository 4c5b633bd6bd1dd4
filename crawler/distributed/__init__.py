"""Crawling on several machines: workers share one frontier on Redis, one loader writes DuckDB.

``seedtrack crawl --redis URL`` makes the crawl one worker of any number (``worker.py`` sets it up): the
requests and their fingerprints live on Redis (``frontier.py``: scrapy-redis's scheduler and dupefilter,
with leases so a dead worker's requests are crawled by another), the crawl state spiders need is read
from Redis (``state.py``), and finished rows go to a Redis stream (``stream.py``, encoded by
``messages.py``). ``seedtrack load`` (``loader.py``) is the one process that writes the database.
``keys.py`` names every Redis key under one prefix, so two topics can share one Redis.
"""
