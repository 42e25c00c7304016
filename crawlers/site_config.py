"""Site definitions are data: one YAML file per site, validated by :class:`SiteConfig`.

A config names the generic spider that parses the site's ad pages (``jsonld`` or ``listing``), where the ad
URLs come from (``entry``: paginated listing pages, a sitemap / sitemap index, or an RSS/Atom feed), which
URLs count as ads (``url_filter``), and how each :class:`warehouse.records.AdRow` field is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from parsel import Selector
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

SITES_DIR = Path(__file__).resolve().parent / "sites"

FieldName = Literal[
    "title", "body", "external_id", "company", "location", "country", "salary_text", "contact_text",
    "page_language", "posted",
]

_PROBE = Selector(text="<html><body><p>probe</p></body></html>")


class ConfigError(ValueError):
    """A site config file is missing, unreadable or invalid; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """How one value is read from a page or a listing element: a CSS or XPath selector.

    ``mode="text"`` joins the visible text of all matches into one line; ``mode="paragraphs"`` keeps block
    structure (paragraphs joined by a blank line); ``attr`` reads an attribute of the first match instead.
    ``regex`` (with one group, or a group named ``value``) narrows the result.
    """

    css: str | None = None
    xpath: str | None = None
    attr: str | None = None
    mode: Literal["text", "paragraphs"] = "text"
    regex: str | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> Rule:
        if (self.css is None) == (self.xpath is None):
            raise ValueError("give exactly one of 'css' or 'xpath'")
        try:
            if self.css is not None:
                _PROBE.css(self.css)
            else:
                _PROBE.xpath(self.xpath or "")
        except Exception as exc:  # parsel raises several error types for bad expressions
            raise ValueError(f"invalid selector {self.css or self.xpath!r}: {exc}") from exc
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex {self.regex!r}: {exc}") from exc
        return self


class Listing(_Strict):
    """Listing pages: where the ads are and where the next page is.

    With ``inline: true`` each ``item`` element *is* the ad (fields are read from it and its URL from
    ``permalink``); otherwise ``detail_link`` (relative to ``item`` if given, else the page) leads to details.
    """

    item: Rule | None = None
    detail_link: Rule | None = None
    next_page: Rule | None = None
    inline: bool = False
    permalink: Rule | None = None
    max_pages: int = Field(default=500, ge=1, description="Safety stop for runaway pagination.")

    @model_validator(mode="after")
    def _consistent(self) -> Listing:
        if self.inline:
            if self.item is None or self.permalink is None:
                raise ValueError("inline listings need 'item' and 'permalink'")
        elif self.detail_link is None:
            raise ValueError("listings need 'detail_link' (or 'inline: true' with 'item' and 'permalink')")
        return self


class Encoding(_Strict):
    """Encoding hints: ``fallback`` is used when neither the HTTP header nor a meta tag declares one;
    ``force`` overrides whatever the page says (for sites known to lie)."""

    fallback: str | None = None
    force: str | None = None

    @field_validator("fallback", "force")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is not None:
            import codecs

            try:
                codecs.lookup(value)
            except LookupError as exc:
                raise ValueError(f"unknown encoding {value!r}") from exc
        return value


def _compile_all(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
    return patterns


class UrlFilter(_Strict):
    """Which URLs are ad pages: a URL is kept if it matches (``re.search``) one ``allow`` pattern (or there
    are none) and no ``deny`` pattern. Applied to sitemap and feed entries and to listing detail links."""

    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)

    _allow_re: list[re.Pattern[str]] = PrivateAttr(default_factory=list)
    _deny_re: list[re.Pattern[str]] = PrivateAttr(default_factory=list)

    @field_validator("allow", "deny")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return _compile_all(value)

    def model_post_init(self, context: object, /) -> None:
        self._allow_re = [re.compile(p) for p in self.allow]
        self._deny_re = [re.compile(p) for p in self.deny]

    def accepts(self, url: str) -> bool:
        if self._allow_re and not any(p.search(url) for p in self._allow_re):
            return False
        return not any(p.search(url) for p in self._deny_re)


class Sitemap(_Strict):
    """Sitemap entry points: ``start_paths`` are sitemaps or sitemap indexes (plain or gzipped XML)."""

    follow: list[str] = Field(
        default_factory=list, description="Regexes: only child sitemaps of an index matching one are read."
    )
    from_robots: bool = Field(default=False, description="Also read the 'Sitemap:' lines of robots.txt.")
    max_sitemaps: int = Field(default=1000, ge=1, description="Safety stop for runaway sitemap indexes.")

    @field_validator("follow")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return _compile_all(value)

    def follows(self, url: str) -> bool:
        return not self.follow or any(re.search(p, url) for p in self.follow)


