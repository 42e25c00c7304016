"""No contact in the logs: the access log shows request paths without query values (a search for ``+371...`` or an
e-mail address is logged as ``/?q=…``) and with phone- and e-mail-like path segments masked.

Decision notes are never logged at all (see :mod:`review_app.journal`)."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "…"
_EMAIL_LIKE = re.compile(r"[^/\s]*(?:@|%40)[^/\s]*", re.IGNORECASE)
# seven or more digits, possibly with separators (raw or percent-encoded) between them, and a leading + (or %2B)
_DIGIT_RUN = re.compile(r"(?:\+|%2B)?\d(?:(?:%20|%2B|%28|%29|[\s\-.()+])*\d){6,}", re.IGNORECASE)


def _scrub_segment(segment: str) -> str:
    segment = _EMAIL_LIKE.sub(REDACTED, segment)
    return _DIGIT_RUN.sub(REDACTED, segment)


def scrub_target(target: str) -> str:
    """A request target as it may be logged: every query value replaced by ``…`` (the names stay), and path
    segments that look like a phone number or an e-mail address masked (ad ids in ``/ads/<id>`` stay)."""
    path, _, query = target.partition("?")
    segments = path.split("/")
    kept = [
        segment if (segment.isdigit() and index > 0 and segments[index - 1] == "ads") else _scrub_segment(segment)
        for index, segment in enumerate(segments)
    ]
    scrubbed = "/".join(kept)
    if not query:
        return scrubbed + ("?" if target.endswith("?") else "")
    names = [part.split("=", 1)[0] for part in query.split("&") if part]
    return scrubbed + "?" + "&".join(f"{_scrub_segment(name)}={REDACTED}" for name in names)


class AccessLogScrubber(logging.Filter):
    """Rewrites uvicorn's access-log record (``client, method, target, http version, status``) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub_target(args[2]), *args[3:])
        return True


def install_access_log_scrubber() -> None:
    """Attach the scrubber to uvicorn's access logger (idempotent)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogScrubber) for f in logger.filters):
        logger.addFilter(AccessLogScrubber())
