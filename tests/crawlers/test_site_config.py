"""Site configs are data: the bundled ones validate, broken ones fail loudly with the file and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from minisite_server import MINI_CONFIG, write_config

from crawlers.run import CrawlError, crawl_site
from crawlers.site_config import ConfigError, get_site_config, load_site_config, load_site_configs

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_configs_cover_the_fixture_sites() -> None:
    """The three fixture sites ship as validated configs using the generic spiders, not per-site code."""
    configs = load_site_configs()
    assert set(configs) >= {"balticjobs", "skelbimai", "darbas-forum"}
    assert configs["balticjobs"].spider == "jsonld"
    assert configs["skelbimai"].spider == "listing"
    assert configs["darbas-forum"].inline
    for config in configs.values():
        assert {"title", "body"} <= set(config.required)


def test_base_url_override_moves_start_urls_and_allowed_domains() -> None:
    """Fixture servers run on ephemeral ports: overriding base_url moves start URLs and the offsite filter."""
    config = get_site_config("balticjobs", base_url="http://127.0.0.1:5555/")
    assert config.start_urls == ["http://127.0.0.1:5555/jobs?page=1"]
    assert config.domains == ["127.0.0.1"]
    assert config.config_hash() == load_site_configs()["balticjobs"].config_hash()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spider": "magic"}, "spider"),
        ({"fields": {"title": {"css": "h1"}}}, "body"),
        ({"fields": {"title": {"css": "h1[[["}, "body": {"css": "p"}}}, "invalid selector"),
        ({"fields": {"title": {"css": "h1", "xpath": "//h1"}, "body": {"css": "p"}}}, "exactly one"),
        ({"listing": {"next_page": {"css": "a"}}}, "detail_link"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"encoding": {"fallback": "klingon-8"}}, "unknown encoding"),
        ({"external_id_pattern": "/ad/(.+)"}, "ref"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_broken_config_gives_clear_error(tmp_path: Path, change: dict[str, object], message: str) -> None:
    """Each kind of mistake is rejected with a ConfigError naming the file and the offending key."""
    data = {**MINI_CONFIG, **change}
    path = _write(tmp_path, "minisite", yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_site_config(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unreadable_yaml_and_name_mismatch(tmp_path: Path) -> None:
    """Broken YAML and a name that differs from the file name are config errors, not crashes."""
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_site_config(_write(tmp_path, "bad", "name: [unclosed"))
    with pytest.raises(ConfigError, match="must match the file name"):
        load_site_config(_write(tmp_path, "other", yaml.safe_dump(MINI_CONFIG)))
    with pytest.raises(ConfigError, match="unknown site 'nope'"):
        get_site_config("nope", write_config(tmp_path / "sites"))


def test_runner_rejects_broken_config_before_crawling(tmp_path: Path) -> None:
    """The CLI exits 2 on a config error and crawl_site raises CrawlError carrying that message."""
    sites = tmp_path / "sites"
    sites.mkdir()
    _write(sites, "minisite", yaml.safe_dump({**MINI_CONFIG, "spider": "magic"}))
    done = subprocess.run(
        [sys.executable, "-m", "crawlers.run", "--site", "minisite", "--db", str(tmp_path / "x.duckdb"),
         "--sites-dir", str(sites)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )
    assert done.returncode == 2
    assert "invalid site config" in done.stderr
    with pytest.raises(CrawlError, match="invalid site config"):
        crawl_site("minisite", tmp_path / "x.duckdb", sites_dir=sites)
    assert not (tmp_path / "x.duckdb").exists()
