"""Telegram (kind ``telegram``): the public web previews of channels, ``{url}/s/NAME`` (HTML).

For each of the ``channels`` option it reads the preview page, whose messages run oldest to newest, and
follows its ``?before=ID`` link to older messages down to the look-back window. Each message with text is a
post (``data-post`` ``NAME/ID`` is its id, ``{url}/NAME/ID`` its permalink, the channel its author), with
its view count and the sum of its reactions as engagement; links in it are queued as article pages.
Messages without text (a photo, a sticker) are skipped. No account is needed. Requests are two seconds
apart unless the source sets ``download_delay``.
"""

from __future__ import annotations

from scrapy.http import HtmlResponse, Response

from crawler.parsers import telegram
from crawler.parsers.posts import ApiError
from crawler.spiders.social import SocialSpider


class TelegramSpider(SocialSpider):
    name = "telegram"
    kind = "telegram"
    platform = "telegram"
    custom_settings = {"DOWNLOAD_DELAY": 2.0}  # t.me answers bursts with 429s

    async def start(self):
        for channel in self.source.options.get("channels", ()):
            yield self.api_request(f"{self.base_url}/s/{channel}", self.parse_channel, channel, cb_kwargs={"page": 1})

    def parse_channel(self, response: Response, page: int):
        channel = response.meta["query"]
        try:
            if not isinstance(response, HtmlResponse):
                raise ApiError(telegram.NO_CHANNEL)
            found = telegram.parse_channel(response.text, response.url, self.base_url)
        except ApiError as exc:
            self.query_failed(response, channel, str(exc))
            return
        posts, reached_window = self.in_window(channel, found.posts)  # newest first, like the other platforms
        for post in posts:
            yield from self.post(post, query=channel, found_via=response.url)
        if found.next and not reached_window and page < self.max_pages:
            yield self.api_request(found.next, self.parse_channel, channel, cb_kwargs={"page": page + 1})
