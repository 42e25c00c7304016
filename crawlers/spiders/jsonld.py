"""Job boards publishing schema.org JobPosting: JSON-LD first, then microdata, then visible selectors."""

from __future__ import annotations

from scrapy.http import TextResponse

from crawlers.extract import extract_all
from crawlers.jobposting import JsonLdError, find_job_posting, job_posting_fields, microdata_fields
from crawlers.spiders.base import ConfigSpider
from crawlers.stats import JSONLD_MISSING


class JsonLdSpider(ConfigSpider):
    kind = "jsonld"

    def detail_fields(self, page: TextResponse) -> dict[str, str]:
        try:
            posting = find_job_posting(page.selector)
        except JsonLdError as exc:
            self.parse_error(page.url, f"broken JSON-LD: {exc}")
            posting = None
        if posting is not None:
            structured = job_posting_fields(posting)
        else:
            self._inc(JSONLD_MISSING)
            structured = microdata_fields(page.selector)
            self.logger.info("no JSON-LD JobPosting on %s; using %s", page.url,
                             "microdata" if structured else "visible selectors")
        # Structured data wins; visible selectors fill only what it lacks (e.g. a separate contact element),
        # so a page with complete JSON-LD costs one selector, not one per field.
        missing = {name: rule for name, rule in self.config.fields.items() if not structured.get(name)}
        return {**extract_all(page.selector, missing), **structured}
