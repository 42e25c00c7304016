"""Classifieds and boards read through the config's CSS/XPath selectors (detail pages or inline items)."""

from __future__ import annotations

from scrapy.http import TextResponse

from crawlers.extract import extract_all
from crawlers.spiders.base import ConfigSpider


class ListingSpider(ConfigSpider):
    kind = "listing"

    def detail_fields(self, page: TextResponse) -> dict[str, str]:
        return extract_all(page.selector, self.config.fields)
