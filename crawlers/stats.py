"""Stat keys the spiders and the pipeline share (all under ``lurewatch/`` in Scrapy's stats)."""

from __future__ import annotations

REQUEST_ERRORS = "lurewatch/request_errors"
ENTRY_ERRORS = "lurewatch/entry_errors"  # listing pages, sitemaps or feeds that failed: the crawl is partial
PARSE_ERRORS = "lurewatch/parse_errors"
IGNORED_REQUESTS = "lurewatch/ignored_requests"
REDIRECT_LOOPS = "lurewatch/redirect_loops"
SELECTOR_MISSES = "lurewatch/selector_misses"
SELECTOR_MISS_FIELD = "lurewatch/selector_miss/"
JSONLD_MISSING = "lurewatch/jsonld_missing"
STRUCTURED_PREFIX = "lurewatch/structured/"  # per detail page: json-ld, microdata, rdfa, none (+ opengraph)
NOT_MODIFIED = "lurewatch/not_modified"  # HTTP 304 to a conditional request
SAME_BODY = "lurewatch/same_body"  # 200 with the body we already parsed
URL_FILTERED = "lurewatch/url_filtered"
TRUNCATED = "lurewatch/truncated"  # max_pages / max_sitemaps reached
ENCODING_PREFIX = "lurewatch/encoding/"  # per decision: declared, detected, corrected, ...
RUN_ID = "lurewatch/run_id"
ITEMS = "lurewatch/items"
INSERTED = "lurewatch/ads_inserted"
UPDATED = "lurewatch/ads_updated"
UNCHANGED = "lurewatch/ads_unchanged"
STATUS = "lurewatch/status"
OPEN_ERROR = "lurewatch/open_error"