class Browser(_Strict):
    """How a ``render: browser`` page is considered rendered: after the ``wait_until`` load state, and (if
    given) once the CSS selector ``wait_for`` matches (a page where it never appears fails after the timeout)."""

    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"
    wait_for: str | None = None

    @field_validator("wait_for")
    @classmethod
    def _valid_css(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                _PROBE.css(value)
            except Exception as exc:
                raise ValueError(f"invalid selector {value!r}: {exc}") from exc
        return value


class Removal(_Strict):
    """Marking ads that disappeared (``ads.removed_at``) after a complete crawl of the site.

    ``enabled`` defaults to true for listing and sitemap entries (they list every live ad) and false for
    feeds (a feed shows only the latest entries). If more than ``max_fraction`` of the site's live ads
    (at least 10) would be marked at once, nothing is marked and the run raises a health alert.
    """

    enabled: bool | None = None
    max_fraction: float | None = Field(default=0.5, gt=0, le=1)


class SiteConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    spider: Literal["jsonld", "listing"]
    base_url: str
    enabled: bool = Field(default=True, description="Crawled by `lurewatch crawl` / the flow without --site.")
    site_id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="The site the ads belong to (default: name); lets a feed config feed the same site.",
    )
    entry: Literal["listing", "sitemap", "feed"] = "listing"
    render: Literal["http", "browser"] = Field(
        default="http", description="browser: listing and ad pages rendered by headless Chromium first."
    )
    browser: Browser = Field(default_factory=Browser)
    start_paths: list[str] = Field(default_factory=list)
    allowed_domains: list[str] | None = None
    listing: Listing | None = None
    sitemap: Sitemap = Field(default_factory=Sitemap)
    url_filter: UrlFilter = Field(default_factory=UrlFilter)
    removal: Removal = Field(default_factory=Removal)
    snapshot: Rule | None = Field(
        default=None, description="Region of a detail page kept as the ad's snapshot text (default: <body>)."
    )
    fields: dict[FieldName, Rule] = Field(default_factory=dict)
    required: list[FieldName] = Field(default_factory=lambda: list[FieldName](["title", "body"]))
    external_id_pattern: str | None = Field(
        default=None, description="Regex with a (?P<ref>...) group read from the URL if the page has no id."
    )
    encoding: Encoding = Field(default_factory=Encoding)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("start_paths")
    @classmethod
    def _absolute_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"start path {path!r} must start with '/'")
        return value

    @model_validator(mode="after")
    def _entry_consistent(self) -> SiteConfig:
        if not self.start_paths and not (self.entry == "sitemap" and self.sitemap.from_robots):
            raise ValueError("start_paths needs at least one path (or entry: sitemap with sitemap.from_robots)")
        if self.entry == "listing" and self.listing is None:
            raise ValueError("entry 'listing' needs a 'listing' section (or use entry: sitemap / feed)")
        if self.entry != "listing" and self.listing is not None:
            raise ValueError(f"entry {self.entry!r} takes ad URLs from the {self.entry}: drop the 'listing' section")
        return self

    @field_validator("external_id_pattern")
    @classmethod
    def _ref_group(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from exc
            if "ref" not in compiled.groupindex:
                raise ValueError("external_id_pattern needs a named group (?P<ref>...)")
        return value

    @model_validator(mode="after")
    def _required_fields_readable(self) -> SiteConfig:
        if self.spider == "listing":
            missing = [name for name in ("title", "body") if name not in self.fields]
            if missing:
                raise ValueError(f"listing spiders need selectors for {missing} under 'fields'")
        return self

    @property
    def ad_site_id(self) -> str:
        """``ads.site_id`` of the ads this config finds."""
        return self.site_id or self.name

    @property
    def marks_removals(self) -> bool:
        return self.removal.enabled if self.removal.enabled is not None else self.entry != "feed"

    @property
    def inline(self) -> bool:
        return self.listing is not None and self.listing.inline

    @property
    def domains(self) -> list[str]:
        """Hosts the crawl may visit (offsite links are dropped)."""
        return list(self.allowed_domains or [urlsplit(self.base_url).hostname or ""])

    @property
    def start_urls(self) -> list[str]:
        return [self.base_url + path for path in self.start_paths]

    def with_base_url(self, base_url: str | None) -> SiteConfig:
        """The same site served elsewhere (fixture servers run on ephemeral ports)."""
        if not base_url:
            return self
        data = self.model_dump()
        data["base_url"] = base_url
        data["allowed_domains"] = None  # derived from the new host; the configured ones belong to the old one
        return SiteConfig.model_validate(data)

    def config_hash(self) -> str:
        """Hash of everything but ``base_url``, so moving a site does not look like a selector change."""
        data = self.model_dump(mode="json", exclude={"base_url"})
        if self.render == "http":  # configs from before `render` existed keep their hash (no re-parse)
            data.pop("render")
            data.pop("browser")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def load_site_config(path: Path) -> SiteConfig:
    """Read and validate one YAML site config; raise :class:`ConfigError` naming the file and the problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read site config: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a site config must be a mapping, got {type(raw).__name__}")
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid site config: {problems}") from exc
    if config.name != path.stem:
        raise ConfigError(f"{path}: name {config.name!r} must match the file name {path.stem!r}")
    return config


def load_site_configs(dir: Path | None = None, *, include_disabled: bool = False) -> dict[str, SiteConfig]:
    """The ``*.yaml`` site configs in ``dir`` (default: the packaged ``crawlers/sites``), keyed by name;
    configs with ``enabled: false`` (examples, alternative entry points) only with ``include_disabled``."""
    directory = Path(dir) if dir is not None else SITES_DIR
    if not directory.is_dir():
        raise ConfigError(f"{directory}: site config directory does not exist")
    configs: dict[str, SiteConfig] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        config = load_site_config(path)
        if config.enabled or include_disabled:
            configs[config.name] = config
    return configs


def get_site_config(site: str, dir: Path | None = None, base_url: str | None = None) -> SiteConfig:
    """One site's config (only its own file is read, so a broken neighbour does not stop this crawl)."""
    directory = Path(dir) if dir is not None else SITES_DIR
    candidates = [directory / f"{site}.yaml", directory / f"{site}.yml"]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        known = sorted(p.stem for p in [*directory.glob("*.yaml"), *directory.glob("*.yml")])
        raise ConfigError(f"unknown site {site!r} in {directory}; known sites: {', '.join(known) or 'none'}")
    return load_site_config(path).with_base_url(base_url)
