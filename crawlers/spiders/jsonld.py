"""Job boards publishing schema.org JobPosting: JSON-LD, microdata or RDFa first (read by extruct), then the
config's visible selectors for what the markup lacks, then OpenGraph as a last resort for title and body."""

from __future__ import annotations

from scrapy.http import TextResponse

from crawlers.extract import extract_all
from crawlers.jobposting import opengraph_fields, structured_fields
from crawlers.spiders.base import ConfigSpider
from crawlers.stats import JSONLD_MISSING, STRUCTURED_PREFIX


class JsonLdSpider(ConfigSpider):
    kind = "jsonld"

    def detail_fields(self, page: TextResponse) -> dict[str, str]:
        found = structured_fields(page.selector, page.url)
        if found.jsonld_error is not None:
            self.parse_error(page.url, f"broken JSON-LD: {found.jsonld_error}")
        if found.source != "json-ld":
            self._inc(JSONLD_MISSING)
        self._inc(STRUCTURED_PREFIX + (found.source or "none"))
        structured = found.fields
        if found.source != "json-ld":
            self.logger.info("no JSON-LD JobPosting on %s; using %s", page.url, found.source or "visible selectors")
        # Structured data wins; visible selectors fill only what it lacks (e.g. a separate contact element),
        # so a page with complete JSON-LD costs one selector, not one per field.
        missing = {name: rule for name, rule in self.config.fields.items() if not structured.get(name)}
        fields = {**extract_all(page.selector, missing), **structured}
        if not fields.get("title") or not fields.get("body"):
            fallback = opengraph_fields(page.selector)
            if fallback.keys() - fields.keys():
                self._inc(STRUCTURED_PREFIX + "opengraph")
                fields = {**fallback, **fields}
        return fields
