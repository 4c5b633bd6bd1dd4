"""One spider per source family; ``SPIDERS`` maps a topic source's ``kind`` to its spider class."""

from crawler.spiders.feed import FeedSpider
from crawler.spiders.gdelt import GdeltSpider
from crawler.spiders.news_search import NewsSearchSpider
from crawler.spiders.page import PageSpider
from crawler.spiders.sitemap import SitemapSpider
from crawler.spiders.bluesky import BlueskySpider
from crawler.spiders.hackernews import HackerNewsSpider
from crawler.spiders.mastodon import MastodonSpider
from crawler.spiders.reddit import RedditSpider
from crawler.spiders.telegram import TelegramSpider
from crawler.spiders.youtube import YouTubeSpider

SPIDERS = {spider.kind: spider for spider in (FeedSpider, NewsSearchSpider, GdeltSpider, SitemapSpider, PageSpider,
                                              RedditSpider, HackerNewsSpider, BlueskySpider, MastodonSpider,
                                              TelegramSpider, YouTubeSpider)}
