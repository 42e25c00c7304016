"""The generic spiders; a site config's ``spider`` field picks one of :data:`SPIDERS`."""

from __future__ import annotations

from crawlers.spiders.base import ConfigSpider
from crawlers.spiders.jsonld import JsonLdSpider
from crawlers.spiders.listing import ListingSpider

SPIDERS: dict[str, type[ConfigSpider]] = {"jsonld": JsonLdSpider, "listing": ListingSpider}

__all__ = ["SPIDERS", "ConfigSpider", "JsonLdSpider", "ListingSpider"]
