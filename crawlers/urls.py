"""Ad URLs: one ad, one URL - fragments and tracking parameters do not make a new ad."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_",)
_TRACKING_NAMES = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_ga", "_gl"})


def canonical_ad_url(url: str) -> str:
    """``url`` without its fragment and without analytics parameters (``utm_*``, ``fbclid``, ``gclid``...);
    everything else, including parameter order, is kept (sites use query strings as ad ids)."""
    if "#" not in url and "?" not in url:
        return url
    parts = urlsplit(url)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [
            (k, v) for k, v in pairs
            if k.lower() not in _TRACKING_NAMES and not k.lower().startswith(_TRACKING_PREFIXES)
        ]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    if query == parts.query and "#" not in url:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))  # also drops an empty "#"
