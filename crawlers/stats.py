"""Stat keys the spiders and the pipeline share (all under ``lurewatch/`` in Scrapy's stats)."""

from __future__ import annotations

REQUEST_ERRORS = "lurewatch/request_errors"
PARSE_ERRORS = "lurewatch/parse_errors"
IGNORED_REQUESTS = "lurewatch/ignored_requests"
SELECTOR_MISSES = "lurewatch/selector_misses"
SELECTOR_MISS_FIELD = "lurewatch/selector_miss/"
JSONLD_MISSING = "lurewatch/jsonld_missing"
RUN_ID = "lurewatch/run_id"
ITEMS = "lurewatch/items"
INSERTED = "lurewatch/ads_inserted"
UPDATED = "lurewatch/ads_updated"
UNCHANGED = "lurewatch/ads_unchanged"
STATUS = "lurewatch/status"
OPEN_ERROR = "lurewatch/open_error"
