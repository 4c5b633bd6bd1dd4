"""One spider per source family; ``SPIDERS`` maps a topic source's ``kind`` to its spider class."""

from crawler.spiders.feed import FeedSpider
from crawler.spiders.gdelt import GdeltSpider
from crawler.spiders.news_search import NewsSearchSpider
from crawler.spiders.page import PageSpider
from crawler.spiders.sitemap import SitemapSpider

SPIDERS = {spider.kind: spider for spider in (FeedSpider, NewsSearchSpider, GdeltSpider, SitemapSpider, PageSpider)}
