"""Scrapy extensions of seedtrack."""
