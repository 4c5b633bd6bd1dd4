"""Telegram (kind ``telegram``): the public web previews of channels, ``{url}/s/NAME`` (HTML).

For each of the ``channels`` option it reads the preview page, whose messages run oldest to newest, and
follows its ``?before=ID`` link to older messages down to the look-back window. Each message with text is a
post (``data-post`` ``NAME/ID`` is its id, ``{url}/NAME/ID`` its permalink, the channel its author), with
its view count and the sum of its reactions as engagement; links in it are queued as article pages.
Messages without text (a photo, a sticker) are skipped. No account is needed. Requests are two seconds
apart unless the source sets ``download_delay``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import HtmlResponse, Response

from crawler.spiders.social import SocialSpider, html_links, html_to_text

_COUNT = re.compile(r"^([\d.,]+)\s*([KMB]?)$", re.I)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def parse_count(text: str | None) -> int | None:
    """Telegram's short counts: "948", "1.2K", "3M" -> 948, 1200, 3000000."""
    match = _COUNT.match((text or "").strip())
    if not match:
        return None
    return int(float(match[1].replace(",", "")) * _SCALE[match[2].lower()])


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
        if not isinstance(response, HtmlResponse) or not response.css("div.tgme_channel_info, section.tgme_channel_history"):
            self.failed_queries.add(channel)
            self.record_error(response.url, "not a Telegram channel preview (no channel on the page): is the "
                                            "channel public and its name right?")
            return
        messages = response.css("div.tgme_widget_message[data-post]")
        reached_window = False
        for message in reversed(messages):  # newest first, like the other platforms
            created = message.css("a.tgme_widget_message_date time::attr(datetime)").get()
            if self.older_than_window(channel, created):
                reached_window = True
                continue
            yield from self.message(channel, message, created, response)
        older = response.css("a.tme_messages_more[data-before]::attr(href), link[rel=prev]::attr(href)").get()
        if older and not reached_window and page < self.max_pages:
            yield self.api_request(urljoin(response.url, older), self.parse_channel, channel,
                                   cb_kwargs={"page": page + 1})

    def message(self, channel: str, message, created: str | None, response: Response):
        post_id = message.attrib["data-post"]
        html = message.css("div.tgme_widget_message_text").get()
        reactions = [parse_count(r) for r in message.css("span.tgme_reaction::text").getall()]
        views = parse_count(message.css("span.tgme_widget_message_views::text").get())
        link = message.css("a.tgme_widget_message_date::attr(href)").get()
        yield from self.post(
            query=channel, platform_id=post_id, url=urljoin(response.url, link) if link else f"{self.base_url}/{post_id}",
            kind="post", text=html_to_text(html), created=created, author=post_id.split("/")[0],
            found_via=response.url, links=[urljoin(response.url, href) for href in html_links(html)],
            engagement={"views": views, "likes": sum(r for r in reactions if r) if reactions else None},
        )
