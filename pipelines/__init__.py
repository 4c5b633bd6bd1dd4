"""Scrapy item pipelines of seedtrack, one stage a module, run in this order:

validate (100) -> dedup (200) -> extract (300) -> relevance (400) -> nlp (500) -> store (600).
"""
