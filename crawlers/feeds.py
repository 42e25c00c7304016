"""Entry points besides listing pages: XML sitemaps (incl. sitemap indexes, gzipped) and RSS/Atom feeds.

Parsing is defensive: no entity expansion, no network access, recovery from broken markup, and gzipped
sitemaps are inflated only up to a size limit (a "zip bomb" is refused, not expanded).
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"


class EntryError(ValueError):
    """A sitemap or feed that cannot be read (not XML, not a sitemap/feed, too big once inflated)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, remove_comments=True, remove_pis=True,
        huge_tree=False,
    )


def inflate(body: bytes, max_bytes: int) -> bytes:
    """``body`` itself, or its gunzipped content if it is gzip data; :class:`EntryError` beyond ``max_bytes``."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise EntryError(f"broken gzip data: {exc}") from exc
    if len(data) > max_bytes:
        raise EntryError(f"gzipped sitemap inflates beyond {max_bytes} bytes")
    return data


def _root(body: bytes) -> etree._Element:
    try:
        root = etree.fromstring(body.strip() or b"<empty/>", parser=_parser())
    except (etree.LxmlError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding declared
        raise EntryError(f"not XML: {exc}") from exc
    if root is None:
        raise EntryError("not XML")
    return root


def _join(base_url: str, link: str) -> str | None:
    """``link`` made absolute, or ``None`` if it is not a usable URL (one bad entry never costs the others)."""
    try:
        url = urljoin(base_url, link.strip())
        urlsplit(url).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return url if url.startswith(("http://", "https://")) else None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""  # "{ns}loc" -> "loc"


@dataclass(frozen=True, slots=True)
class SitemapDoc:
    kind: Literal["urlset", "sitemapindex"]
    urls: list[str]


def parse_sitemap(body: bytes, base_url: str) -> SitemapDoc:
    """The ``<loc>`` URLs of a ``<urlset>`` (ad pages) or a ``<sitemapindex>`` (child sitemaps)."""
    root = _root(body)
    kind = _local(root.tag)
    if kind not in {"urlset", "sitemapindex"}:
        raise EntryError(f"not a sitemap: root element <{kind or '?'}>")
    urls: list[str] = []
    for entry in root:
        if _local(entry.tag) not in {"url", "sitemap"}:
            continue
        for child in entry:
            if _local(child.tag) == "loc" and child.text and child.text.strip():
                url = _join(base_url, child.text)
                if url is not None:
                    urls.append(url)
                break
    return SitemapDoc("urlset" if kind == "urlset" else "sitemapindex", urls)


def parse_feed(body: bytes, base_url: str) -> list[str]:
    """Entry links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in feed order."""
    root = _root(body)
    kind = _local(root.tag)
    links: list[str] = []
    if kind == "feed":  # Atom
        for entry in root:
            if _local(entry.tag) != "entry":
                continue
            hrefs = [
                (link.get("rel") or "alternate", link.get("href"))
                for link in entry if _local(link.tag) == "link" and link.get("href")
            ]
            href = next((h for rel, h in hrefs if rel == "alternate"), None)
            url = _join(base_url, href) if href else None
            if url is not None:
                links.append(url)
        return links
    if kind not in {"rss", "rdf"}:
        raise EntryError(f"not an RSS or Atom feed: root element <{kind or '?'}>")
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        link = next((c.text for c in item if _local(c.tag) == "link" and c.text and c.text.strip()), None)
        if link is None:  # RSS 2.0 without <link>: a permalink <guid>; RSS 1.0: rdf:about
            guid = next((c for c in item if _local(c.tag) == "guid" and c.text), None)
            if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
                link = guid.text
            else:
                link = next((v for k, v in item.attrib.items() if _local(k) == "about"), None)
        url = _join(base_url, link) if link and link.strip() else None
        if url is not None:
            links.append(url)
    return links
